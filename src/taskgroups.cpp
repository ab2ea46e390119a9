// src/taskgroups.cpp: TaskGroup's bookkeeping and exit (Lib/asyncio/taskgroups.py).
#include <asyncio/taskgroups.hpp>

#include <algorithm>
#include <new>

namespace asyncio {

// One unfinished child: its done callback, linked in the group's list. The group learns of
// the child's end one hop later, from the ready queue, as CPython's _on_task_done callback
// runs (so two children failing in the same step are both recorded before either's error
// cancels the other).
struct TaskGroup::Child final : detail::DoneNode, detail::FrameRunnable {
    TaskGroup* group;
    AnyTask task;
    Child* prev = nullptr;
    Child* next = nullptr;
    // Holds a ready-queue slot (FrameRunnable) from here: the child's end queues the node.
    Child(TaskGroup* g, AnyTask t) : group(g), task(std::move(t)) { hold_slot(detail::FutureCoreAccess::core(task)->live_loop()); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() { give_back_slot(); }
    void give_back_slot() noexcept {
        if (auto* core = detail::FutureCoreAccess::core(task)) release_slot(core->loop());
    }
    void on_done(detail::FutureCore& f) override { schedule(*f.loop()); }
    void run_scheduled() override { group->on_task_done(this); }
    [[nodiscard]] const detail::FutureCore* awaiter() const noexcept override { return group->parent_; }
};

// Holds the group for a task created while it was open that outlived it.
struct TaskGroup::KeepAlive final : detail::DoneNode {
    TaskGroup* group;
    explicit KeepAlive(TaskGroup* g) noexcept : group(g) { ++g->refs_; }
    void on_done(detail::FutureCore&) override { discard(); }
    void discard() noexcept override {
        group->release();
        delete this;
    }
};

TaskGroup::Scope::Scope() : group(new TaskGroup) {}

TaskGroup::Scope::~Scope() {
    group->keep_alive_for_late_tasks();
    group->release();
}

void TaskGroup::release() noexcept {
    if (--refs_ == 0) delete this;
}

// The tasks created while the group was open sit at the front of the loop's list (newest
// first); those still pending may hold `&tg`: each keeps the group until it finishes. No
// allocation unless there are such tasks.
void TaskGroup::keep_alive_for_late_tasks() noexcept {
    if (!loop_ || loop_->is_closed()) return;
    for (detail::FutureCore* c = detail::LoopAccess::cores(*loop_); c; c = c->next_in_loop) {
        if (!c->is_task()) continue;
        auto* t = static_cast<detail::TaskCore*>(c);
        if (t->id() <= opened_after_) break;
        if (t->done()) continue;
        try {
            t->add_node(new KeepAlive(this));
        } catch (const std::bad_alloc&) {
            return;  // out of memory: that task must not touch the group (as before)
        }
    }
}

namespace {
bool is_cancellation(const std::exception_ptr& e) { return ExceptionGroup::is_a<CancelledError>(e); }
// Errors a group re-raises alone, as CPython does for SystemExit and KeyboardInterrupt.
bool is_base_error(const std::exception_ptr& e) { return ExceptionGroup::is_a<KeyboardInterrupt>(e); }
}  // namespace

TaskGroup::TaskGroup() = default;

TaskGroup::~TaskGroup() {
    // exit() waited for every child; this only runs early if the frame is destroyed with
    // the loop closing, when the children's frames are going too.
    while (Child* c = children_) {
        children_ = c->next;
        detail::FutureCoreAccess::core(c->task)->remove_node(c);
        delete c;
    }
}

void TaskGroup::enter() {
    loop_ = &get_running_loop();
    opened_after_ = detail::TaskCore::last_id();
    parent_ = detail::LoopAccess::current_task(*loop_);
    if (!parent_) throw RuntimeError("TaskGroup cannot determine the parent task");
}

void TaskGroup::check_can_create() const {
    if (exiting_ && n_children_ == 0) throw RuntimeError("TaskGroup is finished");
    if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

void TaskGroup::adopt(const AnyTask& task) {
    Child* child = nullptr;
    try {
        // Room for this child's error now: on_task_done records it as the child ends, where
        // a std::bad_alloc would have no caller.
        std::size_t needed = errors_.size() + n_children_ + 1;
        if (errors_.capacity() < needed) errors_.reserve(std::max(needed, 2 * errors_.capacity()));
        child = new Child(this, task);
    } catch (...) {
        task.cancel();  // out of memory: a task the group cannot own must not run (it has not started)
        throw;
    }
    child->next = children_;
    if (children_) children_->prev = child;
    children_ = child;
    ++n_children_;
    detail::FutureCore* core = detail::FutureCoreAccess::core(task);
    if (core->done())
        on_task_done(child);  // 3.12: at once, no callback
    else
        core->add_node(child);
}

void TaskGroup::abort() {
    aborting_ = true;
    for (Child* c = children_; c; c = c->next)
        if (!c->task.done()) c->task.cancel();
}

void TaskGroup::cancel() {
    if (exiting_ && n_children_ == 0) return;
    if (!aborting_) abort();
    if (parent_ && !parent_cancel_requested_) {
        parent_cancel_requested_ = true;
        parent_->cancel({});
    }
}

// A child finished (called from the ready queue, one hop after it completed).
void TaskGroup::on_task_done(Child* child) {
    child->give_back_slot();
    AnyTask task = std::move(child->task);
    (child->prev ? child->prev->next : children_) = child->next;
    if (child->next) child->next->prev = child->prev;
    delete child;
    --n_children_;
    if (exiting_ && n_children_ == 0) on_completed_.notify();

    if (task.cancelled()) return;
    std::exception_ptr exc = task.exception();
    if (!exc) return;
    errors_.push_back(exc);
    if (is_base_error(exc) && !base_error_) base_error_ = exc;
    if (parent_->done()) {
        try {
            loop_->call_exception_handler({"Task has errored out but its parent task is already completed", exc, task.get_name()});
        } catch (const std::bad_alloc&) {  // no memory for the report's strings
        }
        return;
    }
    if (!aborting_ && !parent_cancel_requested_) {
        // The parent is not being cancelled: cancel it ourselves to stop whatever the body
        // awaits now, and withdraw that request in exit():
        //
        //     co_await TaskGroup::run([&](TaskGroup& g) -> Coro<> {
        //         g.create_task(crash_soon());
        //         co_await something();          // <- interrupted here
        //     });
        //     co_await something_else();         // runs normally after the group
        abort();
        parent_cancel_requested_ = true;
        parent_->cancel({});
    }
}

// CPython's __aexit__: wait for every child, then decide what to raise.
Coro<void> TaskGroup::exit(std::exception_ptr error) {
    exiting_ = true;
    if (error && is_base_error(error) && !base_error_) base_error_ = error;
    const bool body_cancelled = error && is_cancellation(error);
    std::exception_ptr propagate_cancellation = body_cancelled ? error : nullptr;
    if (error && !aborting_) abort();

    // The parent may be cancelled again (and again) while we wait: keep waiting.
    while (n_children_ > 0) {
        bool cancel_requested = co_await on_completed_;
        if (cancel_requested) {
            if (!aborting_) {
                // The parent is being cancelled from outside while the body had ended:
                //     co_await TaskGroup::run(body);   // <- parent.cancel() lands here
                propagate_cancellation = std::make_exception_ptr(CancelledError(parent_->cancel_message()));
                abort();
            }
        }
    }

    if (base_error_) std::rethrow_exception(base_error_);
    if (parent_cancel_requested_) {
        // Our own request: withdraw it; with no other request left, the body's
        // CancelledError was ours and does not propagate.
        if (parent_->uncancel() == 0) propagate_cancellation = nullptr;
    }
    if (propagate_cancellation && errors_.empty()) std::rethrow_exception(propagate_cancellation);
    if (error && !body_cancelled) errors_.push_back(error);
    if (!errors_.empty()) {
        // Cancelled from outside while failing: withdraw and renew that request so the
        // parent's next await is cancelled, with its count unchanged (CPython 3.13,
        // gh-116720).
        if (parent_->cancelling() > 0) {
            parent_->uncancel();
            parent_->cancel({});
        }
        throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
    }
}

}  // namespace asyncio
