// Tests for asyncio/timeouts.hpp: timeout, timeout_at, Timeout, ported from CPython's
// Lib/test/test_asyncio/test_timeouts.py (3.11.7, with the cases 3.12 and 3.13 added).
//
// Each test names the CPython test it comes from; "C++:" marks tests with no CPython twin.
// The semantics are 3.12's: a timeout converts the cancellation only if no other request
// is pending (`uncancel() <= cancelling at entry`). Times are virtual and exact.
//
// Skipped, because they cannot apply to C++:
// - test_repr_active, test_repr_expired, test_repr_finished, test_repr_disabled: reprs.
// - test_timeout_exception_cause (3.11), the __cause__/__context__ checks of
//   test_timeout_exception_context, test_foreign_exception_on_timeout,
//   test_nested_timeout_in_finally and test_timeout_taskgroup (3.12+), and all of
//   test_foreign_exception_on_timeout_2 (3.12, nothing else in it): C++ exceptions carry
//   no cause or context chain. Their behaviour (which exception comes out) is ported.
// - test_timeout_already_entered, test_timeout_double_enter, test_timeout_not_entered,
//   test_timeout_without_task: a Timeout exists only inside timeout()/timeout_at(), which
//   enter it once, in the task that awaits them (a Coro cannot run outside a task).
// - test_timeout_finished, test_timeout_expired: they call cm.reschedule() after the
//   scope; here the Timeout is destroyed with the scope, so only the "expiring" state
//   (test_timeout_expiring) can be reached by a reschedule().
// - test_nested_timeouts_concurrent and test_nested_timeouts_loop_busy block the loop with
//   time.sleep() so that deadlines pass unseen; on the virtual clock they become "the outer
//   deadline comes first" and "both deadlines are due in the same loop step".
#include <asyncio/timeouts.hpp>

#include "support/async_test.hpp"
#include "support/counted.hpp"
#include "support/python_errors.hpp"
#include "support/scenario.hpp"

#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using asyncio::Coro;
using asyncio::Timeout;
using asyncio_test::counted_sleep;
using asyncio_test::elapsed;
using asyncio_test::sleep_for;
using asyncio_test::value_after;

struct KeyError : std::runtime_error {
    KeyError() : std::runtime_error("KeyError") {}
};

