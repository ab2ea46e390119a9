// asyncio/locks.hpp: Lock, LockGuard, Event, Condition, Semaphore, SemaphoreGuard,
// BoundedSemaphore, Barrier.
// Mirrors Lib/asyncio/locks.py.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/wait_queue.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

namespace asyncio {

class Lock;

/// Holds a Lock until destroyed: what `async with lock:` gives in Python.
///
/// Python: the body of `async with lock:`
/// Differs from CPython: C++ has no async context managers; `co_await lock.scoped()`
///   acquires and returns the guard, whose destructor releases (release is synchronous).
class [[nodiscard]] LockGuard {
public:
    LockGuard() noexcept = default;
    /// Takes over `lock`, which the current task holds; `scoped()` makes guards so.
    explicit LockGuard(Lock* lock) noexcept : lock_(lock) {}
    /// Takes over `o`'s lock; `o` holds none.
    LockGuard(LockGuard&& o) noexcept : lock_(std::exchange(o.lock_, nullptr)) {}
    /// Releases the lock held, if any, and takes over `o`'s.
    LockGuard& operator=(LockGuard&& o) noexcept;
    ~LockGuard();
    /// Releases now instead of at the end of the scope.
    void release();
    /// Whether the guard still holds its lock.
    [[nodiscard]] bool owns_lock() const noexcept { return lock_ != nullptr; }

private:
    Lock* lock_ = nullptr;
};

class Semaphore;

/// Holds a permit of a Semaphore (or BoundedSemaphore) until destroyed: what
/// `async with sem:` gives in Python.
///
/// Python: the body of `async with sem:`
/// Differs from CPython: C++ has no async context managers; `co_await sem.scoped()`
///   acquires and returns the guard, whose destructor releases (release is synchronous).
///   Where CPython's `__aexit__` would raise (a BoundedSemaphore already released to its
///   bound inside the body), the destructor, which cannot throw, reports the ValueError to
///   the running loop's exception handler instead.
class [[nodiscard]] SemaphoreGuard {
public:
    SemaphoreGuard() noexcept = default;
    /// Takes over a permit of `sem` already acquired; `scoped()` makes guards so.
    explicit SemaphoreGuard(Semaphore* sem) noexcept : sem_(sem) {}
    /// Takes over `o`'s permit; `o` holds none.
    SemaphoreGuard(SemaphoreGuard&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)) {}
    /// Gives back the permit held, if any, and takes over `o`'s.
    SemaphoreGuard& operator=(SemaphoreGuard&& o) noexcept;
    ~SemaphoreGuard();
    /// Releases the permit now instead of at the end of the scope.
    ///
    /// Throws: `RuntimeError` if the guard holds no permit; what `sem.release()` throws.
    void release();
    /// Whether the guard still holds its permit.
    [[nodiscard]] bool owns_permit() const noexcept { return sem_ != nullptr; }

private:
    static void release_quietly(Semaphore* sem) noexcept;
    Semaphore* sem_ = nullptr;
};

namespace detail {

template <class Prim, class R>
class AcquireAwaiter;

}  // namespace detail

/// A mutual-exclusion lock for tasks; waiters acquire it first come, first served.
///
/// Python: `asyncio.Lock()`
/// Differs from CPython: a lock is owned by the task that acquired it, and `release()`
///   from any other task raises RuntimeError (CPython lets any task release it). The owner
///   is the task itself, not its address: a lock whose owner ended while holding it stays
///   locked, even for a task later built in the same memory.
class Lock {
public:
    Lock() = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    /// Acquires the lock, waiting while another task holds it; returns true. Uncontended, it
    /// neither suspends nor allocates.
    ///
    /// Python: `await lock.acquire()`
    /// Cancellation: cancel-safe: a cancelled acquire does not hold the lock, and a wake-up
    ///   it received is passed on to the next waiter.
    [[nodiscard]] detail::AcquireAwaiter<Lock, bool> acquire() noexcept;
    /// Acquires the lock and returns a guard that releases it: `async with lock:`.
    ///
    /// Python: `async with lock: ...`
    /// Cancellation: as `acquire()`.
    [[nodiscard]] detail::AcquireAwaiter<Lock, LockGuard> scoped() noexcept;
    /// Releases the lock and wakes the first waiter.
    ///
    /// Python: `lock.release()`
    /// Throws: `RuntimeError` if the lock is not held, or is held by another task.
    void release();
    /// Python: `lock.locked()`
    [[nodiscard]] bool locked() const noexcept { return locked_; }

private:
    friend class LockGuard;
    template <class Prim, class R>
    friend class detail::AcquireAwaiter;
    // For reports: "Lock.acquire() (held by Task-2)".
    [[nodiscard]] std::string describe_wait() const;

