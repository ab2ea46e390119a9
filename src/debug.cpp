// src/debug.cpp: what suspended tasks wait on, in words (asyncio/debug.hpp), and
// the deadlock report of a loop on the virtual clock that nothing can wake
// (EventLoop::prepare_turn; docs/design/debugging.md).
#include <asyncio/debug.hpp>
#include <asyncio/detail/task_core.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace asyncio {
namespace detail {

std::string describe_awaited(const FutureCore& f) {
    std::string name = f.report_name();
    return name.empty() ? std::string("a Future") : name;
}

std::string task_name_by_id(std::uint64_t id) {
    if (EventLoop* loop = running_loop())
        for (FutureCore* c = LoopAccess::cores(*loop); c; c = c->next_in_loop)
            if (c->is_task() && static_cast<TaskCore*>(c)->id() == id) return static_cast<TaskCore*>(c)->name();
    return "Task-" + std::to_string(id);
}

std::string deadlock_report(EventLoop& loop) {
    std::string out =
        "deadlock: no task can ever run again (nothing is ready, no timer is set, no file descriptor is watched, no call is running "
        "in another thread, and none came from one within a second)";
    std::string tasks = debug::waiting_tasks(loop);
    if (tasks.empty()) return out + "; no task is pending either";
    out += ":\n  ";
    for (char c : tasks) {
        out += c;
        if (c == '\n') out += "  ";
    }
    return out;
}

}  // namespace detail

namespace debug {

std::string waiting_tasks(EventLoop& loop) {
    std::vector<const detail::TaskCore*> pending;
    for (detail::FutureCore* c = detail::LoopAccess::cores(loop); c; c = c->next_in_loop)
        if (c->is_task() && !c->done()) pending.push_back(static_cast<const detail::TaskCore*>(c));
    std::sort(pending.begin(), pending.end(), [](const detail::TaskCore* a, const detail::TaskCore* b) { return a->id() < b->id(); });
    std::string out;
    for (const detail::TaskCore* t : pending) {
        if (!out.empty()) out += '\n';
        out += t->name();
        if (t == detail::LoopAccess::current_task(loop))
            out += " is running";
        else if (const detail::Waiter* w = t->waiting_on())
            out += " waits on " + w->describe();
        else
            out += " is ready to run";
    }
    return out;
}

void dump_on_signal(int sig, std::FILE* out) {
    EventLoop& loop = get_running_loop();
    loop.add_signal_handler(sig, [&loop, sig, out] {
        const std::string text = "asyncio: tasks of the loop (signal " + std::to_string(sig) + "):\n" + waiting_tasks(loop) + "\n";
        std::fwrite(text.data(), 1, text.size(), out);
        std::fflush(out);
    });
}

}  // namespace debug
}  // namespace asyncio
