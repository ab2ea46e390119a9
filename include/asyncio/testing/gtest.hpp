// asyncio/testing/gtest.hpp: ASYNCIO_TEST, a GoogleTest test whose body is a coroutine run on
// a fresh virtual-clock loop (folly's CO_TEST, tokio's #[tokio::test(start_paused = true)]),
// and asyncio::testing::run_test, which it calls. Needs GoogleTest: link the CMake target
// asyncio::testing (asyncio::asyncio and GTest::gtest) and GTest::gtest_main.
#pragma once

#include <asyncio.hpp>
#include <asyncio/testing.hpp>

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

/// Defines the GoogleTest test `suite.name` whose body, the block that follows, is a
/// coroutine (`co_await` in it) run by `asyncio::testing::run_test` on a fresh
/// virtual-clock loop:
///
///     ASYNCIO_TEST(Timeouts, FireAtThirtySeconds) {
///         co_await asyncio::sleep(30);
///         EXPECT_EQ(asyncio::get_running_loop().time().time_since_epoch(), 30s);
///     }
///
/// Use `EXPECT_*` in the body: `ASSERT_*` `return`s, which a coroutine cannot do (write
/// `if (!cond) { ADD_FAILURE() << ...; co_return; }`). An exception that escapes the body
/// fails the test with its message, as in a plain `TEST`.
///
/// Python: none (CPython's tests use IsolatedAsyncioTestCase, on the real clock).
#define ASYNCIO_TEST(suite, name)                                                        \
    static ::asyncio::Coro<void> suite##_##name##_asyncio_body();                        \
    TEST(suite, name) { ::asyncio::testing::run_test(suite##_##name##_asyncio_body()); } \
    static ::asyncio::Coro<void> suite##_##name##_asyncio_body()

namespace asyncio::testing {

/// How much wall-clock time `run_test` gives a body: the `ASYNCIO_TEST_TIMEOUT` environment
/// variable, in seconds (a decimal number, > 0; at most 10^9), else 60 s.
///
/// Python: none.
[[nodiscard]] inline std::chrono::milliseconds test_timeout() {
    if (const char* s = std::getenv("ASYNCIO_TEST_TIMEOUT")) {  // NOLINT(concurrency-mt-unsafe): read on the test's thread; nothing sets it from another
        char* end = nullptr;
        double seconds = std::strtod(s, &end);
        if (end != s && seconds > 0) return std::chrono::milliseconds(static_cast<long long>(std::min(seconds, 1e9) * 1000));
    }
    return std::chrono::seconds(60);
}

namespace gtest_detail {

// The names of the running loop's pending tasks, sorted, comma-separated.
inline std::string pending_task_names() {
    std::vector<std::string> names;
    for (const AnyTask& t : all_tasks()) names.push_back(t.get_name());
    std::sort(names.begin(), names.end());
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

inline std::string seconds_text(std::chrono::nanoseconds d) {
    return std::to_string(std::chrono::duration<double>(d).count()) + " s";
}

// A thread that watches the wall clock while a test body runs. Past the limit it asks the
// loop (through call_soon_threadsafe, which wakes a loop waiting on nothing) to fail the test,
// naming the pending tasks, and to cancel them; past twice the limit, to stop the loop; past
// three times, or if the loop is gone (detach() was called, the runner is closing), it ends
// the process with a message: a test that never finishes does not hang the suite.
class Watchdog {
public:
    Watchdog(EventLoop& loop, std::chrono::milliseconds limit)
        : state_(std::make_shared<State>()), loop_(&loop), limit_(limit), thread_([this] { watch(); }) {}
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    // On the loop's thread, once the body is done: a report still queued is dropped, and
    // the loop is not touched from now on (the runner closes it next).
    void detach() {
        state_->finished = true;
        std::lock_guard<std::mutex> lock(mutex_);
        loop_ = nullptr;
    }

private:
    struct State {
        bool finished = false;  // read and written on the loop's thread only
    };

    void watch() {
        // Signals are for the test's thread (a SIGINT test sends one to the process).
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);
        std::unique_lock<std::mutex> lock(mutex_);
        for (int round = 1;; ++round) {
            if (cv_.wait_for(lock, limit_, [this] { return stop_; })) return;
            if (round >= 3 || loop_ == nullptr) {
                std::fprintf(stderr, "asyncio::testing::run_test: the test did not end within %s of wall time%s; aborting\n",
                             seconds_text(limit_ * round).c_str(),
                             loop_ == nullptr ? " (the runner closing its loop waits on tasks that ignore cancellation)" : "");
                std::abort();
            }
            try {
                loop_->call_soon_threadsafe([state = state_, round, limit = limit_] {
                    if (state->finished) return;
                    EventLoop& loop = get_running_loop();
                    std::string when = "after " + seconds_text(limit * round) + " of wall time, at " +
                                       seconds_text(loop.time().time_since_epoch()) + " of virtual time";
                    if (round == 1) {
                        ADD_FAILURE() << "The test's coroutine did not finish " << when
                                      << "; pending tasks: " << pending_task_names() << ". Cancelling them.";
                        for (const AnyTask& t : all_tasks()) t.cancel("test timed out");
                    } else {
                        ADD_FAILURE() << "The test's coroutine is still running " << when
                                      << ", though cancelled; pending tasks: " << pending_task_names()
                                      << ". Stopping the loop.";
                        loop.stop();
                    }
                });
            } catch (...) {  // out of memory, say: the next round tries again or aborts
            }
        }
    }

    std::shared_ptr<State> state_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    EventLoop* loop_;
    std::chrono::milliseconds limit_;
    std::thread thread_;  // last: starts once the members it reads are made
};

}  // namespace gtest_detail

/// Runs `body` as the main task of a fresh virtual-clock loop (`testing::new_event_loop`),
/// as `testing::run` does, then closes the loop. If the body has not finished after `limit`
/// of wall-clock time (a deadlock: nothing ready, no timer; or a loop that never ends), the
/// test fails with a message naming the pending tasks and they are cancelled; after twice
/// `limit` the loop is stopped; after three times the process ends (std::abort) with a
/// message.
///
/// Python: none.
/// Throws: what `body` throws (GoogleTest reports it as a failure of the test);
///   `CancelledError` if the body was cancelled for running too long; `RuntimeError("Event
///   loop stopped before Future completed.")` if it had to be stopped.
inline void run_test(Coro<void> body, std::chrono::milliseconds limit = test_timeout()) {
    Runner runner(&testing::new_event_loop);
    gtest_detail::Watchdog watchdog(runner.get_loop(), limit);  // ends before the runner
    std::exception_ptr error;
    try {
        runner.run(std::move(body));
    } catch (...) {
        error = std::current_exception();
    }
    watchdog.detach();
    runner.close();  // still watched: tasks left that ignore cancellation would hang it
    if (error) std::rethrow_exception(error);
}

}  // namespace asyncio::testing
