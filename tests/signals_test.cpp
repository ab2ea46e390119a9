// loop.add_signal_handler / remove_signal_handler (CPython's test_unix_events.py
// SelectorEventLoopSignalTests, as behaviour rather than mocks): handlers run as callbacks of
// the loop, the old disposition comes back, CPython's errors for bad signals. CI runs this
// file under ThreadSanitizer too.
#include "support/async_test.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::RuntimeError;
using asyncio::ValueError;

namespace {

std::atomic<int> g_c_handler_calls{0};
extern "C" void counting_handler(int) { ++g_c_handler_calls; }

// The disposition of `sig` now.
void (*handler_of(int sig))(int) {
    struct sigaction sa {};
    ::sigaction(sig, nullptr, &sa);
    return sa.sa_handler;
}

}  // namespace

ASYNCIO_TEST(Signals, AHandlerRunsAsACallbackOfTheLoopWithItsArguments) {
    auto& loop = asyncio::get_running_loop();
    asyncio::Event ran;
    std::vector<std::string> calls;
    auto loop_thread = std::this_thread::get_id();
    std::thread::id where;
    loop.add_signal_handler(
        SIGUSR1, [&](int n, const std::string& s) {
            calls.push_back(std::to_string(n) + s);
            where = std::this_thread::get_id();
            ran.set();
        },
        1, std::string("a"));
    ::raise(SIGUSR1);
    EXPECT_TRUE(calls.empty());  // not inside the C handler: later, as a callback
    co_await asyncio::wait_for(ran.wait(), 5);
    EXPECT_EQ(calls, std::vector<std::string>{"1a"});
    EXPECT_EQ(where, loop_thread);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
}

// CPython writes one byte per delivery and queues the handle for each.
ASYNCIO_TEST(Signals, EachDeliveryRunsTheCallbackOnce) {
    auto& loop = asyncio::get_running_loop();
    int calls = 0;
    loop.add_signal_handler(SIGUSR1, [&] { ++calls; });
    ::raise(SIGUSR1);
    ::raise(SIGUSR1);
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(calls, 2);
    loop.remove_signal_handler(SIGUSR1);
}

ASYNCIO_TEST(Signals, ASignalFromAnotherThreadWakesABlockedLoop) {
    auto& loop = asyncio::get_running_loop();
    asyncio::Event got;
    loop.add_signal_handler(SIGTERM, [&] { got.set(); });
    std::thread sender([] {
        std::this_thread::sleep_for(10ms);
        ::kill(::getpid(), SIGTERM);
    });
    co_await got.wait();  // the loop blocks in epoll until the signal arrives
    sender.join();
    EXPECT_TRUE(got.is_set());
    loop.remove_signal_handler(SIGTERM);
}

ASYNCIO_TEST(Signals, ReplacingAHandlerKeepsOneRegistration) {
    auto& loop = asyncio::get_running_loop();
    std::string which;
    loop.add_signal_handler(SIGUSR2, [&] { which += "first"; });
    loop.add_signal_handler(SIGUSR2, [&] { which += "second"; });
    ::raise(SIGUSR2);
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(which, "second");
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR2));
    EXPECT_EQ(handler_of(SIGUSR2), SIG_DFL);
}

// Beyond CPython (which sets SIG_DFL): the disposition from before comes back.
TEST(Signals, RemovalAndCloseRestoreThePreviousDisposition) {
    struct sigaction custom {};
    custom.sa_handler = counting_handler;
    sigemptyset(&custom.sa_mask);
    struct sigaction saved {};
    ASSERT_EQ(::sigaction(SIGUSR1, &custom, &saved), 0);
    {
        auto loop = asyncio::new_event_loop();
        loop->add_signal_handler(SIGUSR1, [] {});
        EXPECT_NE(handler_of(SIGUSR1), counting_handler);
        EXPECT_TRUE(loop->remove_signal_handler(SIGUSR1));
        EXPECT_EQ(handler_of(SIGUSR1), counting_handler);
        loop->add_signal_handler(SIGUSR1, [] {});
        loop->close();  // CPython's close() removes every signal handler
        EXPECT_EQ(handler_of(SIGUSR1), counting_handler);
    }
    int before = g_c_handler_calls;
    ::raise(SIGUSR1);
    EXPECT_EQ(g_c_handler_calls, before + 1);
    ::sigaction(SIGUSR1, &saved, nullptr);
}

TEST(Signals, CPythonsErrorsForSignalsThatCannotBeHandled) {
    auto loop = asyncio::new_event_loop();
    auto message = [&](int sig) -> std::string {
        try {
            loop->add_signal_handler(sig, [] {});
        } catch (const RuntimeError& e) {
            return std::string("RuntimeError: ") + e.what();
        } catch (const ValueError& e) {
            return std::string("ValueError: ") + e.what();
        }
        return "no error";
    };
    EXPECT_EQ(message(SIGKILL), "RuntimeError: sig 9 cannot be caught");
    EXPECT_EQ(message(SIGSTOP), "RuntimeError: sig 19 cannot be caught");
    EXPECT_EQ(message(0), "ValueError: sig 0 out of range(1, 65)");
    EXPECT_EQ(message(65), "ValueError: sig 65 out of range(1, 65)");
    EXPECT_EQ(message(-1), "ValueError: sig -1 out of range(1, 65)");
    EXPECT_THROW(loop->remove_signal_handler(0), ValueError);
    EXPECT_EQ(handler_of(SIGKILL), SIG_DFL);
    loop->close();
    EXPECT_EQ(message(SIGUSR1), "RuntimeError: Event loop is closed");
}

TEST(Signals, OneLoopPerSignal) {
    auto a = asyncio::new_event_loop();
    auto b = asyncio::new_event_loop();
    a->add_signal_handler(SIGUSR1, [] {});
    try {
        b->add_signal_handler(SIGUSR1, [] {});
        ADD_FAILURE();
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "sig 10 is handled by another event loop");
    }
    b->add_signal_handler(SIGUSR2, [] {});  // another signal is free
    a.reset();                              // destroying a loop closes it: SIGUSR1 is free again
    b->add_signal_handler(SIGUSR1, [] {});
    EXPECT_TRUE(b->remove_signal_handler(SIGUSR1));
    EXPECT_TRUE(b->remove_signal_handler(SIGUSR2));
    EXPECT_EQ(handler_of(SIGUSR1), SIG_DFL);
}

// A loop's own SIGINT handler takes Ctrl-C over from asyncio::run (CPython's Runner installs
// its handler only over the default, and a later signal.signal replaces it); once removed,
// Ctrl-C cancels the main task again and run() raises KeyboardInterrupt.
TEST(Signals, ASigintHandlerOfTheLoopTakesCtrlCOverFromRun) {
    int handled = 0;
    bool cancelled = false;
    EXPECT_THROW(asyncio::run([](int& h, bool& c) -> Coro<void> {
                     auto& loop = asyncio::get_running_loop();
                     loop.add_signal_handler(SIGINT, [&h] { ++h; });
                     ::raise(SIGINT);
                     for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
                     EXPECT_EQ(h, 1);
                     EXPECT_TRUE(loop.remove_signal_handler(SIGINT));
                     ::raise(SIGINT);  // the Runner's again: the main task is cancelled
                     try {
                         co_await asyncio::sleep(3600);
                     } catch (const asyncio::CancelledError&) {
                         c = true;
                         throw;
                     }
                 }(handled, cancelled)),
                 asyncio::KeyboardInterrupt);
    EXPECT_EQ(handled, 1);
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(handler_of(SIGINT), SIG_DFL);
}
