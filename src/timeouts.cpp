// src/timeouts.cpp: Timeout's state machine (Lib/asyncio/timeouts.py).
#include <asyncio/timeouts.hpp>

#include <string>

namespace asyncio {

Timeout::Alarm::~Alarm() {
    withdraw();
    release_slot(loop);
}

void Timeout::Alarm::withdraw() noexcept {
    if (loop) detail::LoopAccess::timers(*loop).disarm(this);
    unschedule();
}

void Timeout::enter() {
    EventLoop& loop = get_running_loop();
    detail::TaskCore* task = detail::LoopAccess::current_task(loop);
    if (!task) throw RuntimeError("Timeout should be used inside a task");
    task->reserve_cancel();  // the alarm cancels from the loop: it must not need memory then
    alarm_.hold_slot(loop);  // nor to be queued
    task_ = task;
    cancelling_ = task->cancelling();
    alarm_.loop = &loop;
    state_ = State::entered;
    reschedule(when_);
}

void Timeout::reschedule(std::optional<time_point> when) {
    if (state_ != State::entered) {
        if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
        const char* state = state_ == State::expiring ? "expiring" : (state_ == State::expired ? "expired" : "finished");
        throw RuntimeError(std::string("Cannot change state of ") + state + " Timeout");
    }
    when_ = when;
    EventLoop& loop = *alarm_.loop;
    alarm_.withdraw();
    if (!when) return;
    // A deadline already past fires from the ready queue, behind what is queued now
    // (CPython: call_soon); a later one is a timer (CPython: call_at).
    if (*when <= loop.time()) {
        alarm_.schedule(loop);
        return;
    }
    alarm_.when = *when;
    detail::LoopAccess::timers(loop).push(&alarm_);
}

void Timeout::on_timeout() {
    task_->cancel({});
    state_ = State::expiring;
}

// The scope ends with `error` (null: the body returned):
//
//     co_await asyncio::timeout(3s, body());   // body() ends with CancelledError at 3 s
//
// Only if the cancellation is ours (no other cancel() is pending once our request is
// withdrawn) does the CancelledError become TimeoutError.
void Timeout::exit(std::exception_ptr& error) noexcept {
    alarm_.withdraw();
    if (state_ == State::expiring) {
        state_ = State::expired;
        if (task_->uncancel() <= cancelling_ && error && ExceptionGroup::is_a<CancelledError>(error))
            error = std::make_exception_ptr(TimeoutError());
    } else if (state_ == State::entered) {
        state_ = State::exited;
    }
}

}  // namespace asyncio
