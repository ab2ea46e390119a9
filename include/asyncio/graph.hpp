// asyncio/graph.hpp: the await graph — which task waits on which, and where each one's chain
// of coroutines is suspended. Mirrors Lib/asyncio/graph.py (3.14); the whole-loop view is
// debug::format_loop_graph (asyncio/debug.hpp). How the edges are kept: docs/design/debugging.md.
#pragma once

#include <asyncio/detail/source_site.hpp>
#include <asyncio/futures.hpp>
#include <asyncio/tasks.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asyncio {

/// One suspended (or running) coroutine of a task's chain: the function and the place of the
/// `co_await` it is suspended in.
///
/// Python: `asyncio.FrameCallGraphEntry` (3.14), whose `frame` is a frame object; a C++
/// coroutine frame has no such object, so the entry carries what the frame would tell: the
/// function's name (as the compiler spells it, `worker(int)`), the file and the line.
struct FrameCallGraphEntry {
    /// The coroutine function, as the compiler names it (`amain()`, `ns::Server::serve(int)`).
    std::string function;
    /// The source file of the `co_await`, as the compiler was given it.
    std::string file;
    /// The line of the `co_await` (for a coroutine that has not started: the line the compiler
    /// gives its start, the closing brace with g++).
    std::uint32_t line = 0;
};

/// A future or task, its chain of coroutines and who awaits it, recursively: a graph in which
/// a task awaited by several others (a shared child of two `gather`s) is one node, shared.
///
/// Python: `asyncio.FutureCallGraph` (3.14).
/// Differs from CPython: `future` is not kept (no handle to a type-erased result); the node has
///   the task's `name`, `is_task` and `id` (the state's address, CPython's `id(task)`);
///   `awaited_by` holds shared nodes, so the graph is never bigger than the tasks and their
///   edges (CPython's copies a shared awaiter once per path); `waits_on` says what the task's
///   innermost frame waits on when that is not a future (a Lock, a Queue, a socket); `cycle`
///   marks a node whose awaiters lead back to it (the edge that closes the cycle is left out).
struct FutureCallGraph {
    /// The task's name (`Task-3` or the one given); empty for a plain future.
    std::string name;
    /// True for a task, false for a plain `Future`.
    bool is_task = false;
    /// The address of the task's or future's state: what CPython's `id()` prints.
    std::uintptr_t id = 0;
    /// The task's coroutines, innermost first (empty for a future, or a task that is done).
    std::vector<FrameCallGraphEntry> call_stack;
    /// What the innermost coroutine waits on, in words (`Event.wait()`, `Lock.acquire() (held
    /// by Task-2)`); empty while the task runs or is ready to run.
    std::string waits_on;
    /// The tasks that wait for this one to complete: those awaiting it, the task in a
    /// `gather`/`wait`/`shield` over it, a TaskGroup child's parent task.
    std::vector<std::shared_ptr<const FutureCallGraph>> awaited_by;
    /// An awaiter of this node awaits it back, through the nodes of `awaited_by`: the await
    /// graph contains a cycle (a deadlock), and the edge that closes it is not in `awaited_by`.
    bool cycle = false;
};

namespace detail {
// The coroutine function a site is in, cleaned of what g++ adds inside a coroutine's body
// (`void f(f(int)::_Z1fi.Frame*)` -> `f(int)`).
[[nodiscard]] std::string site_function(const SourceSite& site);
// The same as a part of the function name `s` (it always is one): allocates nothing, for a signal handler.
[[nodiscard]] std::string_view site_function_view(std::string_view s) noexcept;
// "deadlock.cpp:13": the file's name without its directories, and the line, as the one-line
// reports (the deadlock lines, debug mode's) write a place.
[[nodiscard]] std::string short_place(std::string_view file, std::uint32_t line);
// A file of the library itself (its headers, its sources): the one-line reports skip frames
// there to name the user's coroutine.
[[nodiscard]] bool is_library_file(const std::string& file);
// Task `t`'s coroutines, innermost first; `site` stands for the innermost if t is running.
[[nodiscard]] std::vector<FrameCallGraphEntry> call_stack_of(const TaskCore& t, SourceSite site);
[[nodiscard]] FutureCallGraph capture_graph(const FutureCore* root, SourceSite site);
[[nodiscard]] std::string format_graph(const FutureCallGraph& root);
// Four spaces a level, up to max_graph_indent levels; deeper levels keep that indentation
// and say their level (`[level 40] `), so that a chain of n awaiting tasks prints in O(n)
// characters, not O(n^2).
inline constexpr std::size_t max_graph_indent = 16;
[[nodiscard]] std::string graph_indent(std::size_t level);
// The pieces of format_graph that the whole-loop view shares: the `* Task(...)` title, and
// the `+ Call stack:` and `+ Waits on:` lines, each line starting with `indent`.
[[nodiscard]] std::string graph_node_title(const FutureCallGraph& g);
void append_graph_node_body(std::string& out, const FutureCallGraph& g, const std::string& indent);
// A node of `f` alone, without its awaiters.
[[nodiscard]] FutureCallGraph graph_node(const FutureCore& f, SourceSite site);
void print_graph(const FutureCallGraph& g, std::FILE* out);
}  // namespace detail

