// asyncio/detail/wait_point.hpp: plumbing for the combinators (gather, wait, as_completed,
// TaskGroup, timeout): a point where a coroutine sleeps until notified, a watcher of child
// completions, and a deadline timer, all living in the combinator's frame (no allocation).
//
// The order of events is CPython's: there a child's completion reaches a combinator through
// a done callback that `call_soon` schedules, and the combinator's own future then wakes the
// waiting task with a second `call_soon`; a deadline is a `call_later` handle that runs from
// the ready queue. Here the same hops are ready-queue pushes of nodes in the frame
// (FrameRunnable), so the waiting task resumes in the same loop step as in CPython.
#pragma once

#include <asyncio/detail/ready_queue.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/events.hpp>

#include <coroutine>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace asyncio::detail {

// A Runnable in a coroutine frame: a combinator's stand-in for a callback CPython schedules
// with call_soon. Scheduling costs one ready-queue push, no allocation; a frame that ends
// with the node still queued unschedules it (its entry leaves the queue), as CPython's
// combinators cancel or outlive their handles.
//
// The node is scheduled from places that cannot throw (a child's end, a due timer), so it
// holds a ready-queue slot from the moment it is armed, where a std::bad_alloc still reaches
// the combinator's caller (hold_slot), until the owner gives it back (release_slot) with the
// loop, or null if the loop is gone (ReadyQueue explains the accounting).
class FrameRunnable : public Runnable {
public:
    FrameRunnable() = default;
    FrameRunnable(const FrameRunnable&) = delete;
    FrameRunnable& operator=(const FrameRunnable&) = delete;

    // Throws: std::bad_alloc, with nothing held.
    void hold_slot(EventLoop& loop) {
        if (holds_slot_) return;
        LoopAccess::ready(loop).reserve();
        holds_slot_ = true;
    }
    void release_slot(EventLoop* loop) noexcept {
        if (!std::exchange(holds_slot_, false) || !loop) return;
        unschedule();
        LoopAccess::ready(*loop).unreserve();
    }

    // Queues the node once; a no-op while the loop tears down (as TaskCore::wake).
    // Precondition: hold_slot(loop).
    void schedule(EventLoop& loop) noexcept {
        if (loop_ || LoopAccess::closing(loop)) return;
        LoopAccess::ready(loop).push(this);
        loop_ = &loop;
    }
    void unschedule() noexcept {
        if (loop_) LoopAccess::ready(*std::exchange(loop_, nullptr)).remove(this);
    }
    [[nodiscard]] bool scheduled() const noexcept { return loop_ != nullptr; }

protected:
    ~FrameRunnable() { unschedule(); }
    // What the callback does, from the ready queue.
    virtual void run_scheduled() = 0;

private:
    void run() final {
        loop_ = nullptr;
        run_scheduled();
    }
    void drop() noexcept final { loop_ = nullptr; }
    EventLoop* loop_ = nullptr;
    bool holds_slot_ = false;
};

