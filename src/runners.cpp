// src/runners.cpp: Runner and its SIGINT handling (Lib/asyncio/runners.py).
#include <asyncio/runners.hpp>
#include <asyncio/threads.hpp>

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace asyncio {
namespace {

// The loop a SIGINT should interrupt. Atomics: read from the signal handler.
std::atomic<EventLoop*> g_sigint_loop{nullptr};
// Ctrl-Cs not yet picked up by the loop (Runner's on_interrupt resets it).
std::atomic<int> g_sigint_count{0};

extern "C" void on_sigint(int) {
    if (g_sigint_count.fetch_add(1, std::memory_order_relaxed) >= 1) {
        // The loop has not picked up the one before: it is stuck in a callback or a task
        // step, and only this can end it. End the process as an unhandled SIGINT would
        // (CPython raises KeyboardInterrupt wherever the signal lands).
        ::signal(SIGINT, SIG_DFL);
        ::raise(SIGINT);
        return;
    }
    if (EventLoop* loop = g_sigint_loop.load(std::memory_order_acquire)) detail::LoopAccess::interrupt_from_signal(*loop);
}

// The loop picked up the Ctrl-C: the next one is again the first.
void picked_up() noexcept { g_sigint_count.store(0, std::memory_order_relaxed); }

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

Runner::~Runner() {
    try {
        close();
    } catch (const KeyboardInterrupt&) {
        // A destructor cannot raise it (see the doc comment): the loop is closed, so end the
        // process the way the Ctrl-C would have without a handler.
        ::signal(SIGINT, SIG_DFL);
        ::raise(SIGINT);
    }
}

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

// Destroys what is left of the loop; our handler, if installed, stays, with no loop to wake.
void Runner::close_loop() {
    try {
        loop_->close();
    } catch (...) {  // close() only throws while running, which cannot be the case here
    }
    if (sigint_installed_) g_sigint_loop.store(nullptr, std::memory_order_release);
    loop_.reset();
    detail::pool_trim();  // the frames of the run are all free now: their arenas go back
}

void Runner::close() {
    if (closed_) return;
    closed_ = true;
    if (!loop_) return;
    bool interrupted = false;
    {
        SigintScope sigint(*this);
        // Any Ctrl-C now ends the waiting for the tasks left (CPython's default handler
        // raises KeyboardInterrupt in _cancel_all_tasks).
        detail::LoopAccess::set_on_interrupt(*loop_, [] {
            picked_up();
            throw KeyboardInterrupt();
        });
        try {
            cancel_all_tasks(*loop_);
            // CPython's constants.THREAD_JOIN_TIMEOUT. A Ctrl-C ends the wait: the threads
            // are left to end on their own (never joined at exit: gh-111358).
            loop_->run_until_complete(loop_->shutdown_default_executor(std::chrono::seconds(300)));
        } catch (const KeyboardInterrupt&) {
            interrupted = true;
        } catch (...) {
            loop_->call_exception_handler({"error while cancelling the remaining tasks", std::current_exception(), {}});
        }
        close_loop();
        // A Ctrl-C that came while the frames were destroyed, with no loop iteration after it.
        if (sigint_installed_ && g_sigint_count.load(std::memory_order_relaxed) > 0) {
            picked_up();
            interrupted = true;
        }
    }
    if (interrupted) throw KeyboardInterrupt();
}

Runner::SigintScope::SigintScope(Runner& r) : runner_(r) {
    if (runner_.sigint_scopes_++ > 0) return;
    EventLoop& loop = *runner_.loop_;
    struct sigaction current {};
    if (on_main_thread() && ::sigaction(SIGINT, nullptr, &current) == 0 && current.sa_handler == SIG_DFL &&
        g_sigint_loop.load() == nullptr) {
        g_sigint_count.store(0, std::memory_order_relaxed);
        g_sigint_loop.store(&loop, std::memory_order_release);
        struct sigaction sa {};
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        runner_.sigint_installed_ = ::sigaction(SIGINT, &sa, nullptr) == 0;
        if (!runner_.sigint_installed_) g_sigint_loop.store(nullptr);
    }
}

Runner::SigintScope::~SigintScope() {
    if (--runner_.sigint_scopes_ > 0 || !runner_.sigint_installed_) return;
    runner_.sigint_installed_ = false;
    // As CPython, put the default back only if the handler is still ours.
    struct sigaction current {};
    if (::sigaction(SIGINT, nullptr, &current) == 0 && current.sa_handler == on_sigint) ::signal(SIGINT, SIG_DFL);
    g_sigint_loop.store(nullptr, std::memory_order_release);
}

Runner::RunGuard::RunGuard(Runner& r, AnyTask main) : runner_(r), main_(std::move(main)), sigint_(r) {
    // CPython's Runner._on_sigint: the first Ctrl-C cancels the main task, the next raises.
    detail::LoopAccess::set_on_interrupt(runner_.get_loop(), [this] {
        picked_up();
        ++runner_.interrupt_count_;
        if (runner_.interrupt_count_ == 1 && !main_.done()) {
            main_.cancel();
            return;
        }
        throw KeyboardInterrupt();
    });
}

Runner::RunGuard::~RunGuard() {
    if (runner_.loop_) detail::LoopAccess::set_on_interrupt(*runner_.loop_, {});
}

void Runner::RunGuard::rethrow_as_interrupt_if_needed() {
    if (runner_.interrupt_count_ > 0 && main_.uncancel() == 0) throw KeyboardInterrupt();
}

}  // namespace asyncio
