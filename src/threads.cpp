// src/threads.cpp: the loop's default executor (base_events.py's run_in_executor,
// set_default_executor and shutdown_default_executor).
#include <asyncio/threads.hpp>
#include <asyncio/timeouts.hpp>

#include "loop_internal.hpp"

#include <chrono>
#include <optional>
#include <thread>

namespace asyncio {
namespace detail {

concurrent::Executor& default_executor(EventLoop& loop) {
    auto& ex = LoopAccess::default_executor(loop);
    if (!ex) {
        if (LoopAccess::executor_shutdown_called(loop)) throw RuntimeError("Executor shutdown has been called");
        ex = std::make_shared<concurrent::ThreadPoolExecutor>(0, "asyncio");
    }
    return *ex;
}

namespace {

// The helper thread's message: every thread of the executor has ended.
class JoinedOp final : public RemoteOp {
public:
    JoinedOp(EventLoop& loop, Future<void> done) : RemoteOp(loop), done_(std::move(done)) {}

private:
    void complete() override {
        Future<void> f = std::move(*done_);
        done_.reset();
        if (!f.done()) f.set_result();
    }
    void let_go() noexcept override { done_.reset(); }
    std::optional<Future<void>> done_;
};

// The joining thread, and what giving it up means: a wait that ends any other way than by
// joining it (timeout, Ctrl-C, the loop closing with the frame) tells the executor not to
// wait and leaves its threads to end on their own; it never blocks.
struct Joiner {
    std::shared_ptr<concurrent::ThreadPoolExecutor> executor;
    std::thread thread;
    ~Joiner() {
        if (!thread.joinable()) return;
        executor->shutdown(false, false);
        thread.detach();
    }
};

}  // namespace

Coro<void> shutdown_default_executor(EventLoop& loop, std::optional<Delay> timeout) {
    auto executor = LoopAccess::default_executor(loop);
    LoopAccess::set_executor_shutdown_called(loop);
    if (!executor) co_return;
    Future<void> joined = loop.create_future<void>();
    Ref<RemoteOp> op(new JoinedOp(loop, joined), adopt_ref);
    Joiner joiner{executor, {}};
    // What the thread holds: the executor (shared) and the op (atomic count), not the loop.
    joiner.thread = std::thread([executor, op]() mutable {
        executor->shutdown(true, false);
        op->post_home();
        op = {};
    });
    if (!timeout) {
        co_await joined;
    } else {
        try {
            co_await wait_for(joined, *timeout);
        } catch (const TimeoutError&) {
            std::chrono::duration<double> secs = timeout->value;
            print_exception_context({"RuntimeWarning: The executor did not finishing joining its threads within " +
                                         std::to_string(secs.count()) + " seconds.",
                                     nullptr,
                                     {}});
            co_return;  // the joiner lets the threads end on their own
        }
    }
    joiner.thread.join();
}

}  // namespace detail

void EventLoop::set_default_executor(std::shared_ptr<concurrent::ThreadPoolExecutor> executor) {
    if (!executor) throw ValueError("executor must be ThreadPoolExecutor");
    default_executor_ = std::move(executor);
}

Coro<void> EventLoop::shutdown_default_executor() { return detail::shutdown_default_executor(*this, std::nullopt); }
Coro<void> EventLoop::shutdown_default_executor(Delay timeout) { return detail::shutdown_default_executor(*this, timeout); }

}  // namespace asyncio
