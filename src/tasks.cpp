// src/tasks.cpp: the task's step function, cancellation, current_task, all_tasks and
// run_until_complete's wait (Lib/asyncio/tasks.py).
#include <asyncio/tasks.hpp>

#include "loop_internal.hpp"

#include <atomic>
#include <functional>
#include <new>

namespace asyncio {
namespace detail {
namespace {

// Task names count across all loops, as CPython's module-level counter does. Each thread
// takes numbers in blocks, so that creating a task costs no atomic operation: one loop's
// tasks are numbered 1, 2, 3... as in CPython; a second thread's start at the next block.
std::atomic<std::uint64_t> g_task_counter{0};
constexpr std::uint64_t id_block = 1024;
thread_local std::uint64_t t_next_id = 0;
thread_local std::uint64_t t_id_end = 0;

std::uint64_t next_task_id() noexcept {
    if (t_next_id == t_id_end) [[unlikely]] {
        t_next_id = g_task_counter.fetch_add(id_block, std::memory_order_relaxed) + 1;
        t_id_end = t_next_id + id_block;
    }
    return t_next_id++;
}

}  // namespace

TaskCore::TaskCore(EventLoop* loop, std::coroutine_handle<> root)
    : FutureCore(loop), root_(root), wait_{root.address(), nullptr}, id_(next_task_id()) {
    future_flags_ |= is_task_bit;
    // The task's slot in the ready queue, held until it ends: whatever wakes it later (a
    // lock released, a future completed, a timer) cannot fail for want of memory.
    try {
        LoopAccess::ready(*loop).reserve();
    } catch (...) {
        root_.destroy();  // the task owns the coroutine from here: nothing else will free it
        root_ = {};
        throw;
    }
    wake();
}

std::uint64_t TaskCore::last_id() noexcept { return t_next_id == 0 ? 0 : t_next_id - 1; }

std::string TaskCore::name() const {
    if (has_extras()) {
        const Extras* e = find_extras();
        if (!e->name.empty()) return e->name;
    }
    return "Task-" + std::to_string(id_);
}

bool TaskCore::cancel(const std::string& msg) {
    if (done()) return false;
    try {
        Extras& extras = this->extras();
        ++extras.cancels;
        if (!flag(message_locked_bit)) {
            extras.cancel_msg = msg;
            set_flag(message_locked_bit, true);
        }
    } catch (const std::bad_alloc&) {
        // Out of memory for the count or the message: cancel all the same (gather, TaskGroup
        // and the runner cancel from where a std::bad_alloc has no caller), uncounted.
    }
    // Interrupt the wait if possible: sleep drops its timer, an awaited task or future is
    // cancelled in turn. The waiter stays set: an awaited task may refuse, and a second
    // cancel() must reach it again (CPython keeps _fut_waiter the same way).
    // (Not once the root returned: its value took the waiter's place, and nothing waits.)
    if (!flag(returned_bit) && wait_.waiter && offer_cancel(*wait_.waiter, msg)) return true;
    set_flag(must_cancel_bit, true);
    return true;
}

void TaskCore::throw_cancelled() {
    set_flag(cancel_bits, false);
    throw CancelledError(cancel_message());
}

void TaskCore::run() {
    if (flag(recheck_bit)) {
        if (wait_.waiter->wait_again()) return;  // queued again: stays suspended
        set_flag(recheck_bit, false);
    }
    wait_.waiter = nullptr;
    if (!flag(started_bit)) [[unlikely]] {
        if (must_cancel()) {
            // Cancelled before its first step: the body never runs (CPython throws into a
            // coroutine that has not started, which closes it at once).
            task_flags_ = started_bit;
            finish_root(std::make_exception_ptr(CancelledError(cancel_message())));
            return;
        }
        task_flags_ = started_bit;
    } else {
        set_flag(message_locked_bit, false);
    }
    t_running = this;
    std::coroutine_handle<> h = std::coroutine_handle<>::from_address(wait_.resume_point);
    do {
        t_next = nullptr;
        h.resume();
        h = t_next;
    } while (h);
    t_running = nullptr;
    if (root_.done()) {
        if (must_cancel() && !has_exception()) [[unlikely]] {
            // Cancelled right before the coroutine stopped (from a destructor that ran after
            // co_return, say): CPython's __step ends such a task cancelled, value discarded.
            set_flag(must_cancel_bit, false);
            if (flag(returned_bit)) discard_value();
            finish_root(std::make_exception_ptr(CancelledError(cancel_message())));
        } else if (has_exception()) {
            finish_root(take_exception());
        } else {
            LoopAccess::ready(*loop_).unreserve();  // as finish_root
            root_.destroy();
            root_ = {};
            finish_ok();
            release();  // the loop's reference
        }
    }
}

}  // namespace detail

detail::TaskCore* detail::LoopAccess::current_task(const EventLoop& l) noexcept {
    TaskCore* t = TaskCore::running();
    return t && t->loop() == &l ? t : nullptr;
}

namespace detail {

void TaskCore::finish_root(std::exception_ptr e) noexcept {
    LoopAccess::ready(*loop_).unreserve();  // a done task is never queued again
    if (root_) {
        root_.destroy();
        root_ = {};
    }
    if (!e) {
        finish_ok();
    } else {
        try {
            std::rethrow_exception(e);
        } catch (const CancelledError& c) {
            try {
                set_cancel_message(c.message());
            } catch (const std::bad_alloc&) {  // out of memory: cancelled without the message
            }
            finish_cancelled();
        } catch (...) {
            finish_with_exception(std::move(e));
        }
    }
    release();  // the loop's reference: the task is no longer its business
}

void TaskCore::destroy_pending() noexcept {
    add_ref();
    LoopAccess::ready(*loop_).unreserve();
    loop_->call_exception_handler({"Task was destroyed but it is pending!", nullptr, name()});
    state_ = State::cancelled;
    discard_callbacks();
    if (root_) {
        // The chain of suspended frames, innermost first (never recursively: a chain may be a
        // million deep). A destructor that throws is reported and the teardown goes on.
        void* innermost = wait_.resume_point;
        root_ = {};
        destroy_suspended_frames(innermost, [this](std::exception_ptr e) {
            loop_->call_exception_handler({"Exception in a destructor of a pending task's frame", std::move(e), name()});
        });
    }
    release();  // the loop's reference
    release();
}

namespace {

// run_until_complete's done callback: stop the loop one iteration after completion, as
// CPython's _run_until_complete_cb does.
class StopNode final : public DoneNode, public Runnable {
public:
    // Holds a ready-queue slot while it lives (see ReadyQueue).
    StopNode(EventLoop* loop, bool* scheduled) : loop_(loop), scheduled_(scheduled) { LoopAccess::ready(*loop).reserve(); }
    StopNode(const StopNode&) = delete;
    StopNode& operator=(const StopNode&) = delete;
    ~StopNode() { LoopAccess::ready(*loop_).unreserve(); }
    void on_done(FutureCore& f) override {
        *scheduled_ = true;  // from here on the ready queue owns the node
        fut_ = &f;
        f.add_ref();
        LoopAccess::ready(*loop_).push(this);
    }
    void run() override {
        loop_->stop();
        drop();
    }
    void drop() noexcept override {
        FutureCore* f = fut_;
        delete this;
        f->release();
    }
    void discard() noexcept override { delete this; }

private:
    EventLoop* loop_;
    bool* scheduled_;
    FutureCore* fut_ = nullptr;
};

}  // namespace

void run_until_done(EventLoop& loop, FutureCore* core) {
    if (core->loop() != &loop) throw ValueError("The future belongs to a different loop than the one specified as the loop argument");
    bool scheduled = false;
    auto* node = new StopNode(&loop, &scheduled);
    if (core->done())
        node->on_done(*core);
    else
        core->add_node(node);
    // Stopped by someone else, or an exception: the node is still in the callback list.
    auto forget = [&] {
        if (!scheduled) {
            core->remove_node(node);
            delete node;
        }
    };
    try {
        loop.run_forever();
    } catch (...) {
        forget();
        throw;
    }
    forget();
    if (!core->done()) throw RuntimeError("Event loop stopped before Future completed.");
}

}  // namespace detail

std::optional<AnyTask> current_task() {
    detail::TaskCore* t = detail::LoopAccess::current_task(get_running_loop());
    if (!t) return std::nullopt;
    return detail::FutureCoreAccess::share<AnyTask>(t);
}

std::unordered_set<AnyTask> all_tasks() {
    std::unordered_set<AnyTask> out;
    for (detail::FutureCore* c = detail::LoopAccess::cores(get_running_loop()); c; c = c->next_in_loop)
        if (c->is_task() && !c->done()) out.insert(detail::FutureCoreAccess::share<AnyTask>(c));
    return out;
}

}  // namespace asyncio

