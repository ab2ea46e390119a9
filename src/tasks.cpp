// src/tasks.cpp: current_task, all_tasks, run_until_complete's wait and the combinators'
// shared parts (Lib/asyncio/tasks.py); the task itself is src/task_core.cpp.
#include <asyncio/tasks.hpp>

#include "loop_internal.hpp"

#include <atomic>
#include <functional>
#include <new>

namespace asyncio {

detail::TaskCore* detail::LoopAccess::current_task(const EventLoop& l) noexcept {
    TaskCore* t = TaskCore::running();
    return t && t->loop() == &l ? t : nullptr;
}

namespace detail {

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
    Collector(std::vector<FutureCore*>& children, bool stop_on_error, const char* what) : wp(what), children_(children), remaining_(children.size()), stop_on_error_(stop_on_error) {}

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
    Collector c(children, !return_exceptions, "gather()");
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
    Collector c(children, false, "wait()");
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
    Collector c(one, false, "the end of a task");
    ChildWatch watch(&c, 1);
    watch.watch(0, t);
    while (c.remaining_ > 0) {
        bool cancel_requested = co_await c.wp;
        if (cancel_requested) throw CancelledError(c.wp.task()->cancel_message());
    }
}

}  // namespace asyncio::detail
