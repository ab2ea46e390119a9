// src/graph.cpp: the await graph (asyncio/graph.hpp). Edges come from the awaited side, as
// CPython's future._asyncio_awaited_by: each done-callback node of a future says which task
// waits through it (DoneNode::awaiter). Coroutine chains come from the frames: each Coro
// frame notes the place of the co_await it is suspended in (CoroFrameHeader::where) and its
// link names the frame that awaits it. Capture and printing are iterative (a chain of a
// million awaiting tasks needs no deep stack) and visit each node once (linear in the nodes
// and edges). docs/design/debugging.md.
#include <asyncio/coroutines.hpp>
#include <asyncio/graph.hpp>

#include <cstdio>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace asyncio {
namespace detail {
namespace {

// The '(' matching the ')' at `close`, or npos.
std::size_t opening_paren(std::string_view s, std::size_t close) {
    int depth = 0;
    for (std::size_t i = close + 1; i-- > 0;) {
        if (s[i] == ')') {
            ++depth;
        } else if (s[i] == '(' && --depth == 0) {
            return i;
        }
    }
    return std::string_view::npos;
}

// A function of an anonymous namespace is named as it is written: `f(int)`, not g++'s
// `{anonymous}::f(int)` (which g++ writes in some places of a coroutine and not others).
std::string_view without_anonymous(std::string_view s) noexcept {
    constexpr std::string_view anonymous = "{anonymous}::";
    while (s.starts_with(anonymous)) s.remove_prefix(anonymous.size());
    return s;
}

}  // namespace

std::string_view site_function_view(std::string_view s) noexcept {
    // g++ names the code of a coroutine's body after a function taking the frame:
    // "void NAME(SIGNATURE::MANGLED.Frame*)[ const]". SIGNATURE is what the user wrote.
    const std::size_t frame = s.rfind(".Frame*)");
    const std::size_t mangled = frame == std::string_view::npos ? frame : s.rfind("::_Z", frame);
    if (mangled != std::string_view::npos) {
        const std::size_t open = opening_paren(s, frame + 7);
        if (open != std::string_view::npos) s = s.substr(open + 1, mangled - open - 1);
    }
    // "RETURN-TYPE NAME(PARAMETERS)[ const]" -> "NAME(PARAMETERS)[ const]": the name starts
    // after the last space outside <> and () before the parameter list.
    const std::size_t close = s.rfind(')');
    if (close == std::string_view::npos) return s;  // clang 14: the bare name
    const std::size_t open = opening_paren(s, close);
    if (open == std::string_view::npos) return s;
    int angles = 0;
    int parens = 0;
    for (std::size_t i = open; i-- > 0;) {
        const char c = s[i];
        if (c == '>') ++angles;
        if (c == '<') --angles;
        if (c == ')') ++parens;
        if (c == '(') --parens;
        if (c == ' ' && angles == 0 && parens == 0) return without_anonymous(s.substr(i + 1));
    }
    return without_anonymous(s);
}

std::string site_function(const SourceSite& site) { return std::string(site_function_view(site.function())); }

namespace {

FrameCallGraphEntry entry_at(const SourceSite& site) { return FrameCallGraphEntry{site_function(site), site.file(), site.line()}; }

void* awaiting_frame(void* frame) noexcept {
    CoroLinkBase* link = frame_header(frame).link;
    return link ? link->continuation.address() : nullptr;
}

}  // namespace

std::string short_place(std::string_view file, std::uint32_t line) {
    const std::size_t slash = file.rfind('/');
    return std::string(slash == std::string_view::npos ? file : file.substr(slash + 1)) + ":" + std::to_string(line);
}

bool is_library_file(const std::string& file) {
    static const std::string src = [] {
        std::string here = __FILE__;  // .../src/graph.cpp
        return here.substr(0, here.rfind('/') + 1);
    }();
    return file.find("/include/asyncio/") != std::string::npos || file.starts_with(src);
}

std::vector<FrameCallGraphEntry> call_stack_of(const TaskCore& t, SourceSite site) {
    std::vector<FrameCallGraphEntry> stack;
    void* frame = t.innermost_frame();
    if (!frame) return stack;
    if (&t == TaskCore::running()) {
        stack.push_back(entry_at(site));  // the frame runs: its last co_await is behind it
        frame = awaiting_frame(frame);
    }
    for (; frame; frame = awaiting_frame(frame)) stack.push_back(entry_at(frame_header(frame).where));
    return stack;
}

namespace {

// A node of the graph under construction: its awaiters, each once, in registration order.
struct Visit {
    const FutureCore* core;
    std::shared_ptr<FutureCallGraph> node;
    std::vector<const FutureCore*> awaiters;
    std::size_t next = 0;
};

std::vector<const FutureCore*> awaiters_of(const FutureCore& f) {
    std::vector<const FutureCore*> out;
    for (const DoneNode* n = f.first_node(); n; n = n->next) {
        const FutureCore* a = n->awaiter();
        if (!a) continue;
        bool seen = false;
        for (const FutureCore* o : out) seen = seen || o == a;
        if (!seen) out.push_back(a);
    }
    return out;
}

std::shared_ptr<FutureCallGraph> node_for(const FutureCore& f, SourceSite site) { return std::make_shared<FutureCallGraph>(graph_node(f, site)); }

}  // namespace

FutureCallGraph graph_node(const FutureCore& f, SourceSite site) {
    FutureCallGraph node;
    node.is_task = f.is_task();
    node.id = reinterpret_cast<std::uintptr_t>(&f);
    if (node.is_task) {
        const auto& t = static_cast<const TaskCore&>(f);
        node.name = t.name();
        node.call_stack = call_stack_of(t, site);
        if (&t != TaskCore::running() && !t.done())
            if (const Waiter* w = t.waiting_on()) node.waits_on = w->describe();
    }
    return node;
}

FutureCallGraph capture_graph(const FutureCore* root, SourceSite site) {
    // Depth first from the root along "awaited by"; a node met again is shared, a node met
    // while it is still on the path closes a cycle.
    enum class Mark : std::uint8_t {
        on_path,
        built
    };
    std::unordered_map<const FutureCore*, std::pair<Mark, std::shared_ptr<FutureCallGraph>>> marks;
    std::vector<Visit> path;
    auto enter = [&](const FutureCore* f) {
        auto node = node_for(*f, site);
        marks[f] = {Mark::on_path, node};
        path.push_back(Visit{f, std::move(node), awaiters_of(*f)});
    };
    enter(root);
    std::shared_ptr<FutureCallGraph> result;
    while (!path.empty()) {
        Visit& v = path.back();
        if (v.next < v.awaiters.size()) {
            const FutureCore* a = v.awaiters[v.next++];
            auto it = marks.find(a);
            if (it == marks.end()) {
                enter(a);  // (invalidates v)
            } else if (it->second.first == Mark::built) {
                v.node->awaited_by.push_back(it->second.second);
            } else {
                v.node->cycle = true;
            }
            continue;
        }
        marks[v.core].first = Mark::built;
        std::shared_ptr<FutureCallGraph> done = std::move(v.node);
        path.pop_back();
        if (path.empty())
            result = std::move(done);
        else
            path.back().node->awaited_by.push_back(std::move(done));
    }
    return std::move(*result);
}

namespace {

std::string hex(std::uintptr_t v) {
    char buf[2 + 2 * sizeof v + 1];
    std::snprintf(buf, sizeof buf, "0x%jx", static_cast<std::uintmax_t>(v));
    return buf;
}

// Python's repr() of a str, enough for names and paths: single quotes, backslash escapes.
std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

}  // namespace

std::string graph_indent(std::size_t level) {
    if (level <= max_graph_indent) return std::string(4 * level, ' ');
    return std::string(4 * max_graph_indent, ' ') + "[level " + std::to_string(level) + "] ";
}

std::string graph_node_title(const FutureCallGraph& g) {
    return g.is_task ? "* Task(name=" + quoted(g.name) + ", id=" + hex(g.id) + ")" : "* Future(id=" + hex(g.id) + ")";
}

void append_graph_node_body(std::string& out, const FutureCallGraph& g, const std::string& indent) {
    if (!g.call_stack.empty()) {
        out += indent + "  + Call stack:\n";
        for (const FrameCallGraphEntry& e : g.call_stack)
            out += indent + "  |   File " + quoted(e.file) + ", line " + std::to_string(e.line) + ", in async " + e.function + "\n";
    }
    if (!g.waits_on.empty()) out += indent + "  + Waits on: " + g.waits_on + "\n";
}

std::string format_graph(const FutureCallGraph& root) {
    std::string out;
    struct Level {
        const FutureCallGraph* node;
        std::size_t next;
    };
    std::unordered_set<const FutureCallGraph*> shown;
    std::vector<Level> path;
    auto show = [&](const FutureCallGraph& g) {
        const std::string indent = graph_indent(path.size());
        out += indent + graph_node_title(g);
        if (shown.contains(&g)) {
            out += " (shown above)\n";
            return;
        }
        shown.insert(&g);
        out += "\n";
        append_graph_node_body(out, g, indent);
        if (g.cycle) out += indent + "  + Awaited by a task it awaits: the await graph contains a cycle\n";
        if (!g.awaited_by.empty()) out += indent + "  + Awaited by:\n";
        path.push_back(Level{&g, 0});
    };
    show(root);
    while (!path.empty()) {
        Level& l = path.back();
        if (l.next == l.node->awaited_by.size()) {
            path.pop_back();
            continue;
        }
        show(*l.node->awaited_by[l.next++]);  // (invalidates l)
    }
    if (!out.empty()) out.pop_back();  // no final newline, as CPython's '\n'.join
    return out;
}

void print_graph(const FutureCallGraph& g, std::FILE* out) {
    const std::string text = format_graph(g) + "\n";
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
}

}  // namespace detail

std::optional<FutureCallGraph> capture_call_graph(detail::SourceSite site) {
    (void)get_running_loop();  // RuntimeError without one
    detail::TaskCore* t = detail::TaskCore::running();
    if (!t) return std::nullopt;
    return detail::capture_graph(t, site);
}

FutureCallGraph capture_call_graph(const AnyTask& t, detail::SourceSite site) { return detail::capture_graph(detail::FutureCoreAccess::core(t), site); }

}  // namespace asyncio
