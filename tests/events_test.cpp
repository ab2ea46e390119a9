// Tests for asyncio/events.hpp: the loop (CPython's test_base_events.py, test_events.py).
#include <asyncio/events.hpp>

#include "support/async_test.hpp"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::EventLoop;

namespace {

std::unique_ptr<EventLoop> virtual_loop() { return asyncio::testing::new_event_loop(); }

// Runs `loop` until `n` callbacks of a test have stopped it (run_forever with a budget).
void run_briefly(EventLoop& loop) {
    loop.call_soon([&loop] { loop.stop(); });
    loop.run_forever();
}

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        EXPECT_EQ(::pipe(fds), 0);
        r = fds[0];
        w = fds[1];
    }
    ~Pipe() {
        ::close(r);
        ::close(w);
    }
};

}  // namespace

// test_base_events: test_call_soon
TEST(EventLoop, CallSoonRunsInFifoOrderWithArguments) {
    auto loop = virtual_loop();
    std::vector<int> order;
    loop->call_soon([&] { order.push_back(1); });
    loop->call_soon([&](int x) { order.push_back(x); }, 2);
    loop->call_soon([&] { order.push_back(3); });
    run_briefly(*loop);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

// Not in CPython: thousands of callbacks, some scheduled while others run, keep FIFO order
// (the ready queue is a list of fixed-size blocks; this crosses and recycles many of them).
TEST(EventLoop, CallSoonKeepsFifoOrderAcrossThousandsOfCallbacks) {
    auto loop = virtual_loop();
    std::vector<int> order;
    constexpr int first = 300, total = 3300;
    std::function<void(int)> step = [&](int i) {
        order.push_back(i);
        if (i + first < total) loop->call_soon(step, i + first);
        if (i == total - 1) loop->stop();
    };
    for (int i = 0; i < first; ++i) loop->call_soon(step, i);
    loop->run_forever();
    ASSERT_EQ(order.size(), static_cast<std::size_t>(total));
    for (int i = 0; i < total; ++i) ASSERT_EQ(order[static_cast<std::size_t>(i)], i);
}

// test_base_events: test_call_later, test__run_once (timers due together keep FIFO order)
TEST(EventLoop, TimersFireInDeadlineThenSchedulingOrder) {
    auto loop = virtual_loop();
    std::vector<std::string> order;
    loop->call_later(2s, [&] { order.push_back("b@2"); });
    loop->call_later(1.0, [&] { order.push_back("a@1"); });
    loop->call_later(2s, [&] { order.push_back("c@2"); });
    loop->call_at(loop->time() + 3s, [&] {
        order.push_back("stop@3");
        loop->stop();
    });
    loop->run_forever();
    EXPECT_EQ(order, (std::vector<std::string>{"a@1", "b@2", "c@2", "stop@3"}));
    EXPECT_EQ(loop->time() - EventLoop::time_point{}, 3s);
}

// test_base_events: test_call_later_negative_delays
TEST(EventLoop, NegativeDelayRunsLikeCallSoon) {
    auto loop = virtual_loop();
    std::vector<int> order;
    loop->call_later(-1s, [&] { order.push_back(1); });
    loop->call_later(-2.0, [&] { order.push_back(2); });
    run_briefly(*loop);
    EXPECT_EQ(order, (std::vector<int>{2, 1}));  // -2 s is the earlier deadline
    EXPECT_EQ(loop->time() - EventLoop::time_point{}, 0s);
}

// Not in CPython: timers scheduled in deadline order take a FIFO run, the others a heap
// (detail/timer_queue.hpp). Mixed at random, with ties, and with a third cancelled (some while
// others fire), they must still fire in (deadline, scheduling order), each exactly once.
TEST(EventLoop, TimersFireInOrderWhateverOrderTheyWereScheduledIn) {
    auto loop = virtual_loop();
    std::mt19937 rng(20261130);
    struct Timer {
        EventLoop::time_point when;
        int id;
        asyncio::TimerHandle handle;
        bool cancelled = false;
    };
    std::vector<Timer> timers;
    std::vector<int> fired;
    EventLoop::time_point rising = loop->time();
    for (int id = 0; id < 3000; ++id) {
        EventLoop::time_point when;
        if (rng() % 4 != 0) {  // mostly in deadline order, with ties
            rising += std::chrono::milliseconds(rng() % 3);
            when = rising;
        } else {
            when = loop->time() + std::chrono::milliseconds(rng() % 2000);
        }
        timers.push_back({when, id, loop->call_at(when, [&fired, id] { fired.push_back(id); })});
    }
    // A third are cancelled: half now, half from a timer in the middle of the run.
    std::vector<std::size_t> doomed;
    for (std::size_t i = 0; i < timers.size(); ++i)
        if (rng() % 3 == 0) doomed.push_back(i);
    for (std::size_t k = 0; k < doomed.size(); k += 2) {
        timers[doomed[k]].handle.cancel();
        timers[doomed[k]].cancelled = true;
    }
    loop->call_at(loop->time() + 1s, [&] {
        for (std::size_t k = 1; k < doomed.size(); k += 2) {
            Timer& t = timers[doomed[k]];
            if (t.when > loop->time()) {  // not due yet: the cancellation takes
                t.handle.cancel();
                t.cancelled = true;
            }
        }
    });
    std::vector<const Timer*> expected;
    loop->call_at(loop->time() + 1h, [&] { loop->stop(); });
    loop->run_forever();
    for (const Timer& t : timers)
        if (!t.cancelled) expected.push_back(&t);
    std::stable_sort(expected.begin(), expected.end(), [](const Timer* a, const Timer* b) { return a->when < b->when; });
    ASSERT_EQ(fired.size(), expected.size());
    for (std::size_t i = 0; i < fired.size(); ++i) ASSERT_EQ(fired[i], expected[i]->id) << "at " << i;
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 0u);
}