/// The await graph of the current task: its coroutines, from the place of this call out to
/// its root coroutine, and the tasks that await it, recursively. None outside a task.
///
/// Python: `asyncio.capture_call_graph()` (3.14).
/// Throws: `RuntimeError` without a running loop (as CPython).
/// Differs from CPython: no `depth` (the stack starts at the caller) and no `limit`.
[[nodiscard]] std::optional<FutureCallGraph> capture_call_graph(detail::SourceSite site = ASYNCIO_SOURCE_SITE);
/// The await graph of task `t` (for the current task, as `capture_call_graph()`): where its
/// coroutines are suspended and who awaits it. Call it on the task's loop's thread.
///
/// Python: `asyncio.capture_call_graph(task)` (3.14).
[[nodiscard]] FutureCallGraph capture_call_graph(const AnyTask& t, detail::SourceSite site = ASYNCIO_SOURCE_SITE);
/// The await graph of future `f`: no coroutines of its own, and the tasks that await it.
///
/// Python: `asyncio.capture_call_graph(future)` (3.14).
template <class T>
[[nodiscard]] FutureCallGraph capture_call_graph(const Future<T>& f) {
    return detail::capture_graph(detail::FutureCoreAccess::core(f), {});
}

/// The graph as text, in CPython's layout: ``* Task(name='Task-2', id=0x...)``, its
/// `+ Call stack:` one ``|   File '...', line N, in async f()`` per coroutine, innermost first, then
/// `+ Awaited by:` and each awaiter indented four more spaces. A node shared by several paths
/// is written out once and named with `(shown above)` after that, so the text grows with
/// the nodes and edges, never with the paths; a node that closes a cycle says so. Past 16
/// levels the indentation stops growing and each line says its level (`[level 17] `).
///
/// Python: `asyncio.format_call_graph(future)` (3.14).
/// Differs from CPython: `+ Waits on:` lines (what a task waits on that is not a future);
///   shared nodes written once, indentation bounded (see above).
[[nodiscard]] inline std::string format_call_graph(const FutureCallGraph& g) { return detail::format_graph(g); }
/// The current task's graph as text (empty outside a task).
///
/// Python: `asyncio.format_call_graph()` (3.14).
[[nodiscard]] inline std::string format_call_graph(detail::SourceSite site = ASYNCIO_SOURCE_SITE) {
    auto g = capture_call_graph(site);
    return g ? detail::format_graph(*g) : std::string();
}
/// Task `t`'s graph as text.
///
/// Python: `asyncio.format_call_graph(task)` (3.14).
[[nodiscard]] inline std::string format_call_graph(const AnyTask& t, detail::SourceSite site = ASYNCIO_SOURCE_SITE) {
    return detail::format_graph(capture_call_graph(t, site));
}

/// Writes `format_call_graph(g)` and a newline to `out` (stdout by default, as CPython's
/// `file=None`).
///
/// Python: `asyncio.print_call_graph(future, file=...)` (3.14).
inline void print_call_graph(const FutureCallGraph& g, std::FILE* out = stdout) { detail::print_graph(g, out); }
/// Prints task `t`'s graph.
///
/// Python: `asyncio.print_call_graph(task)` (3.14).
inline void print_call_graph(const AnyTask& t, std::FILE* out = stdout, detail::SourceSite site = ASYNCIO_SOURCE_SITE) {
    detail::print_graph(capture_call_graph(t, site), out);
}
/// Prints the current task's graph; nothing outside a task.
///
/// Python: `asyncio.print_call_graph()` (3.14).
inline void print_call_graph(std::FILE* out = stdout, detail::SourceSite site = ASYNCIO_SOURCE_SITE) {
    if (auto g = capture_call_graph(site)) detail::print_graph(*g, out);
}

}  // namespace asyncio
