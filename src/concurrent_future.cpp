// src/concurrent_future.cpp: the thread-safe part of concurrent::Future
// (asyncio/concurrent/future.hpp), CPython's concurrent.futures._base.Future.
#include <asyncio/concurrent/future.hpp>

#include "loop_internal.hpp"

namespace asyncio::detail {

bool ConcurrentCore::cancel() {
    std::unique_lock lock(mutex_);
    if (state_ == State::running || state_ == State::finished) return false;
    if (state_ == State::cancelled) return true;
    finish(lock, State::cancelled);
    return true;
}

bool ConcurrentCore::set_running_or_notify_cancel() {
    std::lock_guard lock(mutex_);
    if (state_ == State::cancelled) return false;
    if (state_ != State::pending) throw RuntimeError("Future in unexpected state");
    state_ = State::running;
    return true;
}

bool ConcurrentCore::wait(std::optional<std::chrono::steady_clock::duration> timeout) {
    std::unique_lock lock(mutex_);
    auto is_done = [this] { return state_ == State::cancelled || state_ == State::finished; };
    if (is_done()) return true;
    if (loop_ && running_loop() == loop_)
        throw RuntimeError(
            "concurrent::Future.result() called on the thread of the event loop that must complete it: it would "
            "never return");
    if (!timeout) {
        done_.wait(lock, is_done);
        return true;
    }
    return done_.wait_for(lock, *timeout, is_done);
}

void ConcurrentCore::wait_or_raise(std::optional<std::chrono::steady_clock::duration> timeout) {
    if (!wait(timeout)) throw TimeoutError();
    std::lock_guard lock(mutex_);
    if (state_ == State::cancelled) throw CancelledError();
}

void ConcurrentCore::check_can_set() const {
    if (state_ == State::cancelled || state_ == State::finished) throw InvalidStateError("invalid state: the future is done");
}

void ConcurrentCore::set_exception(std::exception_ptr e) {
    if (!e) throw ValueError("set_exception() needs an exception");
    std::unique_lock lock(mutex_);
    check_can_set();
    exception_ = std::move(e);
    finish(lock, State::finished);
}

void ConcurrentCore::finish(std::unique_lock<std::mutex>& lock, State s) {
    state_ = s;
    std::vector<std::function<void()>> callbacks = std::move(callbacks_);
    callbacks_.clear();
    done_.notify_all();  // under the lock: a waiter that wakes may free the state
    lock.unlock();
    for (auto& f : callbacks) {
        try {
            f();
        } catch (...) {
            print_exception_context({"exception calling callback for concurrent::Future", std::current_exception(), {}});
        }
    }
}

void ConcurrentCore::add_done_callback(std::function<void()> f) {
    {
        std::lock_guard lock(mutex_);
        if (state_ != State::cancelled && state_ != State::finished) {
            callbacks_.push_back(std::move(f));
            return;
        }
    }
    try {
        f();
    } catch (...) {
        print_exception_context({"exception calling callback for concurrent::Future", std::current_exception(), {}});
    }
}

}  // namespace asyncio::detail