TEST(EventLoop, NanDelayRaisesValueError) {
    auto loop = virtual_loop();
    EXPECT_THROW(loop->call_later(std::nan(""), [] {}), asyncio::ValueError);
}

// test_events: test_handle / TimerHandle.cancel
TEST(EventLoop, CancelledHandlesDoNotRunAndTimersLeaveTheHeap) {
    auto loop = virtual_loop();
    int ran = 0;
    asyncio::Handle h = loop->call_soon([&] { ++ran; });
    asyncio::TimerHandle t = loop->call_later(5s, [&] { ++ran; });
    EXPECT_EQ(t.when() - EventLoop::time_point{}, 5s);
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 1u);
    h.cancel();
    t.cancel();
    EXPECT_TRUE(h.cancelled());
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 0u);
    run_briefly(*loop);
    EXPECT_EQ(ran, 0);
}

// test_base_events: test_run_forever_keyboard_interrupt's sibling: stop() ends after the batch
TEST(EventLoop, StopFinishesTheCurrentBatch) {
    auto loop = virtual_loop();
    std::vector<int> order;
    loop->call_soon([&] {
        order.push_back(1);
        loop->stop();
        loop->call_soon([&] { order.push_back(3); });  // next iteration: not run now
    });
    loop->call_soon([&] { order.push_back(2); });
    loop->run_forever();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_FALSE(loop->is_running());
    run_briefly(*loop);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, IsRunningInsideRunForever) {
    auto loop = virtual_loop();
    bool running = false;
    EventLoop* seen = nullptr;
    loop->call_soon([&] {
        running = loop->is_running();
        seen = &asyncio::get_running_loop();
        loop->stop();
    });
    EXPECT_FALSE(loop->is_running());
    loop->run_forever();
    EXPECT_TRUE(running);
    EXPECT_EQ(seen, loop.get());
}

// test_events: test_get_running_loop outside a loop
TEST(EventLoop, GetRunningLoopOutsideRaisesRuntimeError) {
    try {
        (void)asyncio::get_running_loop();
        ADD_FAILURE() << "no exception";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "no running event loop");
    }
}

// test_base_events: test_run_forever_reentrant / test_close_running
TEST(EventLoop, MisuseWhileRunningRaisesRuntimeError) {
    auto loop = virtual_loop();
    bool reentrant = false, close_running = false, other_loop = false;
    loop->call_soon([&] {
        try {
            loop->run_forever();
        } catch (const asyncio::RuntimeError&) {
            reentrant = true;
        }
        try {
            loop->close();
        } catch (const asyncio::RuntimeError&) {
            close_running = true;
        }
        auto other = virtual_loop();
        try {
            other->run_forever();
        } catch (const asyncio::RuntimeError&) {
            other_loop = true;
        }
        loop->stop();
    });
    loop->run_forever();
    EXPECT_TRUE(reentrant);
    EXPECT_TRUE(close_running);
    EXPECT_TRUE(other_loop);
}

// test_base_events: test_close, test_run_forever_closed
TEST(EventLoop, ClosedLoopRefusesWork) {
    auto loop = virtual_loop();
    int ran = 0;
    loop->call_soon([&] { ++ran; });
    loop->call_later(1s, [&] { ++ran; });
    EXPECT_FALSE(loop->is_closed());
    loop->close();
    loop->close();  // idempotent
    EXPECT_TRUE(loop->is_closed());
    EXPECT_EQ(ran, 0);
    EXPECT_EQ(asyncio::testing::scheduled_timers(*loop), 0u);
    EXPECT_THROW(loop->call_soon([] {}), asyncio::RuntimeError);
    EXPECT_THROW(loop->call_later(1s, [] {}), asyncio::RuntimeError);
    EXPECT_THROW(loop->call_soon_threadsafe([] {}), asyncio::RuntimeError);
    EXPECT_THROW(loop->run_forever(), asyncio::RuntimeError);
}