namespace asyncio::detail {
namespace {

// The state of a gather or wait, in its frame: counts completions as their callbacks run.
class Collector final : public ChildObserver, public CancelForwarder {
public:
    Collector(std::vector<FutureCore*>& children, bool stop_on_error) : children_(children), remaining_(children.size()), stop_on_error_(stop_on_error) {}

    void child_done(std::size_t i) override {
        --remaining_;
        FutureCore* c = children_[i];
        if (!c->cancelled()) {
            std::exception_ptr e = c->exception();  // marks it retrieved, as CPython's callbacks do
            if (e) ++errors_;
            if (e && !first_error_) first_error_ = e;
        } else if (!first_error_) {
            first_error_ = std::make_exception_ptr(CancelledError(c->cancel_message()));
        }
        if (first_error_ && stop_on_error_ && !cancelling_) cancel_all();
        if (remaining_ == 0) wp.notify();
        if (on_child) on_child(*this, c);
    }
    void cancel_all() {
        cancelling_ = true;
        for (FutureCore* c : children_)
            if (!c->done()) c->cancel({});
    }
    // gather's waiting task is cancelled: cancel the children now (CPython's
    // _GatheringFuture.cancel), and go on waiting for them.
    bool forward_cancel(const std::string& msg) override {
        bool any = false;
        for (FutureCore* c : children_)
            if (!c->done() && c->cancel(msg)) any = true;
        if (any) cancelling_ = true;
        return any;
    }