namespace {

Coro<int> asyncio_test_quick_value() {
    co_await asyncio::sleep(0);
    co_return 7;
}

asyncio::EventLoop::time_point now() { return asyncio::get_running_loop().time(); }
std::size_t timers() { return asyncio::testing::scheduled_timers(asyncio::get_running_loop()); }

Coro<void> counted_chain(Counted c, std::chrono::nanoseconds d) {
    (void)c;
    co_await counted_sleep(Counted{}, d);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// test_timeouts.py

// test_timeout_basic
ASYNCIO_TEST(Timeout, RaisesTimeoutErrorAndIsExpired) {
    bool expired = false;
    EXPECT_THROW(co_await asyncio::timeout(10ms,
                                           [&](Timeout& cm) -> Coro<void> {
                                               try {
                                                   co_await asyncio::sleep(10s);
                                               } catch (const asyncio::CancelledError&) {
                                                   expired = cm.expired();
                                                   throw;
                                               }
                                           }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(expired);
    EXPECT_EQ(elapsed(), 10ms);
}

// test_timeout_at_basic
ASYNCIO_TEST(Timeout, TimeoutAtRaisesTimeoutErrorAtItsDeadline) {
    const auto deadline = now() + 10ms;
    bool expired = false;
    std::optional<Timeout::time_point> when;
    EXPECT_THROW(co_await asyncio::timeout_at(deadline,
                                              [&](Timeout& cm) -> Coro<void> {
                                                  when = cm.when();
                                                  try {
                                                      co_await asyncio::sleep(10s);
                                                  } catch (const asyncio::CancelledError&) {
                                                      expired = cm.expired();
                                                      throw;
                                                  }
                                              }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(expired);
    EXPECT_EQ(when, deadline);
    EXPECT_EQ(now(), deadline);
}

// test_nested_timeouts: only the outermost of two equal deadlines raises TimeoutError
ASYNCIO_TEST(Timeout, NestedTimeoutsWithOneDeadlineOnlyTheOuterRaises) {
    const auto deadline = now() + 10ms;
    bool cancelled = false, cm1_expired = false, cm2_expired = false;
    EXPECT_THROW(co_await asyncio::timeout_at(deadline,
                                              [&](Timeout& cm1) -> Coro<void> {
                                                  try {
                                                      co_await asyncio::timeout_at(deadline, [&](Timeout& cm2) -> Coro<void> {
                                                          try {
                                                              co_await asyncio::sleep(10s);
                                                          } catch (const asyncio::CancelledError&) {
                                                              cm2_expired = cm2.expired();
                                                              throw;
                                                          }
                                                      });
                                                  } catch (const asyncio::CancelledError&) {
                                                      cancelled = true;
                                                      cm1_expired = cm1.expired();
                                                      throw;
                                                  }
                                              }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(cm1_expired);
    EXPECT_TRUE(cm2_expired);
    EXPECT_EQ(elapsed(), 10ms);
}

// test_waiter_cancelled
ASYNCIO_TEST(Timeout, TheBodySeesCancelledError) {
    bool cancelled = false;
    EXPECT_THROW(co_await asyncio::timeout(10ms,
                                           [&](Timeout&) -> Coro<void> {
                                               try {
                                                   co_await asyncio::sleep(10s);
                                               } catch (const asyncio::CancelledError&) {
                                                   cancelled = true;
                                                   throw;
                                               }
                                           }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(cancelled);
}

// test_timeout_not_called
ASYNCIO_TEST(Timeout, BodyFinishingInTimeIsNotExpired) {
    bool expired = true;
    std::optional<Timeout::time_point> when;
    co_await asyncio::timeout(10s, [&](Timeout& cm) -> Coro<void> {
        co_await asyncio::sleep(10ms);
        expired = cm.expired();
        when = cm.when();
    });
    EXPECT_FALSE(expired);
    EXPECT_EQ(when, Timeout::time_point{} + 10s);
    EXPECT_GT(when, now());
    EXPECT_EQ(elapsed(), 10ms);
    EXPECT_EQ(timers(), 0u);  // the deadline's timer is gone
}

// test_timeout_disabled
ASYNCIO_TEST(Timeout, NulloptDelayNeverExpires) {
    bool expired = true;
    std::optional<Timeout::time_point> when = now();
    std::size_t timers_in_body = 99;
    co_await asyncio::timeout(std::nullopt, [&](Timeout& cm) -> Coro<void> {
        timers_in_body = timers();
        co_await asyncio::sleep(10ms);
        expired = cm.expired();
        when = cm.when();
    });
    EXPECT_FALSE(expired);
    EXPECT_EQ(when, std::nullopt);
    EXPECT_EQ(timers_in_body, 0u);  // no timer at all
    EXPECT_EQ(elapsed(), 10ms);
}

// test_timeout_at_disabled
ASYNCIO_TEST(Timeout, NulloptDeadlineNeverExpires) {
    bool expired = true;
    std::optional<Timeout::time_point> when = now();
    co_await asyncio::timeout_at(std::nullopt, [&](Timeout& cm) -> Coro<void> {
        co_await asyncio::sleep(10ms);
        expired = cm.expired();
        when = cm.when();
    });
    EXPECT_FALSE(expired);
    EXPECT_EQ(when, std::nullopt);
    EXPECT_EQ(elapsed(), 10ms);
}

// C++ (test_timeout_disabled with math.inf): an infinite delay never fires either.
ASYNCIO_TEST(Timeout, InfiniteDelayNeverExpires) {
    constexpr auto thousand_days = std::chrono::hours(24 * 1000);
    bool expired = true;
    co_await asyncio::timeout(std::numeric_limits<double>::infinity(), [&](Timeout& cm) -> Coro<void> {
        co_await asyncio::sleep(thousand_days);
        expired = cm.expired();
    });
    EXPECT_FALSE(expired);
    co_await asyncio::timeout(std::chrono::hours::max(), [&](Timeout& cm) -> Coro<void> {
        co_await asyncio::sleep(thousand_days);
        expired = expired || cm.expired();
    });
    EXPECT_FALSE(expired);
    EXPECT_EQ(elapsed(), 2 * thousand_days);
    EXPECT_EQ(timers(), 0u);
}

// test_timeout_zero
ASYNCIO_TEST(Timeout, ZeroDelayRaisesTimeoutError) {
    const auto t0 = now();
    bool expired = false;
    std::optional<Timeout::time_point> when;
    EXPECT_THROW(co_await asyncio::timeout(0s,
                                           [&](Timeout& cm) -> Coro<void> {
                                               when = cm.when();
                                               try {
                                                   co_await asyncio::sleep(10s);
                                               } catch (const asyncio::CancelledError&) {
                                                   expired = cm.expired();
                                                   throw;
                                               }
                                           }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(expired);
    EXPECT_EQ(when, t0);
    EXPECT_EQ(elapsed(), 0s);
}

// test_timeout_zero_sleep_zero
ASYNCIO_TEST(Timeout, ZeroDelayInterruptsASleepZero) {
    const auto t0 = now();
    bool expired = false;
    EXPECT_THROW(co_await asyncio::timeout(0,
                                           [&](Timeout& cm) -> Coro<void> {
                                               try {
                                                   co_await asyncio::sleep(0);
                                               } catch (const asyncio::CancelledError&) {
                                                   expired = cm.expired();
                                                   throw;
                                               }
                                           }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(expired);
    EXPECT_EQ(now(), t0);
}

// test_timeout_in_the_past_sleep_zero
ASYNCIO_TEST(Timeout, DelayInThePastInterruptsASleepZero) {
    co_await asyncio::sleep(20s);
    const auto t0 = now();
    bool expired = false;
    std::optional<Timeout::time_point> when;
    EXPECT_THROW(co_await asyncio::timeout(-11s,
                                           [&](Timeout& cm) -> Coro<void> {
                                               when = cm.when();
                                               try {
                                                   co_await asyncio::sleep(0);
                                               } catch (const asyncio::CancelledError&) {
                                                   expired = cm.expired();
                                                   throw;
                                               }
                                           }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(expired);
    EXPECT_EQ(when, t0 - 11s);
    EXPECT_EQ(now(), t0);
}

// test_foreign_exception_passed
ASYNCIO_TEST(Timeout, ForeignExceptionPassesThrough) {
    bool expired = true;
    EXPECT_THROW(co_await asyncio::timeout(10ms,
                                           [&](Timeout& cm) -> Coro<void> {
                                               expired = cm.expired();
                                               throw KeyError();
                                               co_return;
                                           }),
                 KeyError);
    EXPECT_FALSE(expired);
    EXPECT_EQ(timers(), 0u);
}

// test_timeout_exception_context (3.12; the context chain is not ported): the body's own
// error was replaced by the cancellation of its cleanup, which becomes TimeoutError.
ASYNCIO_TEST(Timeout, CancelledCleanupOfAnErrorBecomesTimeoutError) {
    EXPECT_THROW(co_await asyncio::timeout(10ms,
                                           [&](Timeout&) -> Coro<void> {
                                               bool raised = false;
                                               try {
                                                   throw ZeroDivisionError();
                                               } catch (...) {
                                                   raised = true;
                                               }
                                               co_await asyncio::sleep(1s);  // `finally: await asyncio.sleep(1)`
                                               if (raised) throw ZeroDivisionError();
                                           }),
                 asyncio::TimeoutError);
    EXPECT_EQ(elapsed(), 10ms);
}

// test_foreign_exception_on_timeout
ASYNCIO_TEST(Timeout, ErrorRaisedInsteadOfTheCancellationPassesThrough) {
    auto crash = []() -> Coro<void> {
        try {
            co_await asyncio::sleep(1s);
        } catch (...) {
        }
        throw ZeroDivisionError();  // `finally: 1/0`
    };
    EXPECT_THROW(co_await asyncio::timeout(10ms, [&](Timeout&) -> Coro<void> { co_await crash(); }), ZeroDivisionError);
    EXPECT_EQ(elapsed(), 10ms);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// test_foreign_cancel_doesnt_timeout_if_not_expired
ASYNCIO_TEST(Timeout, ForeignCancelIsNotATimeout) {
    bool expired = true;
    EXPECT_THROW(co_await asyncio::timeout(10s,
                                           [&](Timeout& cm) -> Coro<void> {
                                               asyncio::current_task()->cancel();
                                               try {
                                                   co_await asyncio::sleep(10s);
                                               } catch (const asyncio::CancelledError&) {
                                                   expired = cm.expired();
                                                   throw;
                                               }
                                           }),
                 asyncio::CancelledError);
    EXPECT_FALSE(expired);
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_EQ(timers(), 0u);
}

// test_outer_task_is_not_cancelled
ASYNCIO_TEST(Timeout, TheTaskRunningTheTimeoutIsNotCancelled) {
    auto outer = []() -> Coro<void> { EXPECT_THROW(co_await asyncio::timeout(1ms, sleep_for(10s)), asyncio::TimeoutError); };
    auto task = asyncio::create_task(outer());
    co_await task;
    EXPECT_FALSE(task.cancelled());
    EXPECT_TRUE(task.done());
    EXPECT_EQ(task.cancelling(), 0);
    EXPECT_EQ(elapsed(), 1ms);
}

// test_nested_timeouts_concurrent: the outer deadline comes first; the inner timeout lets
// the cancellation through and only the outer raises TimeoutError.
ASYNCIO_TEST(Timeout, NestedTimeoutsTheOuterDeadlineFirst) {
    bool inner_raised_timeout = false, inner_saw_cancel = false;
    EXPECT_THROW(co_await asyncio::timeout(2ms,
                                           [&](Timeout&) -> Coro<void> {
                                               try {
                                                   co_await asyncio::timeout(100ms, sleep_for(1s));
                                               } catch (const asyncio::TimeoutError&) {
                                                   inner_raised_timeout = true;
                                               } catch (const asyncio::CancelledError&) {
                                                   inner_saw_cancel = true;
                                                   throw;
                                               }
                                           }),
                 asyncio::TimeoutError);
    EXPECT_FALSE(inner_raised_timeout);
    EXPECT_TRUE(inner_saw_cancel);
    EXPECT_EQ(elapsed(), 2ms);
}

// test_nested_timeouts_loop_busy: both deadlines are due in the same loop step (the inner
// one first, as after a busy loop). The outer deadline's cancel is an outside cancel for the
// inner timeout, which therefore lets CancelledError through (Python 3.11-3.13 agree); the
// outer raises TimeoutError and the sleep after the inner scope never runs.
ASYNCIO_TEST(Timeout, NestedTimeoutsBothDueInOneStep) {
    bool inner_raised_timeout = false, inner_expired = false, outer_expired = false, slept_after = false;
    EXPECT_THROW(co_await asyncio::timeout(100ms,
                                           [&](Timeout& cm1) -> Coro<void> {
                                               try {
                                                   co_await asyncio::timeout(10ms, [&](Timeout& cm2) -> Coro<void> {
                                                       cm1.reschedule(cm2.when());  // due with cm2, after it
                                                       try {
                                                           co_await asyncio::sleep(1s);
                                                       } catch (const asyncio::CancelledError&) {
                                                           inner_expired = cm2.expired();
                                                           outer_expired = cm1.expired();
                                                           throw;
                                                       }
                                                   });
                                               } catch (const asyncio::TimeoutError&) {
                                                   inner_raised_timeout = true;
                                               }
                                               co_await asyncio::sleep(10s);
                                               slept_after = true;
                                           }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(inner_expired);
    EXPECT_TRUE(outer_expired);
    EXPECT_FALSE(inner_raised_timeout);
    EXPECT_FALSE(slept_after);
    EXPECT_EQ(elapsed(), 10ms);
}

// test_reschedule: another task moves and removes the deadline.
ASYNCIO_TEST(Timeout, RescheduleFromAnotherTask) {
    asyncio::Future<Timeout*> fut;
    const auto deadline1 = now() + 10s;
    const auto deadline2 = deadline1 + 20s;
    bool expired_in_body = true;
    auto f = [&]() -> Coro<void> {
        co_await asyncio::timeout_at(deadline1, [&](Timeout& cm) -> Coro<void> {
            fut.set_result(&cm);
            try {
                co_await asyncio::sleep(50s);
            } catch (const asyncio::CancelledError&) {
                expired_in_body = cm.expired();
                throw;
            }
        });
    };
    auto task = asyncio::create_task(f());
    Timeout* cm = co_await fut;
    EXPECT_EQ(cm->when(), deadline1);
    cm->reschedule(deadline2);
    EXPECT_EQ(cm->when(), deadline2);
    cm->reschedule(std::nullopt);
    EXPECT_EQ(cm->when(), std::nullopt);
    EXPECT_EQ(timers(), 1u);  // the sleep(50s) alone
    task.cancel();
    EXPECT_THROW(co_await task, asyncio::CancelledError);
    EXPECT_FALSE(expired_in_body);
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_EQ(timers(), 0u);
}

// test_nested_timeout_in_finally: a timeout inside the cleanup of an expired one works and
// raises its own TimeoutError; the outer one still raises TimeoutError.
ASYNCIO_TEST(Timeout, TimeoutInTheCleanupOfAnExpiredTimeout) {
    bool inner_timeout = false;
    EXPECT_THROW(co_await asyncio::timeout(10ms,
                                           [&](Timeout&) -> Coro<void> {
                                               std::exception_ptr cancelled;
                                               try {
                                                   co_await asyncio::sleep(1s);
                                               } catch (const asyncio::CancelledError&) {
                                                   cancelled = std::current_exception();
                                               }
                                               try {
                                                   co_await asyncio::timeout(10ms, sleep_for(10s));
                                               } catch (const asyncio::TimeoutError&) {
                                                   inner_timeout = true;
                                               }
                                               if (cancelled) std::rethrow_exception(cancelled);
                                           }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(inner_timeout);
    EXPECT_EQ(elapsed(), 20ms);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// test_timeout_after_cancellation: a task that swallowed a cancellation (cancelling() is 1)
// can still use a timeout in its cleanup.
ASYNCIO_TEST(Timeout, TimeoutAfterASwallowedCancellation) {
    bool caught = false;
    try {
        asyncio::current_task()->cancel();
        co_await asyncio::sleep(1s);  // work which will be cancelled
    } catch (const asyncio::CancelledError&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 1);
    EXPECT_THROW(co_await asyncio::timeout(0.0, sleep_for(1s)), asyncio::TimeoutError);  // some cleanup
    EXPECT_EQ(asyncio::current_task()->cancelling(), 1);
    EXPECT_EQ(elapsed(), 0s);
}

// test_cancel_in_timeout_after_cancellation
ASYNCIO_TEST(Timeout, CancelInsideATimeoutAfterASwallowedCancellation) {
    try {
        asyncio::current_task()->cancel();
        co_await asyncio::sleep(1s);
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_THROW(co_await asyncio::timeout(1.0,
                                           [&](Timeout&) -> Coro<void> {
                                               asyncio::current_task()->cancel();
                                               co_await asyncio::sleep(2s);  // some cleanup
                                           }),
                 asyncio::CancelledError);
    EXPECT_EQ(elapsed(), 0s);
    EXPECT_EQ(timers(), 0u);
}

// test_timeout_expiring: reschedule() once the deadline cancelled the body raises
// RuntimeError naming the state; the body swallowed the cancellation, so the scope ends
// without TimeoutError and the task is not cancelled afterwards.
ASYNCIO_TEST(Timeout, RescheduleWhileExpiringRaisesRuntimeError) {
    bool cancelled = false, expired = false;
    std::string what = "<no RuntimeError>";
    co_await asyncio::timeout(10ms, [&](Timeout& cm) -> Coro<void> {
        try {
            co_await asyncio::sleep(1s);
        } catch (const asyncio::CancelledError&) {
            cancelled = true;
        }
        expired = cm.expired();
        try {
            cm.reschedule(now() + 20ms);
        } catch (const asyncio::RuntimeError& e) {
            what = e.what();
        }
    });
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(expired);
    EXPECT_NE(what.find("expiring"), std::string::npos) << "message: " << what;
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
    co_await asyncio::sleep(1s);  // not interrupted
    EXPECT_EQ(elapsed(), 1010ms);
}

// test_timeout_taskgroup (3.12+; the context chains are not ported): a TaskGroup under an
// expiring timeout raises its ExceptionGroup, which the timeout lets through.
ASYNCIO_TEST(Timeout, TaskGroupErrorsPassThroughAnExpiredTimeout) {
    auto task = []() -> Coro<void> {
        try {
            co_await asyncio::sleep(2s);  // will be interrupted after 10 ms
        } catch (...) {
        }
        throw ZeroDivisionError();  // crash in cleanup
    };
    std::optional<asyncio::ExceptionGroup> eg;
    try {
        co_await asyncio::timeout(10ms, [&](Timeout&) -> Coro<void> {
            co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& tg) -> Coro<void> {
                tg.create_task(task());
                bool raised = false;
                try {
                    throw asyncio::ValueError("v");
                } catch (...) {
                    raised = true;
                }
                co_await asyncio::sleep(1s);  // `finally: await asyncio.sleep(1)`
                if (raised) throw asyncio::ValueError("v");
            });
        });
    } catch (const asyncio::ExceptionGroup& e) {
        eg.emplace(e);
    }
    EXPECT_TRUE(eg.has_value());
    EXPECT_EQ(eg ? eg->exceptions().size() : 0u, 1u);
    EXPECT_TRUE(eg && !eg->exceptions().empty() && asyncio::ExceptionGroup::is_a<ZeroDivisionError>(eg->exceptions()[0]));
    EXPECT_EQ(elapsed(), 10ms);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// ---------------------------------------------------------------------------------------
// C++: deadlines, outside cancellations, the Timeout object, lifetimes

// C++: TimeoutError comes exactly at the deadline (docs/design/style.md).
ASYNCIO_TEST(Timeout, RaisesTimeoutErrorExactlyAtTheDeadline) {
    const auto t0 = now();
    EXPECT_THROW(co_await asyncio::timeout(3s, sleep_for(10s)), asyncio::TimeoutError);
    EXPECT_EQ(now() - t0, 3s);
    EXPECT_EQ(timers(), 0u);
}

// C++: the body runs inline, so the timeout ends when the body's cleanup ends.
ASYNCIO_TEST(Timeout, TimeoutErrorWaitsForTheBodysCleanup) {
    std::chrono::nanoseconds cancelled_at{-1};
    EXPECT_THROW(co_await asyncio::timeout(3s,
                                           [&](Timeout&) -> Coro<void> {
                                               std::exception_ptr cancelled;
                                               try {
                                                   co_await asyncio::sleep(10s);
                                               } catch (const asyncio::CancelledError&) {
                                                   cancelled = std::current_exception();
                                                   cancelled_at = elapsed();
                                               }
                                               if (cancelled) {
                                                   co_await asyncio::sleep(1s);  // cleanup
                                                   std::rethrow_exception(cancelled);
                                               }
                                           }),
                 asyncio::TimeoutError);
    EXPECT_EQ(cancelled_at, 3s);
    EXPECT_EQ(elapsed(), 4s);
}

// C++: the body's value is returned; no deadline, no trace.
ASYNCIO_TEST(Timeout, ReturnsTheBodysValue) {
    int v = co_await asyncio::timeout(2s, value_after(1s, 7));
    EXPECT_EQ(v, 7);
    int w = co_await asyncio::timeout(2s, [&](Timeout& cm) -> Coro<int> {
        co_await asyncio::sleep(1s);
        co_return cm.expired() ? -1 : 8;
    });
    EXPECT_EQ(w, 8);
    EXPECT_EQ(elapsed(), 2s);
    EXPECT_EQ(timers(), 0u);
    co_await asyncio::sleep(5s);  // no late cancellation from the old deadlines
    EXPECT_EQ(elapsed(), 7s);
}

// C++: an outside cancel that lands in the same loop step as the deadline (after the
// deadline fired, before the task resumed) stays CancelledError.
ASYNCIO_TEST(Timeout, OutsideCancelInTheDeadlinesStepStaysCancelledError) {
    bool expired = false;
    auto runner = [&]() -> Coro<void> {
        co_await asyncio::timeout(1s, [&](Timeout& cm) -> Coro<void> {
            try {
                co_await asyncio::sleep(10s);
            } catch (const asyncio::CancelledError&) {
                expired = cm.expired();
                throw;
            }
        });
    };
    auto t = asyncio::create_task(runner());
    // This sleep's timer is scheduled before t's deadline and is due at the same time, so
    // this task runs first in that step, after the deadline fired and before t resumes.
    co_await asyncio::sleep(1s);
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 2);  // the deadline's and ours
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(expired);
    EXPECT_EQ(elapsed(), 1s);
    EXPECT_EQ(timers(), 0u);
}

// C++: an outside cancel while the expired body cleans up stays CancelledError too.
ASYNCIO_TEST(Timeout, OutsideCancelDuringTheBodysCleanupStaysCancelledError) {
    auto runner = [&]() -> Coro<void> {
        co_await asyncio::timeout(1s, [&](Timeout&) -> Coro<void> {
            std::exception_ptr cancelled;
            try {
                co_await asyncio::sleep(10s);
            } catch (const asyncio::CancelledError&) {
                cancelled = std::current_exception();
            }
            if (cancelled) {
                try {
                    co_await asyncio::sleep(1s);  // cleanup, cancelled from outside
                } catch (const asyncio::CancelledError&) {
                }
                std::rethrow_exception(cancelled);
            }
        });
    };
    auto t = asyncio::create_task(runner());
    co_await asyncio::sleep(1500ms);
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(elapsed(), 1500ms);
}

// C++: the same-step collision from the inside: the body cancels its own task in the step
// in which an already-past deadline fires (test_cancel_in_timeout_after_cancellation's
// shape, without the earlier cancellation).
ASYNCIO_TEST(Timeout, SelfCancelInTheDeadlinesStepStaysCancelledError) {
    bool expired = false;
    EXPECT_THROW(co_await asyncio::timeout(0s,
                                           [&](Timeout& cm) -> Coro<void> {
                                               asyncio::current_task()->cancel();
                                               try {
                                                   co_await asyncio::sleep(1s);
                                               } catch (const asyncio::CancelledError&) {
                                                   expired = cm.expired();
                                                   throw;
                                               }
                                           }),
                 asyncio::CancelledError);
    EXPECT_TRUE(expired);  // the deadline fired too; the cancellation was not only its own
    EXPECT_EQ(asyncio::current_task()->cancelling(), 1);
    EXPECT_EQ(elapsed(), 0s);
}

// C++: a deadline already past runs the body up to its first suspension, which is
// interrupted at once.
ASYNCIO_TEST(Timeout, DeadlineAlreadyPastCancelsAtTheFirstSuspension) {
    co_await asyncio::sleep(5s);
    bool ran = false, resumed = false;
    EXPECT_THROW(co_await asyncio::timeout_at(now() - 1s,
                                              [&](Timeout&) -> Coro<void> {
                                                  ran = true;
                                                  co_await asyncio::sleep(5s);
                                                  resumed = true;
                                              }),
                 asyncio::TimeoutError);
    EXPECT_TRUE(ran);
    EXPECT_FALSE(resumed);
    EXPECT_EQ(elapsed(), 5s);
    EXPECT_EQ(timers(), 0u);
}

// C++: nested timeouts, the inner one fires first: it raises TimeoutError, which the outer
// scope sees as an ordinary exception (it is not expired and goes on).
ASYNCIO_TEST(Timeout, InnerTimeoutIsAnOrdinaryErrorForTheOuterOne) {
    bool caught = false, outer_expired = true;
    co_await asyncio::timeout(10s, [&](Timeout& outer) -> Coro<void> {
        try {
            co_await asyncio::timeout(1s, sleep_for(5s));
        } catch (const asyncio::TimeoutError&) {
            caught = true;
        }
        outer_expired = outer.expired();
        co_await asyncio::sleep(1s);  // the outer scope goes on
    });
    EXPECT_TRUE(caught);
    EXPECT_FALSE(outer_expired);
    EXPECT_EQ(elapsed(), 2s);
    EXPECT_EQ(timers(), 0u);
}

// C++: an inner TimeoutError that the outer body does not catch leaves the outer timeout
// unchanged (not expired, no second conversion).
ASYNCIO_TEST(Timeout, UncaughtInnerTimeoutErrorPassesThroughTheOuterOne) {
    bool outer_expired = true;
    EXPECT_THROW(co_await asyncio::timeout(10s,
                                           [&](Timeout& outer) -> Coro<void> {
                                               try {
                                                   co_await asyncio::timeout(1s, sleep_for(5s));
                                               } catch (...) {
                                                   outer_expired = outer.expired();
                                                   throw;
                                               }
                                           }),
                 asyncio::TimeoutError);
    EXPECT_FALSE(outer_expired);
    EXPECT_EQ(elapsed(), 1s);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
}

// C++: Timeout::when()/reschedule()/expired() in the callable-body form: a later deadline.
ASYNCIO_TEST(Timeout, RescheduleLaterMovesTheDeadline) {
    const auto t0 = now();
    bool expired_before = true, expired_after = false;
    std::optional<Timeout::time_point> first, second;
    EXPECT_THROW(co_await asyncio::timeout(1s,
                                           [&](Timeout& cm) -> Coro<void> {
                                               first = cm.when();
                                               co_await asyncio::sleep(500ms);
                                               cm.reschedule(*cm.when() + 2s);
                                               second = cm.when();
                                               expired_before = cm.expired();
                                               try {
                                                   co_await asyncio::sleep(10s);
                                               } catch (const asyncio::CancelledError&) {
                                                   expired_after = cm.expired();
                                                   throw;
                                               }
                                           }),
                 asyncio::TimeoutError);
    EXPECT_EQ(first, t0 + 1s);
    EXPECT_EQ(second, t0 + 3s);
    EXPECT_FALSE(expired_before);
    EXPECT_TRUE(expired_after);
    EXPECT_EQ(elapsed(), 3s);
    EXPECT_EQ(timers(), 0u);
}

// C++: an earlier deadline.
ASYNCIO_TEST(Timeout, RescheduleEarlierMovesTheDeadline) {
    EXPECT_THROW(co_await asyncio::timeout(10s,
                                           [&](Timeout& cm) -> Coro<void> {
                                               cm.reschedule(now() + 1s);
                                               co_await asyncio::sleep(5s);
                                           }),
                 asyncio::TimeoutError);
    EXPECT_EQ(elapsed(), 1s);
    EXPECT_EQ(timers(), 0u);
}

// C++: no deadline, and then a deadline again.
ASYNCIO_TEST(Timeout, RescheduleToNulloptAndBack) {
    std::size_t timers_without_deadline = 99;
    co_await asyncio::timeout(1s, [&](Timeout& cm) -> Coro<void> {
        cm.reschedule(std::nullopt);
        timers_without_deadline = timers();
        co_await asyncio::sleep(5s);
    });
    EXPECT_EQ(timers_without_deadline, 0u);
    EXPECT_EQ(elapsed(), 5s);
    EXPECT_THROW(co_await asyncio::timeout(std::nullopt,
                                           [&](Timeout& cm) -> Coro<void> {
                                               EXPECT_EQ(cm.when(), std::nullopt);
                                               cm.reschedule(now() + 2s);
                                               co_await asyncio::sleep(5s);
                                           }),
                 asyncio::TimeoutError);
    EXPECT_EQ(elapsed(), 7s);
    EXPECT_EQ(timers(), 0u);
}

// C++: a deadline moved into the past interrupts the next suspension.
ASYNCIO_TEST(Timeout, RescheduleIntoThePastInterruptsTheNextSuspension) {
    bool resumed = false;
    EXPECT_THROW(co_await asyncio::timeout(10s,
                                           [&](Timeout& cm) -> Coro<void> {
                                               co_await asyncio::sleep(1s);
                                               cm.reschedule(now() - 5s);
                                               EXPECT_EQ(cm.when(), now() - 5s);
                                               EXPECT_FALSE(cm.expired());  // not before the loop runs
                                               co_await asyncio::sleep(0);
                                               resumed = true;
                                           }),
                 asyncio::TimeoutError);
    EXPECT_FALSE(resumed);
    EXPECT_EQ(elapsed(), 1s);
}

// C++: no timer is left behind, however the scope ends.
ASYNCIO_TEST(Timeout, LeavesNoTimerBehind) {
    co_await asyncio::timeout(10s, sleep_for(1s));  // returns
    EXPECT_EQ(timers(), 0u);
    EXPECT_THROW(co_await asyncio::timeout(1s, sleep_for(10s)), asyncio::TimeoutError);
    EXPECT_EQ(timers(), 0u);
    EXPECT_THROW(co_await asyncio::timeout(10s,
                                           [&](Timeout&) -> Coro<void> {
                                               co_await asyncio::sleep(1s);
                                               throw KeyError();
                                           }),
                 KeyError);
    EXPECT_EQ(timers(), 0u);
    auto t = asyncio::create_task(asyncio::timeout(10s, sleep_for(100s)));
    co_await asyncio::sleep(1s);
    EXPECT_EQ(timers(), 2u);  // t's deadline and its sleep
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_EQ(timers(), 0u);
    EXPECT_EQ(elapsed(), 4s);
    co_await asyncio::sleep(100s);  // nothing fires late
    EXPECT_EQ(elapsed(), 104s);
}

// C++: the body's frame (and the frames it awaits) are destroyed when the timeout raises.
ASYNCIO_TEST(TimeoutLifetime, BodyFramesAreDestroyedOnTimeout) {
    Counted::reset();
    auto body = counted_chain(Counted{}, 10s);
    EXPECT_EQ(Counted::alive(), 1);
    EXPECT_THROW(co_await asyncio::timeout(1s, std::move(body)), asyncio::TimeoutError);
    EXPECT_EQ(Counted::alive(), 0);
    EXPECT_EQ(elapsed(), 1s);
}

// C++: ... and when the task running the timeout is cancelled from outside.
ASYNCIO_TEST(TimeoutLifetime, BodyFramesAreDestroyedOnOutsideCancel) {
    Counted::reset();
    auto runner = []() -> Coro<void> { co_await asyncio::timeout(10s, counted_chain(Counted{}, 100s)); };
    auto t = asyncio::create_task(runner());
    co_await asyncio::sleep(1s);
    // counted_chain's and counted_sleep's parameters, and the two temporaries that live in
    // the co_await expressions that create them
    EXPECT_EQ(Counted::alive(), 4);
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_EQ(Counted::alive(), 0);
    EXPECT_EQ(timers(), 0u);
    EXPECT_EQ(elapsed(), 1s);
}

// C++: ... and when the body fails with its own error.
ASYNCIO_TEST(TimeoutLifetime, BodyFramesAreDestroyedOnAnError) {
    Counted::reset();
    auto failing = [](Counted c) -> Coro<void> {
        (void)c;
        co_await asyncio::sleep(1s);
        throw KeyError();
    };
    auto body = failing(Counted{});
    EXPECT_THROW(co_await asyncio::timeout(10s, std::move(body)), KeyError);
    EXPECT_EQ(Counted::alive(), 0);
    EXPECT_EQ(elapsed(), 1s);
}

// docs/design/style.md: any awaitable is a body, here a bare sleep.
ASYNCIO_TEST(Timeout, AcceptsAnAwaitableAsTheBody) {
    auto t0 = asyncio::get_running_loop().time();
    EXPECT_THROW(co_await asyncio::timeout(3s, asyncio::sleep(10s)), asyncio::TimeoutError);
    EXPECT_EQ(asyncio::get_running_loop().time() - t0, 3s);
    auto quick = asyncio::create_task(asyncio_test_quick_value());
    EXPECT_EQ(co_await asyncio::timeout(1s, quick), 7);
}
