// asyncio/queues.hpp: Queue, PriorityQueue, LifoQueue, QueueFull, QueueEmpty, QueueShutDown.
// Mirrors Lib/asyncio/queues.py (3.13, with shutdown).
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/wait_queue.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/locks.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace asyncio {

/// Raised by `get_nowait()` on an empty queue.
///
/// Python: `asyncio.QueueEmpty`
class QueueEmpty : public std::runtime_error {
public:
    QueueEmpty() : std::runtime_error("queue is empty") {}
};

/// Raised by `put_nowait()` on a full queue.
///
/// Python: `asyncio.QueueFull`
class QueueFull : public std::runtime_error {
public:
    QueueFull() : std::runtime_error("queue is full") {}
};

/// Raised by put and get once the queue is shut down (get: once it is also empty).
///
/// Python: `asyncio.QueueShutDown` (3.13)
class QueueShutDown : public std::runtime_error {
public:
    QueueShutDown() : std::runtime_error("queue is shut down") {}
};

namespace detail {

// FIFO storage: a growable ring (its capacity a power of two, so that wrapping is a mask, not
// a division), so that steady-state put/get allocate nothing.
template <class T>
class FifoStorage {
public:
    FifoStorage() = default;
    FifoStorage(const FifoStorage&) = delete;
    FifoStorage& operator=(const FifoStorage&) = delete;
    ~FifoStorage() {
        while (size_ > 0) pop();
        std::allocator<T>().deallocate(buf_, cap_);
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    void push(T v) {
        if (size_ == cap_) grow();
        std::construct_at(buf_ + ((head_ + size_) & (cap_ - 1)), std::move(v));
        ++size_;
    }
    T pop() {
        T* p = buf_ + head_;
        T v = std::move(*p);
        std::destroy_at(p);
        head_ = (head_ + 1) & (cap_ - 1);
        --size_;
        return v;
    }

private:
    [[gnu::noinline]] void grow() {  // out of line: push stays a few instructions
        std::size_t cap = cap_ ? cap_ * 2 : 16;
        T* fresh = std::allocator<T>().allocate(cap);
        for (std::size_t i = 0; i < size_; ++i) {
            T* p = buf_ + ((head_ + i) & (cap_ - 1));
            std::construct_at(fresh + i, std::move(*p));
            std::destroy_at(p);
        }
        std::allocator<T>().deallocate(buf_, cap_);
        buf_ = fresh;
        cap_ = cap;
        head_ = 0;
    }
    T* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

// LIFO storage.
template <class T>
class LifoStorage {
public:
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    void push(T v) { items_.push_back(std::move(v)); }
    T pop() {
        T v = std::move(items_.back());
        items_.pop_back();
        return v;
    }

private:
    std::vector<T> items_;
};

// Heap storage: smallest first by Compare; equal items leave in insertion order.
template <class T, class Compare>
class HeapStorage {
public:
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
    void push(T v) {
        heap_.push_back(Entry{std::move(v), seq_++});
        std::push_heap(heap_.begin(), heap_.end(), Later{});
    }
    T pop() {
        std::pop_heap(heap_.begin(), heap_.end(), Later{});
        T v = std::move(heap_.back().item);
        heap_.pop_back();
        return v;
    }

private:
    struct Entry {
        T item;
        std::uint64_t seq;
    };
    // std::*_heap build a max-heap: "later" entries sink.
    struct Later {
        bool operator()(const Entry& a, const Entry& b) const {
            Compare less;
            if (less(a.item, b.item)) return false;
            if (less(b.item, a.item)) return true;
            return a.seq > b.seq;
        }
    };
    std::vector<Entry> heap_;
    std::uint64_t seq_ = 0;
};

template <class T, class Storage>
class BasicQueue;

// Out of line and cold: the awaiters' fast paths carry no exception construction.
[[noreturn, gnu::noinline, gnu::cold]] inline void throw_queue_shut_down() { throw QueueShutDown(); }

// put()/get(): the common case (room, or an item) completes in await_ready, without
// suspending or allocating; otherwise the awaiter itself waits, as below.
// `co_await q.get()`: takes an item at once if there is one; else waits in the getters'
// queue, and if another task took the item it was woken for, waits again (wait_again) --
// all in this awaiter, without a coroutine frame.
template <class Q>
class QueueGet final : public WaitNode {
public:
    using T = typename Q::value_type;
    explicit QueueGet(Q& q) noexcept : q_(q) {}
    // Movable until awaited (to be passed as a timeout body, say).
    QueueGet(QueueGet&& o) noexcept : q_(o.q_) {}

    bool await_ready() {
        if (!q_.empty()) {
            item_.emplace(q_.take_item());
            return true;
        }
        if (q_.is_shut_down()) throw_queue_shut_down();
        return false;
    }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
        enqueue_rechecking(h, q_.getters_, site);
    }
    T await_resume() {
        if (item_) return std::move(*item_);
        settle();
        if (!cancelled() && !q_.empty()) [[likely]]
            return q_.take_item();
        return resume_slow();
    }
    bool wait_again() override {
        if (task()->cancel_pending() || !q_.empty() || q_.is_shut_down()) return false;
        requeue(q_.getters_);
        return true;
    }
    [[nodiscard]] std::string describe() const override { return "Queue.get()"; }

private:
    [[gnu::noinline]] T resume_slow() {
        if (cancelled()) {
            // Woken for an item, then cancelled: the item is for the next getter.
            if (granted() && !q_.empty()) q_.getters_.grant_first();
            throw CancelledError(cancel_message());
        }
        return q_.get_nowait();  // QueueShutDown: it was shut down and is empty
    }

    Q& q_;
    std::optional<T> item_;
};

// `co_await q.put(item)`: the mirror image of QueueGet.
template <class Q>
class QueuePut final : public WaitNode {
public:
    using T = typename Q::value_type;
    QueuePut(Q& q, T item) : q_(q), item_(std::move(item)) {}
    // Movable until awaited.
    QueuePut(QueuePut&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : q_(o.q_), item_(std::move(o.item_)) {}

    bool await_ready() {
        if (q_.is_shut_down()) [[unlikely]]
            throw_queue_shut_down();
        if (!q_.full()) {
            q_.push_item(std::move(item_));
            return true;
        }
        return false;
    }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
        enqueue_rechecking(h, q_.putters_, site);
    }
    void await_resume() {
        if (!task()) return;  // put at once
        settle();
        if (!cancelled() && !q_.is_shut_down() && !q_.full()) [[likely]] {
            q_.push_item(std::move(item_));
            return;
        }
        resume_slow();
    }
    bool wait_again() override {
        if (task()->cancel_pending() || !q_.full() || q_.is_shut_down()) return false;
        requeue(q_.putters_);
        return true;
    }
    [[nodiscard]] std::string describe() const override { return "Queue.put() (the queue is full)"; }

private:
    [[gnu::noinline]] void resume_slow() {
        if (cancelled()) {
            // Woken for a free slot, then cancelled: the slot is for the next putter.
            if (granted() && !q_.full()) q_.putters_.grant_first();
            throw CancelledError(cancel_message());
        }
        q_.put_nowait(std::move(item_));  // QueueShutDown: it was shut down meanwhile
    }

    Q& q_;
    T item_;
};

/// The queue proper; Queue, PriorityQueue and LifoQueue differ only in their storage, the
/// order their items leave in. Users name those three; this is `detail::BasicQueue`.
template <class T, class Storage>
class BasicQueue {
public:
    /// The type of the items.
    using value_type = T;

    /// A queue of at most `maxsize` items.
    // Signed, as in CPython: maxsize <= 0 is unbounded (an unsigned -1 would be a bound).
    explicit BasicQueue(long maxsize = 0) : maxsize_(maxsize) { finished_.set(); }
    BasicQueue(const BasicQueue&) = delete;
    BasicQueue& operator=(const BasicQueue&) = delete;

    /// The bound given to the constructor, as given (<= 0: unbounded).
    ///
    /// Python: `q.maxsize`
    [[nodiscard]] long maxsize() const noexcept { return maxsize_; }
    /// Python: `q.qsize()`
    [[nodiscard]] std::size_t qsize() const noexcept { return items_.size(); }
    /// Python: `q.empty()`
    [[nodiscard]] bool empty() const noexcept { return items_.size() == 0; }
    /// Python: `q.full()`
    [[nodiscard]] bool full() const noexcept { return maxsize_ > 0 && items_.size() >= static_cast<std::size_t>(maxsize_); }

    /// Puts an item, waiting while the queue is full. With room, it neither suspends nor
    /// allocates (beyond the storage's growth).
    ///
    /// Python: `await q.put(item)`
    /// Throws: `QueueShutDown` once the queue is shut down.
    /// Cancellation: cancel-safe: a cancelled put inserts nothing, and a free slot it was
    ///   woken for passes to the next putter.
    [[nodiscard]] QueuePut<BasicQueue> put(T item) { return QueuePut<BasicQueue>(*this, std::move(item)); }
    /// Puts an item without waiting.
    ///
    /// Python: `q.put_nowait(item)`
    /// Throws: `QueueFull`, `QueueShutDown`.
    void put_nowait(T item) {
        if (shutdown_) throw QueueShutDown();
        if (full()) throw QueueFull();
        push_item(std::move(item));
    }
    /// Removes and returns an item, waiting until one is available. With an item there, it
    /// neither suspends nor allocates.
    ///
    /// Python: `await q.get()`
    /// Throws: `QueueShutDown` once the queue is shut down and empty.
    /// Cancellation: cancel-safe: a cancelled get consumes no item, and an item it was woken
    ///   for passes to the next getter.
    [[nodiscard]] QueueGet<BasicQueue> get() { return QueueGet<BasicQueue>(*this); }
    /// Removes and returns an item without waiting.
    ///
    /// Python: `q.get_nowait()`
    /// Throws: `QueueEmpty`, or `QueueShutDown` if empty and shut down.
    T get_nowait() {
        if (empty()) {
            if (shutdown_) throw QueueShutDown();
            throw QueueEmpty();
        }
        return take_item();
    }
    /// Marks one item taken by get() as processed.
    ///
    /// Python: `q.task_done()`
    /// Throws: `ValueError("task_done() called too many times")`.
    void task_done() {
        if (unfinished_tasks_ == 0) throw ValueError("task_done() called too many times");
        if (--unfinished_tasks_ == 0) finished_.set();
    }
    /// Waits until every item put has been marked done.
    ///
    /// Python: `await q.join()`
    /// Cancellation: cancel-safe.
    [[nodiscard]] auto join() noexcept { return finished_.wait(); }
    /// Shuts the queue down: put raises QueueShutDown; get does once the queue is empty;
    /// with `immediate`, the items left are dropped (and counted done) at once. Blocked
    /// putters and getters wake up to raise.
    ///
    /// Python: `q.shutdown(immediate=False)` (3.13)
    void shutdown(bool immediate = false) {
        shutdown_ = true;
        if (immediate) {
            while (!empty()) {
                (void)items_.pop();
                if (unfinished_tasks_ > 0) --unfinished_tasks_;
            }
            if (unfinished_tasks_ == 0) finished_.set();
        }
        getters_.grant_all();
        putters_.grant_all();
    }
    /// Whether shutdown() was called.
    [[nodiscard]] bool is_shut_down() const noexcept { return shutdown_; }

private:
    friend class QueueGet<BasicQueue>;
    friend class QueuePut<BasicQueue>;

    // put_nowait and get_nowait after their checks (the awaiters made them already).
    void push_item(T&& item) {
        items_.push(std::move(item));
        ++unfinished_tasks_;
        finished_.clear();
        getters_.grant_first();
    }
    T take_item() {
        T item = items_.pop();
        putters_.grant_first();
        return item;
    }

    Storage items_;
    long maxsize_;
    std::size_t unfinished_tasks_ = 0;
    WaitQueue getters_;
    WaitQueue putters_;
    Event finished_;
    bool shutdown_ = false;
};

}  // namespace detail

/// A first-in, first-out queue for producer and consumer tasks.
///
/// Python: `asyncio.Queue(maxsize=0)`; a `maxsize` <= 0 is unbounded, as in CPython.
/// Differs from CPython: typed; move-only element types work.
/// Example: examples/tutorial/17_queue_workers.cpp
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStorage<T>> {
public:
    using detail::BasicQueue<T, detail::FifoStorage<T>>::BasicQueue;
};

/// A queue that returns the smallest item first (by `Compare`); equal items leave in the
/// order they came.
///
/// Python: `asyncio.PriorityQueue(maxsize=0)`
/// Differs from CPython: ties are stable (CPython's heapq order for equal items is not).
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::HeapStorage<T, Compare>> {
public:
    using detail::BasicQueue<T, detail::HeapStorage<T, Compare>>::BasicQueue;
};

/// A queue that returns the most recently added item first.
///
/// Python: `asyncio.LifoQueue(maxsize=0)`
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStorage<T>> {
public:
    using detail::BasicQueue<T, detail::LifoStorage<T>>::BasicQueue;
};

}  // namespace asyncio