    bool try_acquire(detail::TaskCore* task) noexcept {
        // Free, and nobody queued or woken ahead of us: take it without suspending.
        if (locked_ || !waiters_.empty() || woken_ > 0) return false;
        locked_ = true;
        owner_ = task->id();
        return true;
    }
    void on_wake_resumed(detail::WaitNode& node);
    void release_unchecked() noexcept;
    void wake_up_first() noexcept {
        if (waiters_.grant_first()) ++woken_;
    }

    detail::WaitQueue waiters_;
    // The owner's task id, not its address: a task that ends holding the lock is freed, and
    // the next task built at that address must not own the lock. 0: no task.
    std::uint64_t owner_ = 0;
    std::size_t woken_ = 0;  // granted waiters that have not run yet: no one may barge in
    bool locked_ = false;
};

/// A flag tasks can wait for.
///
/// Python: `asyncio.Event()`
class Event {
public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    /// Python: `event.is_set()`
    [[nodiscard]] bool is_set() const noexcept { return value_; }
    /// Sets the flag and wakes every waiter.
    ///
    /// Python: `event.set()`
    void set() {
        if (value_) return;
        value_ = true;
        waiters_.grant_all();
    }
    /// Python: `event.clear()`
    void clear() noexcept { value_ = false; }
    /// Waits until the flag is set; returns true at once if it is.
    ///
    /// Python: `await event.wait()`
    /// Cancellation: cancel-safe; nothing is consumed.
    [[nodiscard]] detail::AcquireAwaiter<Event, bool> wait() noexcept;

private:
    template <class Prim, class R>
    friend class detail::AcquireAwaiter;
    [[nodiscard]] std::string describe_wait() const { return "Event.wait()"; }
    bool try_acquire(detail::TaskCore*) const noexcept { return value_; }
    void on_wake_resumed(detail::WaitNode&) noexcept {}
    detail::WaitQueue waiters_;
    bool value_ = false;
};

/// Lets tasks wait until notified, holding a lock around the state they check.
///
/// Python: `asyncio.Condition(lock=None)`
class Condition {
public:
    /// A condition with its own Lock.
    Condition() : lock_(&own_lock_) {}
    /// A condition over `lock`, which must outlive it.
    explicit Condition(Lock& lock) : lock_(&lock) {}
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;

    /// Python: `await cond.acquire()`
    [[nodiscard]] detail::AcquireAwaiter<Lock, bool> acquire() noexcept;
    /// Python: `async with cond:`
    [[nodiscard]] detail::AcquireAwaiter<Lock, LockGuard> scoped() noexcept;
    /// Python: `cond.release()`
    void release() { lock_->release(); }
    /// Python: `cond.locked()`
    [[nodiscard]] bool locked() const noexcept { return lock_->locked(); }

