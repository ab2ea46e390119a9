// asyncio/detail/wait_queue.hpp: the FIFO of tasks waiting on a lock, event, condition,
// semaphore or queue (CPython's deque of waiter futures), with each node in the waiting
// frame: waiting allocates nothing.
#pragma once

#include <asyncio/detail/task_core.hpp>

#include <coroutine>
#include <cstddef>
#include <string>

namespace asyncio::detail {

class WaitQueue;

// One waiting task. A wake-up (grant) unlinks it; so does a cancellation that arrives
// first. A cancellation that arrives after the grant cannot undo it: the owner of the
// primitive sees `granted && cancelled` on resumption and passes the grant on (no lost
// wake-ups, docs/design/cancellation.md).
class WaitNode : public Waiter {
public:
    WaitNode(const WaitNode&) = delete;
    WaitNode& operator=(const WaitNode&) = delete;

    // Suspends `h`'s task at the back of `q`, in the co_await at `site`.
    template <class P>
    void enqueue(std::coroutine_handle<P> h, WaitQueue& q, SourceSite site);
    // The same, asking wait_again() before the task resumes (TaskCore::suspend_rechecking).
    template <class P>
    void enqueue_rechecking(std::coroutine_handle<P> h, WaitQueue& q, SourceSite site);
    // On resumption (step 4 of detail/waiter.hpp): takes the task's cancellation, if any,
    // into `cancelled`, next to `granted`.
    void settle() noexcept {
        if (task_) cancelled_ = task_->consume_cancel();
    }
    [[nodiscard]] bool granted() const noexcept { return granted_; }
    [[nodiscard]] bool cancelled() const noexcept { return cancelled_; }
    [[nodiscard]] TaskCore* task() const noexcept { return task_; }
    [[nodiscard]] std::string cancel_message() const { return task_->cancel_message(); }

    CancelOutcome cancel_wait(const std::string&) override;

protected:
    WaitNode() = default;
    virtual ~WaitNode();  // virtual only to satisfy -Wnon-virtual-dtor; never deleted by base
    // From wait_again(): the grant came to nothing; back of the queue, still suspended.
    void requeue(WaitQueue& q) noexcept;

private:
    friend class WaitQueue;
    WaitNode* prev_ = nullptr;
    WaitNode* next_ = nullptr;
    WaitQueue* queue_ = nullptr;  // set while linked
    TaskCore* task_ = nullptr;
    bool granted_ = false;
    bool cancelled_ = false;
};

class WaitQueue {
public:
    WaitQueue() = default;
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;

    [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] WaitNode* front() const noexcept { return head_; }

    void push_back(WaitNode* n) noexcept {
        n->prev_ = tail_;
        n->next_ = nullptr;
        n->queue_ = this;
        (tail_ ? tail_->next_ : head_) = n;
        tail_ = n;
        ++size_;
    }
    void remove(WaitNode* n) noexcept {
        if (n->queue_ != this) return;
        (n->prev_ ? n->prev_->next_ : head_) = n->next_;
        (n->next_ ? n->next_->prev_ : tail_) = n->prev_;
        n->prev_ = n->next_ = nullptr;
        n->queue_ = nullptr;
        --size_;
    }
    // Wakes the first waiter with a grant; false if nobody waits.
    bool grant_first() {
        WaitNode* n = head_;
        if (!n) return false;
        head_ = n->next_;  // remove(n), for the head
        (head_ ? head_->prev_ : tail_) = nullptr;
        n->next_ = nullptr;
        n->queue_ = nullptr;
        --size_;
        n->granted_ = true;
        n->task_->wake();
        return true;
    }
    // Wakes every waiter with a grant.
    void grant_all() {
        while (grant_first()) {
        }
    }

private:
    WaitNode* head_ = nullptr;
    WaitNode* tail_ = nullptr;
    std::size_t size_ = 0;
};

inline WaitNode::~WaitNode() {
    if (queue_) queue_->remove(this);
}

template <class P>
inline void WaitNode::enqueue(std::coroutine_handle<P> h, WaitQueue& q, SourceSite site) {
    task_ = task_of(h);
    q.push_back(this);
    task_->suspend(h, this, site);
}

template <class P>
inline void WaitNode::enqueue_rechecking(std::coroutine_handle<P> h, WaitQueue& q, SourceSite site) {
    task_ = task_of(h);
    q.push_back(this);
    task_->suspend_rechecking(h, this, site);
}

inline void WaitNode::requeue(WaitQueue& q) noexcept {
    granted_ = false;
    q.push_back(this);
}

inline CancelOutcome WaitNode::cancel_wait(const std::string&) {
    if (granted_ || !queue_) return CancelOutcome::too_late;
    queue_->remove(this);
    return CancelOutcome::cancelled;
}

// A bare wait on a queue, for coroutines that do their own bookkeeping on resumption
// (Condition.wait, Queue.get/put slow paths): never throws; name it, await it, then look
// at granted() and cancelled().
class WaitOn final : public WaitNode {
public:
    // `what`: what the wait is, for reports ("Condition.wait()"): a string literal.
    explicit WaitOn(WaitQueue& q, const char* what) noexcept : q_(q), what_(what) {}
    [[nodiscard]] std::string describe() const override { return what_; }
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
        enqueue(h, q_, site);
    }
    void await_resume() noexcept { settle(); }

private:
    WaitQueue& q_;
    const char* what_;
};

}  // namespace asyncio::detail
