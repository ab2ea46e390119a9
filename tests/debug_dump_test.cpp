// asyncio::debug::dump_on_signal: on the signal, the loop prints its await graph.
#include "support/async_test.hpp"
#include "support/source_lines.hpp"

#include <signal.h>

#include <cstdio>
#include <string>

// A task waits on an Event; SIGUSR2 makes the loop print it, in a callback of the loop that
// runs while the test's task is queued behind its sleep(0).
ASYNCIO_TEST(DebugDump, OnTheSignalTheLoopPrintsWhatEachTaskWaitsOn) {
    std::FILE* out = std::tmpfile();
    EXPECT_NE(out, nullptr);
    asyncio::debug::dump_on_signal(SIGUSR2, out);
    asyncio::Event never;
    auto waiter = asyncio::create_task([](asyncio::Event& e) -> asyncio::Coro<void> { co_await e.wait(); }(never), "waiter");  // @wait
    co_await asyncio::sleep(0);
    ::raise(SIGUSR2);
    for (int i = 0; i < 100 && std::ftell(out) == 0; ++i) co_await asyncio::sleep(0);  // @loop
    std::string text(static_cast<std::size_t>(std::ftell(out)), '\0');
    std::rewind(out);
    EXPECT_EQ(std::fread(text.data(), 1, text.size(), out), text.size());
    const std::string me = asyncio::current_task()->get_name();
    // Two roots (neither awaits the other): this task, ready to run in its loop, and the waiter.
    const std::string file = __FILE__;
    EXPECT_EQ(asyncio_test::without_functions(asyncio_test::without_ids(text)),
              "asyncio: await graph of the loop (signal " + std::to_string(SIGUSR2) + "):\n* Task(name='" + me + "', id=ID)\n  + Call stack:\n  |   File '" + file +
                  "', line " + asyncio_test::line_of(__FILE__, "loop") + ", in async NAME\n* Task(name='waiter', id=ID)\n  + Call stack:\n  |   File '" + file + "', line " +
                  asyncio_test::line_of(__FILE__, "wait") + ", in async NAME\n  + Waits on: Event.wait()\n");
    EXPECT_TRUE(asyncio::get_running_loop().remove_signal_handler(SIGUSR2));
    never.set();
    co_await waiter;
    std::fclose(out);
}

// Without a running loop there is nothing to dump: RuntimeError, as get_running_loop.
TEST(DebugDump, NeedsARunningLoop) { EXPECT_THROW(asyncio::debug::dump_on_signal(SIGUSR2), asyncio::RuntimeError); }