    WaitPoint wp;
    std::function<void(Collector&, FutureCore*)> on_child;
    std::vector<FutureCore*>& children_;
    std::size_t remaining_;
    std::size_t errors_ = 0;
    std::exception_ptr first_error_;
    bool stop_on_error_;
    bool cancelling_ = false;
    bool stop_ = false;
};

}  // namespace

Coro<void> gather_wait(std::vector<FutureCore*> children, bool return_exceptions) {
    EventLoop& loop = get_running_loop();
    for (FutureCore* child : children)
        if (child->loop() != &loop) throw ValueError("futures are tied to different event loops");
    Collector c(children, !return_exceptions);
    c.wp.forward_cancel_to(&c);
    ChildWatch watch(&c, children.size());
    // Children already done are counted now, and if all are, nothing suspends (3.12).
    for (std::size_t i = 0; i < children.size(); ++i) watch.watch(i, children[i], /*at_once=*/true);
    bool outer_cancelled = false;
    while (c.remaining_ > 0) {
        // Cancelled while waiting: the children were cancelled as the request came (see
        // forward_cancel), and we waited for all of them; a request that found them all
        // done arrives here as a pending one.
        bool cancel_requested = co_await c.wp;  // not inside the `if`: see docs/design/toolchain.md
        if (cancel_requested && !outer_cancelled) {
            outer_cancelled = true;
            c.cancel_all();
        }
    }
    if (outer_cancelled) throw CancelledError(c.wp.task()->cancel_message());
    if (!return_exceptions && c.first_error_) std::rethrow_exception(c.first_error_);
}

Coro<void> wait_core(std::vector<FutureCore*> children, std::optional<EventLoop::time_point> deadline, ReturnWhen when) {
    Collector c(children, false);
    c.on_child = [when](Collector& self, FutureCore* child) {
        bool failed = !child->cancelled() && self.errors_ > 0 && child->exception();
        if (when == ReturnWhen::FIRST_COMPLETED || (when == ReturnWhen::FIRST_EXCEPTION && failed)) {
            self.stop_ = true;
            self.wp.notify();
        }
    };
    EventLoop& loop = get_running_loop();
    Alarm alarm(loop, c.wp);
    if (deadline) alarm.arm(*deadline);
    ChildWatch watch(&c, children.size());
    for (std::size_t i = 0; i < children.size(); ++i) watch.watch(i, children[i]);
    while (c.remaining_ > 0 && !c.stop_ && !alarm.rang()) {
        bool cancel_requested = co_await c.wp;
        if (cancel_requested) throw CancelledError(c.wp.task()->cancel_message());  // the tasks run on
    }
}

Coro<void> wait_done(FutureCore* t) {
    std::vector<FutureCore*> one{t};
    Collector c(one, false);
    ChildWatch watch(&c, 1);
    watch.watch(0, t);
    while (c.remaining_ > 0) {
        bool cancel_requested = co_await c.wp;
        if (cancel_requested) throw CancelledError(c.wp.task()->cancel_message());
    }
}

}  // namespace asyncio::detail