    /// Releases the lock, waits for a notify, re-acquires the lock (even when cancelled),
    /// and returns true.
    ///
    /// Python: `await cond.wait()`
    /// Throws: `RuntimeError("cannot wait on un-acquired lock")`.
    /// Cancellation: the lock is held again when CancelledError propagates; a notification
    ///   received just before the cancellation is passed on to the next waiter.
    [[nodiscard]] Coro<bool> wait();
    /// Waits until `predicate()` is true (contextually converted to bool), and returns the
    /// value it last returned: a count, a pointer, an optional... as CPython returns
    /// `predicate()`'s last result.
    ///
    /// Python: `await cond.wait_for(predicate)`
    /// Throws: `RuntimeError("cannot wait on un-acquired lock")` if it must wait and the lock
    ///   is not held; what `predicate` throws.
    /// Cancellation: as `wait()`.
    template <class F>
        requires std::constructible_from<bool, std::decay_t<std::invoke_result_t<F&>>>
    [[nodiscard]] Coro<std::decay_t<std::invoke_result_t<F&>>> wait_for(F predicate) {
        for (;;) {
            std::decay_t<std::invoke_result_t<F&>> result = predicate();
            if (result) co_return result;
            co_await wait();
        }
    }
    /// Wakes up to `n` waiters; none if `n <= 0`.
    ///
    /// Python: `cond.notify(n=1)`
    /// Throws: `RuntimeError("cannot notify on un-acquired lock")`.
    void notify(long n = 1);
    /// Python: `cond.notify_all()`
    void notify_all() { notify_up_to(waiters_.size()); }

private:
    void notify_up_to(std::size_t n);

    Lock own_lock_;
    Lock* lock_;
    detail::WaitQueue waiters_;
};

/// A counter of permits: `acquire()` takes one, waiting while there is none.
///
/// Python: `asyncio.Semaphore(value=1)`
/// Throws: `ValueError("Semaphore initial value must be >= 0")` for a negative value.
class Semaphore {
public:
    /// A semaphore with `value` permits.
    explicit Semaphore(long value = 1);
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    virtual ~Semaphore() = default;

    /// Takes a permit, waiting first come, first served; returns true. Uncontended, it
    /// neither suspends nor allocates.
    ///
    /// Python: `await sem.acquire()`
    /// Cancellation: cancel-safe: a cancelled acquire takes no permit; one granted to it just
    ///   before the cancellation goes back and on to the next waiter.
    [[nodiscard]] detail::AcquireAwaiter<Semaphore, bool> acquire() noexcept;
    /// Takes a permit and returns a guard that gives it back: `async with sem:`.
    ///
    /// Python: `async with sem: ...`
    /// Cancellation: as `acquire()`.
    [[nodiscard]] detail::AcquireAwaiter<Semaphore, SemaphoreGuard> scoped() noexcept;
    /// Returns a permit and wakes the next waiter.
    ///
    /// Python: `sem.release()`
    virtual void release();
    /// True if an acquire would wait.
    ///
    /// Python: `sem.locked()`
    [[nodiscard]] bool locked() const noexcept { return value_ == 0 || !waiters_.empty() || woken_ > 0; }
    /// The permits left.
    ///
    /// Python: `sem._value` (private there)
    [[nodiscard]] long value() const noexcept { return value_; }

protected:
    long value_;

private:
    template <class Prim, class R>
    friend class detail::AcquireAwaiter;
    [[nodiscard]] std::string describe_wait() const { return "Semaphore.acquire()"; }
    bool try_acquire(detail::TaskCore*) noexcept {
        if (locked()) return false;
        --value_;
        return true;
    }
    void on_wake_resumed(detail::WaitNode& node);
    bool wake_up_next();
    detail::WaitQueue waiters_;
    std::size_t woken_ = 0;  // granted waiters that have not run yet (CPython: still queued)
};

/// A Semaphore that refuses to be released above its initial value.
///
/// Python: `asyncio.BoundedSemaphore(value=1)`
/// Throws: `ValueError("Semaphore initial value must be >= 0")` for a negative value;
///   `ValueError("BoundedSemaphore released too many times")` from `release()`.
class BoundedSemaphore : public Semaphore {
public:
    /// A semaphore with `value` permits, which is also its bound.
    explicit BoundedSemaphore(long value = 1) : Semaphore(value), bound_(value) {}
    void release() override;

private:
    long bound_;
};

/// Raised by `Barrier::wait()` when the barrier is aborted or reset.
///
/// Python: `asyncio.BrokenBarrierError`
class BrokenBarrierError : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
};

