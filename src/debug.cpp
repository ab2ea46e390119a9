// src/debug.cpp: what suspended tasks wait on, in words (asyncio/debug.hpp), and
// the deadlock report of a loop on the virtual clock that nothing can wake
// (EventLoop::prepare_turn; docs/design/debugging.md).
#include <asyncio/debug.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/graph.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <unordered_set>
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
        if (t == detail::LoopAccess::current_task(loop) || !t->started()) continue;
        // Where: the innermost coroutine of the user's (the library's own frames, such as
        // gather's, are in the graph), by file name and line.
        const auto stack = detail::call_stack_of(*t, {});
        if (stack.empty()) continue;
        auto at = std::find_if(stack.begin(), stack.end(), [](const FrameCallGraphEntry& e) { return !detail::is_library_file(e.file); });
        const FrameCallGraphEntry& e = at == stack.end() ? stack.front() : *at;
        out += " in " + e.function + " at " + detail::short_place(e.file, e.line);
    }
    return out;
}

std::string format_loop_graph(EventLoop& loop, detail::SourceSite site) {
    using detail::FutureCore;
    // Every pending future and task, oldest first (the loop's list is newest first), and the
    // edges read from the awaited side: awaits[a] = what task `a` waits for.
    std::vector<const FutureCore*> pending;
    for (FutureCore* c = detail::LoopAccess::cores(loop); c; c = c->next_in_loop)
        if (!c->done()) pending.push_back(c);
    std::reverse(pending.begin(), pending.end());
    std::unordered_map<const FutureCore*, std::vector<const FutureCore*>> awaits;
    std::unordered_set<const FutureCore*> awaited;
    for (const FutureCore* c : pending) {
        for (const detail::DoneNode* n = c->first_node(); n; n = n->next) {
            const FutureCore* a = n->awaiter();
            if (!a) continue;
            auto& list = awaits[a];
            if (std::find(list.begin(), list.end(), c) == list.end()) list.push_back(c);
            awaited.insert(c);
        }
    }
    enum class Mark : std::uint8_t {
        on_path,
        shown
    };
    std::unordered_map<const FutureCore*, Mark> marks;
    struct Level {
        const FutureCore* core;
        std::size_t next;
    };
    std::vector<Level> path;
    std::string out;
    std::vector<std::string> cycles;
    auto name_of = [](const FutureCore* c) { return c->is_task() ? static_cast<const detail::TaskCore*>(c)->name() : std::string("a Future"); };
    auto show = [&](const FutureCore* c) {
        const std::string indent = detail::graph_indent(path.size());
        FutureCallGraph node = detail::graph_node(*c, site);
        out += indent + detail::graph_node_title(node);
        auto it = marks.find(c);
        if (it != marks.end()) {
            if (it->second == Mark::shown) {
                out += " (shown above)\n";
                return;
            }
            // On the path: it awaits, through the tasks between, a task that awaits it.
            out += " (awaits a task that awaits it: a cycle)\n";
            std::string cycle;
            bool in = false;
            for (const Level& l : path) {
                in = in || l.core == c;
                if (in) cycle += name_of(l.core) + " -> ";
            }
            cycles.push_back(cycle + name_of(c));
            return;
        }
        marks[c] = Mark::on_path;
        out += "\n";
        detail::append_graph_node_body(out, node, indent);
        auto a = awaits.find(c);
        if (a != awaits.end()) out += indent + "  + Awaits:\n";
        path.push_back(Level{c, 0});
    };
    auto walk = [&](const FutureCore* root) {
        show(root);
        while (!path.empty()) {
            Level& l = path.back();
            auto a = awaits.find(l.core);
            if (a == awaits.end() || l.next == a->second.size()) {
                marks[l.core] = Mark::shown;
                path.pop_back();
                continue;
            }
            show(a->second[l.next++]);  // (invalidates l)
        }
    };
    // The tasks nobody awaits first; then whatever is left, which is on or under a cycle.
    for (const FutureCore* c : pending)
        if (c->is_task() && !awaited.contains(c)) walk(c);
    for (const FutureCore* c : pending)
        if (c->is_task() && !marks.contains(c)) walk(c);
    for (const std::string& c : cycles) out += "the await graph contains a cycle: " + c + "\n";
    if (!out.empty()) out.pop_back();
    return out;
}

void dump_on_signal(int sig, std::FILE* out) {
    EventLoop& loop = get_running_loop();
    loop.add_signal_handler(sig, [&loop, sig, out] {
        const std::string text = "asyncio: await graph of the loop (signal " + std::to_string(sig) + "):\n" + format_loop_graph(loop) + "\n";
        std::fwrite(text.data(), 1, text.size(), out);
        std::fflush(out);
    });
}

}  // namespace debug
}  // namespace asyncio
