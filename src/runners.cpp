// src/runners.cpp: Runner and its SIGINT handling (Lib/asyncio/runners.py).
#include <asyncio/runners.hpp>

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <vector>

namespace asyncio {
namespace {

// The loop a SIGINT should interrupt. Atomics: read from the signal handler.
std::atomic<EventLoop*> g_sigint_loop{nullptr};
std::atomic<int> g_sigint_count{0};

extern "C" void on_sigint(int) {
    if (g_sigint_count.fetch_add(1, std::memory_order_relaxed) >= 1) {
        // A second Ctrl-C while the first is being handled: end the process as an
        // unhandled SIGINT would (CPython raises KeyboardInterrupt wherever it lands).
        ::signal(SIGINT, SIG_DFL);
        ::raise(SIGINT);
        return;
    }
    if (EventLoop* loop = g_sigint_loop.load(std::memory_order_acquire)) detail::LoopAccess::interrupt_from_signal(*loop);
}

bool on_main_thread() { return ::getpid() == static_cast<pid_t>(::syscall(SYS_gettid)); }

// CPython's _cancel_all_tasks: cancel what is left, let it finish, report real errors.
void cancel_all_tasks(EventLoop& loop) {
    std::vector<AnyTask> tasks;
    for (detail::FutureCore* c = detail::LoopAccess::cores(loop); c; c = c->next_in_loop)
        if (c->is_task() && !c->done()) tasks.push_back(detail::FutureCoreAccess::share<AnyTask>(c));
    if (tasks.empty()) return;
    auto remaining = std::make_shared<std::size_t>(tasks.size());
    for (AnyTask& t : tasks) {
        t.cancel();
        t.add_done_callback([remaining, &loop](const AnyTask&) {
            if (--*remaining == 0) loop.stop();
        });
    }
    while (*remaining > 0) loop.run_forever();
    for (AnyTask& t : tasks) {
        if (t.cancelled()) continue;
        if (std::exception_ptr e = t.exception())
            loop.call_exception_handler({"unhandled exception during asyncio.run() shutdown", e, t.get_name()});
    }
}

}  // namespace

Runner::Runner(LoopFactory loop_factory) : loop_factory_(std::move(loop_factory)) {}

Runner::~Runner() { close(); }

EventLoop& Runner::get_loop() {
    if (closed_) throw RuntimeError("Runner is closed");
    if (!loop_) {
        loop_ = loop_factory_ ? loop_factory_() : new_event_loop();
        if (!loop_) throw RuntimeError("Runner: the loop factory returned no loop");
    }
    return *loop_;
}

void Runner::check_can_run() {
    if (detail::running_loop()) throw RuntimeError("Runner.run() cannot be called from a running event loop");
    if (closed_) throw RuntimeError("Runner is closed");
    interrupt_count_ = 0;
}

void Runner::close() noexcept {
    if (closed_) return;
    closed_ = true;
    if (!loop_) return;
    try {
        cancel_all_tasks(*loop_);
    } catch (...) {
        loop_->call_exception_handler({"error while cancelling the remaining tasks", std::current_exception(), {}});
    }
    try {
        loop_->close();
    } catch (...) {  // close() only throws while running, which cannot be the case here
    }
    loop_.reset();
}

Runner::RunGuard::RunGuard(Runner& r, AnyTask main) : runner_(r), main_(std::move(main)) {
    EventLoop& loop = runner_.get_loop();
    detail::LoopAccess::set_on_interrupt(loop, [this] {
        ++runner_.interrupt_count_;
        if (runner_.interrupt_count_ == 1 && !main_.done()) main_.cancel();
    });
    struct sigaction current {};
    if (on_main_thread() && ::sigaction(SIGINT, nullptr, &current) == 0 && current.sa_handler == SIG_DFL &&
        g_sigint_loop.load() == nullptr) {
        g_sigint_count.store(0, std::memory_order_relaxed);
        g_sigint_loop.store(&loop, std::memory_order_release);
        struct sigaction sa {};
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        installed_ = ::sigaction(SIGINT, &sa, nullptr) == 0;
        if (!installed_) g_sigint_loop.store(nullptr);
    }
}

Runner::RunGuard::~RunGuard() {
    if (installed_) {
        ::signal(SIGINT, SIG_DFL);
        g_sigint_loop.store(nullptr, std::memory_order_release);
    }
    if (runner_.loop_) detail::LoopAccess::set_on_interrupt(*runner_.loop_, {});
}

void Runner::RunGuard::rethrow_as_interrupt_if_needed() {
    if (runner_.interrupt_count_ > 0 && main_.uncancel() == 0) throw KeyboardInterrupt();
}

}  // namespace asyncio
