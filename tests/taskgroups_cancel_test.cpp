// Tests for asyncio/taskgroups.hpp's TaskGroup.cancel() (3.15): CPython's
// Lib/test/test_asyncio/test_taskgroups.py test_taskgroup_cancel_* cases. They are not in
// any Python installed here: their expectations were checked on 3.13 with 3.15's cancel()
// patched in, with lazy tasks (the only kind here). Times are virtual and exact. The rest of
// TaskGroup: taskgroups_test.cpp.
//
// Skipped, because they cannot apply to C++:
// - test_taskgroup_cancel_before_enter, test_taskgroup_cancel_after_exit: the group only
//   exists inside TaskGroup::run(body), which enters it once, and destroys it when the
//   scope ends.
#include <asyncio/taskgroups.hpp>

#include "support/async_test.hpp"
#include "support/exception_groups.hpp"
#include "support/scenario.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Task;
using asyncio::TaskGroup;
using asyncio_test::elapsed;
using asyncio_test::error_types;
using asyncio_test::group_raised_by;
using asyncio_test::sleep_for;

// ---------------------------------------------------------------------------------------
// TaskGroup.cancel() (3.15's test_taskgroup_cancel_* cases)

// test_taskgroup_cancel_children: asserting that TimeoutError is not raised
ASYNCIO_TEST(TaskGroupCancel, CancelsTheChildrenAndEndsWithoutAnError) {
    co_await asyncio::timeout(1s, [&](asyncio::Timeout&) -> Coro<void> {
        co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
            tg.create_task(sleep_for(10s));
            tg.create_task(sleep_for(10s));
            co_await asyncio::sleep(0);
            tg.cancel();
        });
    });
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// test_taskgroup_cancel_body
ASYNCIO_TEST(TaskGroupCancel, InterruptsTheBodyAtItsNextAwait) {
    int count = 0;
    co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        tg.cancel();
        count += 1;
        co_await asyncio::sleep(0);
        count += 1;
    });
    EXPECT_EQ(count, 1);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// test_taskgroup_cancel_idempotent
ASYNCIO_TEST(TaskGroupCancel, IsIdempotent) {
    int count = 0;
    co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        tg.cancel();
        tg.cancel();
        count += 1;
        co_await asyncio::sleep(0);
        count += 1;
    });
    EXPECT_EQ(count, 1);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// test_taskgroup_cancel_before_create_task
ASYNCIO_TEST(TaskGroupCancel, CreateTaskAfterCancelRaisesRuntimeError) {
    bool rejected = false;
    co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        tg.cancel();
        try {
            tg.create_task(sleep_for(1s));
        } catch (const asyncio::RuntimeError&) {
            rejected = true;
        }
        co_return;
    });
    EXPECT_TRUE(rejected);
    EXPECT_EQ(elapsed(), 0s);
}