// Lets a combinator take a cancellation of its waiting task itself instead of waking the
// task: gather cancels its children at once, as CPython's _GatheringFuture.cancel() does.
struct CancelForwarder {
    // True if the request was passed on (the task keeps waiting and learns of it when
    // woken); false if there was nothing left to cancel.
    virtual bool forward_cancel(const std::string& msg) = 0;

protected:
    ~CancelForwarder() = default;
};

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
    // `what`: what the combinator waits for, for reports ("gather()"): a string literal.
    explicit WaitPoint(const char* what) noexcept : what_(what) {}
    WaitPoint(const WaitPoint&) = delete;
    WaitPoint& operator=(const WaitPoint&) = delete;

    bool await_ready() const noexcept { return notified_; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
        task_ = task_of(h);
        waiting_ = true;
        woken_ = false;
        task_->suspend(h, this, site);
    }
    // True if woken (or found) with a cancellation request; the request is consumed.
    bool await_resume() noexcept {
        waiting_ = false;
        bool cancelled = std::exchange(forwarded_, false);
        if (task_ && task_->consume_cancel()) cancelled = true;
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
    CancelOutcome cancel_wait(const std::string& msg) override {
        if (!waiting_ || woken_) return CancelOutcome::too_late;
        if (forwarder_) {
            if (!forwarder_->forward_cancel(msg)) return CancelOutcome::too_late;
            forwarded_ = true;  // reported when the combinator wakes the task
            return CancelOutcome::deferred;
        }
        woken_ = true;  // by the task core, which marks the wait cancelled
        return CancelOutcome::cancelled;
    }
    [[nodiscard]] std::string describe() const override { return what_; }
    void alarm_rang() override { notify(); }
    // From now on a cancellation of the waiting task goes to `f` (see CancelForwarder).
    void forward_cancel_to(CancelForwarder* f) noexcept { forwarder_ = f; }
    // The task that awaited last (for combinators that must re-raise its cancel message).
    [[nodiscard]] TaskCore* task() const noexcept { return task_; }

private:
    TaskCore* task_ = nullptr;
    CancelForwarder* forwarder_ = nullptr;
    const char* what_;
    bool waiting_ = false;
    bool woken_ = false;
    bool notified_ = false;
    bool forwarded_ = false;
};

// Receives child completions in the order the children finish, each one hop (a ready-queue
// step) after the child finished, as CPython's done callbacks run.
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
        for (std::size_t i = 0; i < n_; ++i) {
            Node& n = nodes_[i];
            if (!n.target) continue;
            n.target->remove_node(&n);
            n.release_slot(n.target->loop());
        }
    }

    // Starts watching child `i`. A child already done is reported one hop later, as
    // CPython's add_done_callback on a done future schedules the callback (wait,
    // as_completed), or at once with `at_once` (3.12's gather runs the callback of a child
    // already done itself).
    // Throws: std::bad_alloc (for the node's ready-queue slot), with child `i` unwatched.
    void watch(std::size_t i, FutureCore* child, bool at_once = false) {
        Node& n = nodes_[i];
        n.hold_slot(child->live_loop());
        n.target = child;
        n.by = TaskCore::running();
        if (!child->done())
            child->add_node(&n);
        else if (at_once)
            n.observer->child_done(i);
        else
            n.schedule(*child->loop());
    }

private:
    struct Node final : DoneNode, FrameRunnable {
        ChildObserver* observer = nullptr;
        std::size_t index = 0;
        FutureCore* target = nullptr;
        const FutureCore* by = nullptr;  // the task that watches (awaiter())
        void on_done(FutureCore& f) override { schedule(*f.loop()); }
        [[nodiscard]] const FutureCore* awaiter() const noexcept override { return by; }
        void run_scheduled() override { observer->child_done(index); }
    };
    std::unique_ptr<Node[]> nodes_;
    std::size_t n_;
};

// A deadline in a combinator's frame: tells its listener when it passes, from the ready
// queue, as CPython's call_later handle runs (a callback due at the same moment and
// scheduled earlier runs first).
class Alarm final : public TimerNode, public FrameRunnable {
public:
    Alarm(EventLoop& loop, AlarmListener& listener) noexcept : loop_(loop), listener_(listener) {}
    Alarm(const Alarm&) = delete;
    Alarm& operator=(const Alarm&) = delete;
    ~Alarm() {
        disarm();
        release_slot(&loop_);
    }

    // Throws: std::bad_alloc, unarmed.
    void arm(EventLoop::time_point deadline) {
        disarm();
        hold_slot(loop_);
        when = deadline;
        LoopAccess::timers(loop_).push(this);
    }
    void disarm() noexcept {
        LoopAccess::timers(loop_).disarm(this);
        unschedule();
    }
    [[nodiscard]] bool rang() const noexcept { return rang_; }
    void fire() override { schedule(loop_); }
    void run_scheduled() override {
        rang_ = true;
        listener_.alarm_rang();
    }

private:
    EventLoop& loop_;
    AlarmListener& listener_;
    bool rang_ = false;
};

}  // namespace asyncio::detail