// The cross-thread tests of call_soon_threadsafe are in threadsafe_test.cpp (run under TSan too).

// test_events: test_add_reader / test_remove_reader
TEST(EventLoop, AddReaderCallsBackWhenPipeIsReadable) {
    auto loop = virtual_loop();
    Pipe p;
    std::string got;
    loop->add_reader(p.r, [&] {
        char buf[16];
        auto n = ::read(p.r, buf, sizeof buf);
        got.append(buf, static_cast<std::size_t>(n));
        if (got == "hello") loop->stop();
    });
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 1u);
    loop->call_soon([&] { EXPECT_EQ(::write(p.w, "hello", 5), 5); });
    loop->run_forever();
    EXPECT_EQ(got, "hello");
    EXPECT_TRUE(loop->remove_reader(p.r));
    EXPECT_FALSE(loop->remove_reader(p.r));
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 0u);
}

// test_events: test_add_writer / test_remove_writer
TEST(EventLoop, AddWriterCallsBackWhenWritable) {
    auto loop = virtual_loop();
    Pipe p;
    int calls = 0;
    loop->add_writer(p.w, [&] {
        ++calls;
        EXPECT_TRUE(loop->remove_writer(p.w));
        loop->stop();
    });
    loop->run_forever();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 0u);
    EXPECT_THROW(loop->add_reader(-1, [] {}), asyncio::ValueError);
}

TEST(EventLoop, ReaderAndWriterOnOneFdAreIndependent) {
    auto loop = virtual_loop();
    Pipe p;
    loop->add_reader(p.r, [] {});
    loop->add_writer(p.r, [] {});
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 1u);
    EXPECT_TRUE(loop->remove_writer(p.r));
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 1u);
    EXPECT_TRUE(loop->remove_reader(p.r));
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 0u);
}

// test_base_events: test_set_exc_handler_custom / test_default_exc_handler_callback
TEST(EventLoop, ExceptionInCallbackGoesToTheHandler) {
    auto loop = virtual_loop();
    std::vector<std::string> messages;
    std::string described;
    loop->set_exception_handler([&](EventLoop&, const asyncio::ExceptionContext& c) {
        messages.push_back(c.message);
        described = asyncio::describe(c.exception);
    });
    EXPECT_TRUE(static_cast<bool>(loop->get_exception_handler()));
    int after = 0;
    loop->call_soon([] { throw asyncio::ValueError("bad"); });
    loop->call_soon([&] { ++after; });  // the loop goes on
    run_briefly(*loop);
    EXPECT_EQ(messages, (std::vector<std::string>{"Exception in callback"}));
    EXPECT_EQ(described, "asyncio::ValueError: bad");
    EXPECT_EQ(after, 1);
}

TEST(EventLoop, DefaultExceptionHandlerPrintsToStderr) {
    auto loop = virtual_loop();
    loop->call_soon([] { throw asyncio::ValueError("printed"); });
    testing::internal::CaptureStderr();
    run_briefly(*loop);
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("Exception in callback"), std::string::npos);
    EXPECT_NE(err.find("asyncio::ValueError: printed"), std::string::npos);
}

TEST(EventLoop, ThrowingHandlerFallsBackToDefault) {
    auto loop = virtual_loop();
    loop->set_exception_handler([](EventLoop&, const asyncio::ExceptionContext&) { throw std::runtime_error("handler broke"); });
    testing::internal::CaptureStderr();
    loop->call_exception_handler({"original", nullptr, {}});
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("Unhandled error in exception handler"), std::string::npos);
    EXPECT_NE(err.find("original"), std::string::npos);
}

// Virtual time: a long timer is reached at once, and the clock reads exactly its deadline.
TEST(EventLoop, VirtualClockJumpsToTheNextTimer) {
    auto loop = virtual_loop();
    EXPECT_EQ(loop->time(), EventLoop::time_point{});
    EventLoop::time_point fired{};
    loop->call_later(3600s, [&] {
        fired = loop->time();
        loop->stop();
    });
    loop->run_forever();
    EXPECT_EQ(fired - EventLoop::time_point{}, 3600s);
}

TEST(EventLoop, RealClockAdvances) {
    auto loop = asyncio::new_event_loop();
    auto t0 = loop->time();
    bool fired = false;
    loop->call_later(1ms, [&] {
        fired = true;
        loop->stop();
    });
    loop->run_forever();
    EXPECT_TRUE(fired);
    EXPECT_GE(loop->time() - t0, 1ms);  // a lower bound only: never assert wall-clock upper bounds
}