// test_taskgroup_cancel_before_exception
ASYNCIO_TEST(TaskGroupCancel, ChildCancellingTheGroupThenFailingStillRaises) {
    auto raise_exc = [](TaskGroup& parent_tg) -> Coro<void> {
        parent_tg.cancel();
        throw asyncio::RuntimeError("child");
        co_return;
    };
    auto eg = co_await group_raised_by(TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        tg.create_task(raise_exc(tg));
        co_await asyncio::sleep(1s);
    }));
    EXPECT_EQ(error_types(eg), "{RuntimeError}");
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// test_taskgroup_cancel_after_exception
ASYNCIO_TEST(TaskGroupCancel, ChildFailingThenCancellingTheGroupStillRaises) {
    auto raise_exc = [](TaskGroup& parent_tg) -> Coro<void> {
        try {
            throw asyncio::RuntimeError("child");
        } catch (...) {
            parent_tg.cancel();  // `finally: parent_tg.cancel()`
            throw;
        }
        co_return;
    };
    auto eg = co_await group_raised_by(TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        tg.create_task(raise_exc(tg));
        co_await asyncio::sleep(1s);
    }));
    EXPECT_EQ(error_types(eg), "{RuntimeError}");
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// test_taskgroup_body_cancel_before_exception. That test expects the ExceptionGroup when
// the child has already raised inside create_task (eager tasks). Tasks here are lazy: the
// child is cancelled before its first step, never raises, and the group ends quietly, as
// CPython's lazy tasks do (checked on 3.13 with 3.15's cancel() and exit patched in).
ASYNCIO_TEST(TaskGroupCancel, BodyCancellingBeforeTheChildStartsEndsQuietly) {
    bool ran = false;
    auto raise_exc = [&]() -> Coro<void> {
        ran = true;
        throw asyncio::RuntimeError("child");
        co_return;
    };
    Task<void> child;
    bool slept = false;
    co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        child = tg.create_task(raise_exc());
        tg.cancel();
        co_await asyncio::sleep(1s);
        slept = true;
    });
    EXPECT_FALSE(ran);
    EXPECT_FALSE(slept);
    EXPECT_TRUE(child.cancelled());
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// test_taskgroup_body_cancel_after_exception
ASYNCIO_TEST(TaskGroupCancel, BodyCancellingAfterAChildFailedStillRaises) {
    auto raise_exc = []() -> Coro<void> {
        throw asyncio::RuntimeError("child");
        co_return;
    };
    auto eg = co_await group_raised_by(TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        tg.create_task(raise_exc());
        bool interrupted = false;
        try {
            co_await asyncio::sleep(0);
        } catch (const asyncio::CancelledError&) {
            interrupted = true;  // the group already cancelled the body for the error
        }
        tg.cancel();
        if (interrupted) throw asyncio::CancelledError();
        co_await asyncio::sleep(1s);
    }));
    EXPECT_EQ(error_types(eg), "{RuntimeError}");
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// test_taskgroup_cancel_one_winner: the first to finish cancels the rest of a race. The
// record is the one of CPython's lazy tasks (3.13 with 3.15's cancel() patched in): race's
// children start after trigger_event, fn_1 finds the event set and wins at once, and fn_2's
// task is cancelled before it starts.
ASYNCIO_TEST(TaskGroupCancel, FirstToFinishWinsARace) {
    asyncio::Event event;
    std::vector<std::string> record;
    auto fn_1 = [&]() -> Coro<int> {
        record.push_back("1 started");
        co_await event.wait();
        record.push_back("1 finished");
        co_return 1;
    };
    auto fn_2 = [&]() -> Coro<int> {
        record.push_back("2 started");
        co_await event.wait();
        record.push_back("2 finished");
        co_return 2;
    };
    auto trigger_event = [&]() -> Coro<void> {
        record.push_back("triggering event");
        event.set();
        record.push_back("event triggered");
        co_return;
    };
    auto race = [&]() -> Coro<int> {
        std::optional<int> outcome;
        auto run_one = [&](TaskGroup& tg, Coro<int> fn) -> Coro<void> {
            outcome = co_await std::move(fn);
            tg.cancel();
        };
        co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
            tg.create_task(run_one(tg, fn_1()));
            tg.create_task(run_one(tg, fn_2()));
            co_return;
        });
        co_return outcome.value_or(0);
    };
    Task<int> fut;
    co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        fut = tg.create_task(race());
        tg.create_task(trigger_event());
        co_return;
    });
    EXPECT_EQ(fut.result(), 1);
    EXPECT_EQ(record, (std::vector<std::string>{"triggering event", "event triggered", "1 started", "1 finished"}));
    EXPECT_EQ(elapsed(), 0s);
}

// Like test_taskgroup_cancel_one_winner with both racers waiting when the event is set:
// the loser, woken in the same step, is cancelled before it runs again.
ASYNCIO_TEST(TaskGroupCancel, FirstToFinishWinsARaceOfWaitingRacers) {
    asyncio::Event event;
    std::vector<std::string> record;
    auto fn = [&](int i) -> Coro<int> {
        record.push_back(std::to_string(i) + " started");
        co_await event.wait();
        record.push_back(std::to_string(i) + " finished");
        co_return i;
    };
    auto trigger_event = [&]() -> Coro<void> {
        co_await asyncio::sleep(1s);
        record.push_back("triggering event");
        event.set();
        record.push_back("event triggered");
    };
    auto race = [&]() -> Coro<int> {
        std::optional<int> outcome;
        auto run_one = [&](TaskGroup& tg, Coro<int> f) -> Coro<void> {
            outcome = co_await std::move(f);
            tg.cancel();
        };
        co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
            tg.create_task(run_one(tg, fn(1)));
            tg.create_task(run_one(tg, fn(2)));
            co_return;
        });
        co_return outcome.value_or(0);
    };
    Task<int> fut;
    co_await TaskGroup::run([&](TaskGroup& tg) -> Coro<void> {
        fut = tg.create_task(race());
        tg.create_task(trigger_event());
        co_return;
    });
    EXPECT_EQ(fut.result(), 1);
    EXPECT_EQ(record, (std::vector<std::string>{"1 started", "2 started", "triggering event", "event triggered", "1 finished"}));
    EXPECT_EQ(elapsed(), 1s);
}
