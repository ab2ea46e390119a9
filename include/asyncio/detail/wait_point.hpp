// asyncio/detail/wait_point.hpp: plumbing for the combinators (gather, wait, as_completed,
// TaskGroup, timeout): a point where a coroutine sleeps until notified, a watcher of child
// completions, and a deadline timer, all living in the combinator's frame (no allocation).
#pragma once

#include <asyncio/detail/task_core.hpp>
#include <asyncio/events.hpp>

#include <coroutine>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace asyncio::detail {

// Told when an Alarm's deadline passes.
struct AlarmListener {
    virtual void alarm_rang() = 0;

protected:
    ~AlarmListener() = default;
};

// `co_await wp` sleeps until `wp.notify()`. A cancellation request also wakes it and is
// *reported* (await_resume returns true) instead of thrown, so that the combinator can
// cancel its children and keep waiting for them, as CPython's do.
class WaitPoint final : public Waiter, public AlarmListener {
public:
    WaitPoint() = default;
    WaitPoint(const WaitPoint&) = delete;
    WaitPoint& operator=(const WaitPoint&) = delete;

    bool await_ready() const noexcept { return notified_; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        task_ = task_of(h);
        waiting_ = true;
        woken_ = false;
        task_->suspend(h, this);
    }
    // True if woken (or found) with a cancellation request; the request is consumed.
    bool await_resume() noexcept {
        waiting_ = false;
        bool cancelled = std::exchange(cancelled_, false);
        if (task_ && task_->take_must_cancel()) cancelled = true;
        notified_ = false;
        return cancelled;
    }

    void notify() {
        notified_ = true;
        if (waiting_ && !woken_) {
            woken_ = true;
            task_->wake();
        }
    }
    bool cancel_wait(const std::string&) override {
        if (!waiting_ || woken_) return false;
        cancelled_ = true;
        woken_ = true;
        task_->wake();
        return true;
    }
    void alarm_rang() override { notify(); }
    // The task that awaited last (for combinators that must re-raise its cancel message).
    [[nodiscard]] TaskCore* task() const noexcept { return task_; }

private:
    TaskCore* task_ = nullptr;
    bool waiting_ = false;
    bool woken_ = false;
    bool notified_ = false;
    bool cancelled_ = false;
};

// Receives child completions, synchronously, in the order the children finish.
struct ChildObserver {
    virtual void child_done(std::size_t index) = 0;

protected:
    ~ChildObserver() = default;
};

// Watches a fixed set of futures/tasks; unregisters itself when destroyed.
class ChildWatch {
public:
    ChildWatch(ChildObserver* observer, std::size_t n) : nodes_(std::make_unique<Node[]>(n)), n_(n) {
        for (std::size_t i = 0; i < n; ++i) {
            nodes_[i].observer = observer;
            nodes_[i].index = i;
        }
    }
    ChildWatch(const ChildWatch&) = delete;
    ChildWatch& operator=(const ChildWatch&) = delete;
    ~ChildWatch() {
        for (std::size_t i = 0; i < n_; ++i)
            if (nodes_[i].target) nodes_[i].target->remove_node(&nodes_[i]);
    }

    // Starts watching child `i`; a child already done is reported at once.
    void watch(std::size_t i, FutureCore* child) {
        Node& n = nodes_[i];
        n.target = child;
        if (child->done())
            n.observer->child_done(i);
        else
            child->add_node(&n);
    }

private:
    struct Node final : DoneNode {
        ChildObserver* observer = nullptr;
        std::size_t index = 0;
        FutureCore* target = nullptr;
        void on_done(FutureCore&) override { observer->child_done(index); }
    };
    std::unique_ptr<Node[]> nodes_;
    std::size_t n_;
};

// A deadline in a combinator's frame: tells its listener when it passes.
class Alarm final : public TimerNode {
public:
    Alarm(EventLoop& loop, AlarmListener& listener) noexcept : loop_(loop), listener_(listener) {}
    Alarm(const Alarm&) = delete;
    Alarm& operator=(const Alarm&) = delete;
    ~Alarm() { disarm(); }

    void arm(EventLoop::time_point deadline) {
        disarm();
        when = deadline;
        LoopAccess::timers(loop_).push(this);
    }
    void disarm() noexcept {
        if (queued()) LoopAccess::timers(loop_).erase(this);
    }
    [[nodiscard]] bool rang() const noexcept { return rang_; }
    void fire() override {
        rang_ = true;
        listener_.alarm_rang();
    }

private:
    EventLoop& loop_;
    AlarmListener& listener_;
    bool rang_ = false;
};

}  // namespace asyncio::detail
