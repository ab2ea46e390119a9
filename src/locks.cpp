// src/locks.cpp: Lock, Condition, Semaphore, Barrier (Lib/asyncio/locks.py).
#include <asyncio/locks.hpp>

namespace asyncio {
namespace {

// The running task's id; 0 outside any task (a plain callback, or no loop running).
std::uint64_t running_task_id() noexcept {
    EventLoop* loop = detail::running_loop();
    detail::TaskCore* task = loop ? detail::LoopAccess::current_task(*loop) : nullptr;
    return task ? task->id() : 0;
}

}  // namespace

// -- LockGuard --------------------------------------------------------------------------

LockGuard& LockGuard::operator=(LockGuard&& o) noexcept {
    if (this != &o) {
        if (lock_) lock_->release_unchecked();
        lock_ = std::exchange(o.lock_, nullptr);
    }
    return *this;
}

// No owner check: the guard may be destroyed while its frame is torn down outside any task.
LockGuard::~LockGuard() {
    if (lock_) lock_->release_unchecked();
}

void LockGuard::release() {
    if (!lock_) throw RuntimeError("Lock is not acquired.");
    std::exchange(lock_, nullptr)->release();
}

// -- SemaphoreGuard ---------------------------------------------------------------------

SemaphoreGuard& SemaphoreGuard::operator=(SemaphoreGuard&& o) noexcept {
    if (this != &o) {
        if (sem_) release_quietly(sem_);
        sem_ = std::exchange(o.sem_, nullptr);
    }
    return *this;
}

SemaphoreGuard::~SemaphoreGuard() {
    if (sem_) release_quietly(sem_);
}

void SemaphoreGuard::release() {
    if (!sem_) throw RuntimeError("SemaphoreGuard holds no permit");
    std::exchange(sem_, nullptr)->release();
}

// A destructor cannot throw: what CPython's `__aexit__` would raise (BoundedSemaphore
// released too many times) goes to the exception handler, as an error in a callback does.
void SemaphoreGuard::release_quietly(Semaphore* sem) noexcept {
    try {
        sem->release();
    } catch (...) {
        EventLoop* loop = detail::running_loop();
        if (!loop) return;  // torn down outside the loop: nobody to tell
        try {
            loop->call_exception_handler({"Exception in SemaphoreGuard release", std::current_exception(), ""});
        } catch (...) {  // no memory left for the message
        }
    }
}

// -- Lock -------------------------------------------------------------------------------

std::string Lock::describe_wait() const {
    std::string s = "Lock.acquire()";
    if (locked_ && owner_ != 0) s += " (held by " + detail::task_name_by_id(owner_) + ")";
    return s;
}

void Lock::release() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    if (owner_ != running_task_id()) throw RuntimeError("Lock is not owned by the current task");
    release_unchecked();
}

void Lock::release_unchecked() noexcept {
    locked_ = false;
    owner_ = 0;
    if (woken_ == 0) wake_up_first();
}

// A queued acquire resumes: granted (woken by release) or cancelled, or both.
void Lock::on_wake_resumed(detail::WaitNode& node) {
    if (node.granted()) --woken_;
    if (node.cancelled()) {
        // Keep the invariant: a free lock with waiters has one of them on its way.
        if (!locked_ && woken_ == 0) wake_up_first();
        return;
    }
    locked_ = true;
    owner_ = node.task()->id();
}

// -- Condition --------------------------------------------------------------------------

Coro<bool> Condition::wait() {
    if (!locked()) throw RuntimeError("cannot wait on un-acquired lock");
    lock_->release();
    bool cancelled = false;
    std::string message;
    {
        detail::WaitOn w(waiters_, "Condition.wait()");
        co_await w;
        cancelled = w.cancelled();
        if (cancelled) message = w.cancel_message();
    }
    // Re-acquire the lock even when cancelled: the caller expects to hold it.
    for (;;) {
        try {
            co_await lock_->acquire();
            break;
        } catch (const CancelledError& e) {
            cancelled = true;
            message = e.message();
        }
    }
    if (cancelled) {
        // We may have been notified before the cancellation: notify another waiter instead,
        // a spurious wake-up being allowed by the protocol (CPython 3.13).
        waiters_.grant_first();
        throw CancelledError(message);
    }
    co_return true;
}

// Signed, as in CPython: notify(-1) wakes nobody (unsigned, it would wake everyone).
void Condition::notify(long n) { notify_up_to(n > 0 ? static_cast<std::size_t>(n) : 0); }

void Condition::notify_up_to(std::size_t n) {
    if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
    for (std::size_t i = 0; i < n && waiters_.grant_first(); ++i) {
    }
}

// -- Semaphore --------------------------------------------------------------------------

Semaphore::Semaphore(long value) : value_(value) {
    if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
}

void Semaphore::release() {
    ++value_;
    wake_up_next();
}

// CPython 3.12: a permit is handed over at wake-up time.
bool Semaphore::wake_up_next() {
    if (waiters_.empty()) return false;
    --value_;
    waiters_.grant_first();
    ++woken_;
    return true;
}

void Semaphore::on_wake_resumed(detail::WaitNode& node) {
    if (node.granted()) --woken_;
    if (node.cancelled() && node.granted()) ++value_;  // the permit handed to us goes back
    // Newcomers may have queued behind us: wake as many as the permits allow.
    while (value_ > 0 && wake_up_next()) {
    }
}

void BoundedSemaphore::release() {
    if (value_ >= bound_) throw ValueError("BoundedSemaphore released too many times");
    Semaphore::release();
}

// -- Barrier ----------------------------------------------------------------------------

// Signed, as in CPython: Barrier(-4) is an error, not 2**64 - 4 parties.
Barrier::Barrier(long parties) : parties_(parties > 0 ? static_cast<std::size_t>(parties) : 0) {
    if (parties < 1) throw ValueError("parties must be > 0");
}

Coro<std::size_t> Barrier::wait() {
    LockGuard guard = co_await cond_.scoped();
    co_await block();  // while the barrier drains or resets
    std::size_t index = count_++;
    std::exception_ptr error;
    try {
        if (index + 1 == parties_) {
            state_ = State::draining;  // the last to arrive releases everyone
            cond_.notify_all();
        } else {
            co_await wait_released();
        }
    } catch (...) {
        error = std::current_exception();
    }
    --count_;
    exit();
    if (error) std::rethrow_exception(error);
    co_return index;
}

Coro<void> Barrier::block() {
    co_await cond_.wait_for([this] { return state_ != State::draining && state_ != State::resetting; });
    if (state_ == State::broken) throw BrokenBarrierError("Barrier aborted");
}

Coro<void> Barrier::wait_released() {
    co_await cond_.wait_for([this] { return state_ != State::filling; });
    if (state_ == State::broken || state_ == State::resetting) throw BrokenBarrierError("Abort or reset of barrier");
}

// The last task out of a draining or resetting barrier fills it again.
void Barrier::exit() noexcept {
    if (count_ == 0) {
        if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
        cond_.notify_all();
    }
}

Coro<void> Barrier::reset() {
    LockGuard guard = co_await cond_.scoped();
    if (count_ > 0)
        state_ = State::resetting;
    else
        state_ = State::filling;
    cond_.notify_all();
}

Coro<void> Barrier::abort() {
    LockGuard guard = co_await cond_.scoped();
    state_ = State::broken;
    cond_.notify_all();
}

}  // namespace asyncio
