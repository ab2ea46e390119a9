// src/runners.cpp: Runner and its SIGINT handling (Lib/asyncio/runners.py).
#include <asyncio/runners.hpp>
#include <asyncio/threads.hpp>

#include "loop_internal.hpp"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace asyncio {
namespace {

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

Runner::Runner(Options options)
    : loop_factory_(std::move(options.loop_factory)), debug_(options.debug), stall_options_(options.stall_detector) {}

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
        if (debug_) loop_->set_debug(*debug_);  // CPython's _lazy_init: only when given
        if (stall_options_) {
            try {
                stall_detector_ = std::make_unique<debug::StallDetector>(*loop_, *stall_options_);
            } catch (...) {
                loop_.reset();  // no half-made runner: the next get_loop() tries again
                throw;
            }
        }
        context_ = detail::capture_context();  // CPython's _lazy_init: copy_context()
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
    stall_detector_.reset();  // its thread stops before the loop goes
    try {
        loop_->close();
    } catch (...) {  // close() only throws while running, which cannot be the case here
    }
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
        detail::LoopAccess::set_on_interrupt(*loop_, [] { throw KeyboardInterrupt(); });
        Task<void> joining;
        try {
            cancel_all_tasks(*loop_);
            // CPython's constants.THREAD_JOIN_TIMEOUT. A Ctrl-C ends the wait: the threads
            // are left to end on their own (never joined at exit: gh-111358).
            if (detail::LoopAccess::default_executor(*loop_)) {
                joining = loop_->create_task(loop_->shutdown_default_executor(std::chrono::seconds(300)));
                loop_->run_until_complete(joining);
            }
        } catch (const KeyboardInterrupt&) {
            interrupted = true;
            // The wait ends here: one step lets it give the threads up (no "Task was
            // destroyed but it is pending!" for the library's own task).
            if (joining && !joining.done()) {
                joining.cancel();
                try {
                    loop_->run_until_complete(joining);
                } catch (...) {  // CancelledError, or another Ctrl-C: closing goes on
                }
            }
        } catch (...) {
            loop_->call_exception_handler({"error while cancelling the remaining tasks", std::current_exception(), {}});
        }
        joining = {};  // before the pool is trimmed (close_loop)
        close_loop();
        // A Ctrl-C that came while the frames were destroyed, with no loop iteration after it.
        // (The Ctrl-C route holds the loop's mailbox, which outlives the loop.)
        if (sigint_installed_ && detail::interrupt_pending()) interrupted = true;
    }
    if (interrupted) throw KeyboardInterrupt();
}

Runner::SigintScope::SigintScope(Runner& r) : runner_(r) {
    if (runner_.sigint_scopes_++ > 0) return;
    // Only on the main thread, only if SIGINT has its default action, and only if no loop
    // handles it (src/unix_events.cpp), as CPython's Runner checks default_int_handler.
    runner_.sigint_installed_ = detail::route_interrupt(*runner_.loop_);
}

Runner::SigintScope::~SigintScope() {
    if (--runner_.sigint_scopes_ > 0 || !runner_.sigint_installed_) return;
    runner_.sigint_installed_ = false;
    detail::unroute_interrupt();  // the default back, if the handler is still ours
}

Runner::RunGuard::RunGuard(Runner& r, AnyTask main, bool keeps_context) : runner_(r), main_(std::move(main)), sigint_(r), keeps_context_(keeps_context) {
    // CPython's Runner._on_sigint: the first Ctrl-C cancels the main task, the next raises.
    detail::LoopAccess::set_on_interrupt(runner_.get_loop(), [this] {
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
    if (keeps_context_ && !runner_.context_) {
        auto* task = static_cast<detail::TaskCore*>(detail::FutureCoreAccess::core(main_));
        runner_.context_ = detail::Ref<detail::ContextImpl>(task->context());  // null if it set nothing
    }
}

void Runner::RunGuard::rethrow_as_interrupt_if_needed() {
    if (runner_.interrupt_count_ > 0 && main_.uncancel() == 0) throw KeyboardInterrupt();
}

}  // namespace asyncio
