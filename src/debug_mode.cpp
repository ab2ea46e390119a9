// src/debug_mode.cpp: the loop's watched steps — debug mode's timing of each step and its
// report of a slow one (loop.set_debug, loop.slow_callback_duration), and the step count a
// stall detector reads (src/stall_watch.hpp). Only a loop in debug mode or under a stall
// detector comes here (EventLoop::run_once<true>); docs/design/debugging.md.
#include <asyncio/detail/task_core.hpp>
#include <asyncio/events.hpp>
#include <asyncio/graph.hpp>

#include "stall_watch.hpp"

#include <cstdio>
#include <string>

namespace asyncio {

void EventLoop::run_step_watched(detail::Runnable* r) {
    if (stall_watch_) stall_watch_->step_begins();
    if (!debug_) {
        r->run();
    } else {
        // Where a task resumes from is known before its step only; the task is held so that
        // its name can still be read if the step ends it.
        detail::TaskCore* task = r->as_task();
        detail::SourceSite resumed;
        bool first_step = false;
        if (task) {
            first_step = !task->started();
            task->add_ref();
            if (void* frame = task->innermost_frame()) resumed = detail::frame_header(frame).where;
        }
        struct Release {
            detail::TaskCore* t;
            ~Release() {
                if (t) t->release();
            }
        } hold{task};
        const auto began = clock::now();  // real time, on the virtual clock too: how long the step ran
        r->run();
        const duration took = clock::now() - began;
        if (took >= slow_callback_duration_) [[unlikely]]
            report_slow_step(task, resumed, first_step, took);
    }
    // (Read again: the step may have destroyed the detector, or made one.)
    if (stall_watch_ && stall_watch_->reported.load(std::memory_order_relaxed)) [[unlikely]]
        detail::stall_step_ended(*stall_watch_);
}

// CPython: logger.warning('Executing %s took %.3f seconds', handle, dt).
void EventLoop::report_slow_step(detail::TaskCore* task, detail::SourceSite resumed, bool first_step, duration took) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", std::chrono::duration<double>(took).count());
    std::string what = "a callback";
    std::string name;
    if (task) {
        name = task->name();
        what = "Task name='" + name + "'";
        if (first_step) {
            what += " starting " + detail::site_function(resumed);
        } else if (resumed.known()) {
            what += " resumed at " + detail::site_function(resumed) + " (" + detail::short_place(resumed.file(), resumed.line()) + ")";
        }
    }
    call_exception_handler({"Executing <" + what + "> took " + seconds + " seconds", nullptr, name});
}

namespace detail {

// CPython: RuntimeWarning: coroutine 'f' was never awaited.
void report_never_awaited(void* frame) noexcept {
    EventLoop* loop = running_loop();
    if (!loop || !loop->get_debug()) return;
    try {
        const SourceSite site = frame_header(frame).where;  // the coroutine's own place (get_return_object)
        loop->call_exception_handler({"coroutine '" + site_function(site) + "' (" + short_place(site.file(), site.line()) + ") was never awaited", nullptr, {}});
    } catch (...) {  // out of memory: no report
    }
}

}  // namespace detail
}  // namespace asyncio
