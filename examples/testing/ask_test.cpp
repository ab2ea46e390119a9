// examples/testing/ask_test.cpp: docs/testing.md's example, a user's GoogleTest tests of
// their own coroutine on the virtual clock. Built in the project's tests and, against the
// installed package, by tests/consumer/find_package.
#include <asyncio.hpp>
#include <asyncio/testing.hpp>
#include <asyncio/testing/gtest.hpp>

#include <chrono>
#include <optional>
#include <string>

using namespace std::chrono_literals;

// The code under test: sends a request and waits up to 30 seconds for the reply, at most
// `attempts` times; nullopt if no reply came.
asyncio::Coro<std::optional<std::string>> ask(asyncio::Queue<std::string>& requests,
                                              asyncio::Queue<std::string>& replies, int attempts) {
    for (int i = 1; i <= attempts; ++i) {
        requests.put_nowait("ping " + std::to_string(i));
        try {
            co_return co_await asyncio::wait_for(replies.get(), 30);
        } catch (const asyncio::TimeoutError&) {
            // no reply in time: ask again
        }
    }
    co_return std::nullopt;
}

// The virtual clock starts at zero in each test.
std::chrono::nanoseconds now() { return asyncio::get_running_loop().time().time_since_epoch(); }

// Three 30-second timeouts: 90 seconds of virtual time, a few microseconds of real time.
ASYNCIO_TEST(Ask, GivesUpAfterThreeTimeouts) {
    asyncio::Queue<std::string> requests, replies;
    std::optional<std::string> answer = co_await ask(requests, replies, 3);
    EXPECT_FALSE(answer.has_value());
    EXPECT_EQ(now(), 90s);
    EXPECT_EQ(requests.qsize(), 3u);
}

// A server that answers only the second request, 5 seconds after it came.
ASYNCIO_TEST(Ask, TakesTheReplyToTheSecondRequest) {
    asyncio::Queue<std::string> requests, replies;
    auto server = asyncio::create_task([&]() -> asyncio::Coro<void> {
        co_await requests.get();                       // the first: no answer
        std::string second = co_await requests.get();  // at 30 s
        co_await asyncio::sleep(5);
        co_await replies.put("pong to " + second);
    });
    std::optional<std::string> answer = co_await ask(requests, replies, 3);
    EXPECT_EQ(answer, "pong to ping 2");
    EXPECT_EQ(now(), 35s);
    co_await server;
}

// run_until_idle(): everything that can happen without time passing has happened.
ASYNCIO_TEST(Ask, SendsTheFirstRequestAtOnce) {
    asyncio::Queue<std::string> requests, replies;
    auto asking = asyncio::create_task(ask(requests, replies, 1));
    co_await asyncio::testing::run_until_idle();
    EXPECT_EQ(requests.qsize(), 1u);  // sent, and now waiting for the reply
    EXPECT_EQ(now(), 0s);
    replies.put_nowait("pong");
    std::optional<std::string> answer = co_await asking;
    EXPECT_EQ(answer, "pong");
}