/// Lets a fixed number of tasks wait for each other.
///
/// Python: `asyncio.Barrier(parties)`
/// Throws: `ValueError("parties must be > 0")` if `parties < 1`.
class Barrier {
public:
    /// A barrier for `parties` tasks.
    explicit Barrier(long parties);
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;

    /// Waits until `parties` tasks wait, then releases them all; returns this task's arrival
    /// index, 0 to parties-1.
    ///
    /// Python: `await barrier.wait()`
    /// Throws: `BrokenBarrierError` if the barrier is aborted or reset meanwhile.
    [[nodiscard]] Coro<std::size_t> wait();
    /// Returns the barrier to empty; waiting tasks get BrokenBarrierError.
    ///
    /// Python: `await barrier.reset()`
    [[nodiscard]] Coro<void> reset();
    /// Breaks the barrier: waiting and later tasks get BrokenBarrierError.
    ///
    /// Python: `await barrier.abort()`
    [[nodiscard]] Coro<void> abort();
    /// Python: `barrier.parties`
    [[nodiscard]] std::size_t parties() const noexcept { return parties_; }
    /// Python: `barrier.n_waiting`
    [[nodiscard]] std::size_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
    /// Python: `barrier.broken`
    [[nodiscard]] bool broken() const noexcept { return state_ == State::broken; }

private:
    enum class State {
        filling,
        draining,
        resetting,
        broken
    };
    Coro<void> block();
    Coro<void> wait_released();
    void exit() noexcept;

    Condition cond_;
    std::size_t parties_;
    std::size_t count_ = 0;
    State state_ = State::filling;
};

namespace detail {

// acquire()/wait() of Lock, Event and Semaphore: the uncontended case is decided in
// await_suspend (no suspension, no allocation); otherwise the task queues in the frame.
template <class Prim, class R>
class AcquireAwaiter final : public WaitNode {
public:
    explicit AcquireAwaiter(Prim& p) noexcept : prim_(p) {}
    // Movable until awaited (to be passed to create_task or wait_for, say).
    AcquireAwaiter(AcquireAwaiter&& o) noexcept : prim_(o.prim_) {}

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
        TaskCore* task = task_of(h);
        if (prim_.try_acquire(task)) return false;
        suspended_ = true;
        enqueue(h, prim_.waiters_, site);
        return true;
    }
    R await_resume() {
        if (suspended_) {
            settle();
            if (cancelled()) {
                prim_.on_wake_resumed(*this);  // passes a grant on
                throw CancelledError(cancel_message());
            }
            prim_.on_wake_resumed(*this);
        }
        if constexpr (std::is_same_v<R, bool>)
            return true;
        else
            return R(&prim_);  // LockGuard, SemaphoreGuard
    }

    [[nodiscard]] std::string describe() const override { return prim_.describe_wait(); }

private:
    Prim& prim_;
    bool suspended_ = false;
};

}  // namespace detail

inline detail::AcquireAwaiter<Lock, bool> Lock::acquire() noexcept { return detail::AcquireAwaiter<Lock, bool>(*this); }
inline detail::AcquireAwaiter<Lock, LockGuard> Lock::scoped() noexcept { return detail::AcquireAwaiter<Lock, LockGuard>(*this); }
inline detail::AcquireAwaiter<Lock, bool> Condition::acquire() noexcept { return lock_->acquire(); }
inline detail::AcquireAwaiter<Lock, LockGuard> Condition::scoped() noexcept { return lock_->scoped(); }
inline detail::AcquireAwaiter<Event, bool> Event::wait() noexcept { return detail::AcquireAwaiter<Event, bool>(*this); }
inline detail::AcquireAwaiter<Semaphore, bool> Semaphore::acquire() noexcept { return detail::AcquireAwaiter<Semaphore, bool>(*this); }
inline detail::AcquireAwaiter<Semaphore, SemaphoreGuard> Semaphore::scoped() noexcept { return detail::AcquireAwaiter<Semaphore, SemaphoreGuard>(*this); }

}  // namespace asyncio
