// The await graph (asyncio/graph.hpp, debug::format_loop_graph): who awaits whom, through
// a plain await, gather, a TaskGroup, shield and wait, where each coroutine is suspended,
// what it waits on, shared nodes written once, cycles named. CPython 3.14's
// test_graph.py is the model for the layout (CallStackTestBase.test_stack_tgroup: a
// TaskGroup inside a gather inside a task).
#include "support/async_test.hpp"
#include "support/source_lines.hpp"

#include <asyncio/graph.hpp>

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

const std::string file = __FILE__;
std::string line(const std::string& marker) { return asyncio_test::line_of(__FILE__, marker); }
std::string frame_at(const std::string& indent, const std::string& marker) {
    return indent + "  |   File '" + file + "', line " + line(marker) + ", in async NAME\n";
}

// The text with the ids and the coroutine names normalized, and the frames of the library's
// own files (TaskGroup's exit, gather's frame) left out: what this file's code controls.
std::string normalized(const std::string& text) {
    std::string out = asyncio_test::each_line(asyncio_test::without_functions(asyncio_test::without_ids(text)), [](const std::string& l) {
        const std::size_t at = l.find("File '");
        if (at == std::string::npos) return true;
        const std::string path = l.substr(at + 6, l.find('\'', at + 6) - at - 6);
        return path.find("/include/asyncio/") == std::string::npos && path.find("/src/") == std::string::npos;
    });
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out;
}

asyncio::Coro<int> consumer(asyncio::Queue<int>& q) {
    int v = co_await q.get();  // @get
    co_return v;
}

asyncio::Coro<void> group_body(asyncio::TaskGroup& tg, asyncio::Queue<int>& q, std::vector<std::string>& graphs) {
    auto c = tg.create_task(consumer(q), "consumer");
    co_await asyncio::sleep(0);
    graphs.push_back(asyncio::format_call_graph(c));  // @of-child
    graphs.push_back(asyncio::format_call_graph());   // @inside
}

// The co_await on one line: g++ places a multi-line co_await at its last line, clang at its
// first.
asyncio::Coro<void> group(asyncio::Queue<int>& q, std::vector<std::string>& graphs) {
    co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& tg) { return group_body(tg, q, graphs); });  // @tg-run
}

asyncio::Coro<void> feed(asyncio::Queue<int>& q, std::string& loop_graph) {
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    loop_graph = asyncio::debug::format_loop_graph(asyncio::get_running_loop());  // @loop-graph
    q.put_nowait(1);
}

asyncio::Coro<void> gather_group_and_feeder(asyncio::Queue<int>& q, std::vector<std::string>& graphs, std::string& loop_graph) {
    auto g = asyncio::create_task(group(q, graphs), "group");
    auto feeder = asyncio::create_task(feed(q, loop_graph), "feeder");
    co_await asyncio::gather(std::move(g), std::move(feeder));  // @gather
}

}  // namespace

// CPython's test_stack_tgroup, over a Queue: main gathers a task that runs a TaskGroup whose
// child waits on a Queue. The child is awaited by the group's task, which is awaited by main.
ASYNCIO_TEST(AwaitGraph, TaskGroupInsideGatherInsideTask) {
    asyncio::Queue<int> q;
    std::vector<std::string> graphs;
    std::string loop_graph;
    auto main = asyncio::create_task(gather_group_and_feeder(q, graphs, loop_graph), "main");
    co_await main;  // @test-body
    EXPECT_EQ(graphs.size(), 2U);
    if (graphs.size() != 2) co_return;
    EXPECT_EQ(normalized(graphs[0]),
              "* Task(name='consumer', id=ID)\n"
              "  + Call stack:\n" +
                  frame_at("", "get") +
                  "  + Waits on: Queue.get()\n"
                  "  + Awaited by:\n"
                  "    * Task(name='group', id=ID)\n"
                  "      + Call stack:\n" +
                  frame_at("    ", "of-child") + frame_at("    ", "tg-run") +
                  "      + Awaited by:\n"
                  "        * Task(name='main', id=ID)\n"
                  "          + Call stack:\n" +
                  frame_at("        ", "gather") +
                  "          + Waits on: gather()\n"
                  "          + Awaited by:\n"
                  "            * Task(name='" +
                  asyncio::current_task()->get_name() +
                  "', id=ID)\n"
                  "              + Call stack:\n" +
                  frame_at("            ", "test-body") + "              + Waits on: main\n");
    // The group's own task, from inside: the stack starts at the call, then the body's caller.
    EXPECT_EQ(normalized(graphs[1]).substr(0, normalized(graphs[1]).find("  + Awaited by:")),
              "* Task(name='group', id=ID)\n  + Call stack:\n" + frame_at("", "inside") + frame_at("", "tg-run"));
    // The whole loop, from the top: the test's task awaits main, main gathers group and the
    // feeder (running), the group's task awaits its child.
    EXPECT_EQ(normalized(loop_graph), "* Task(name='" + asyncio::current_task()->get_name() +
                                          "', id=ID)\n"
                                          "  + Call stack:\n" +
                                          frame_at("", "test-body") +
                                          "  + Waits on: main\n"
                                          "  + Awaits:\n"
                                          "    * Task(name='main', id=ID)\n"
                                          "      + Call stack:\n" +
                                          frame_at("    ", "gather") +
                                          "      + Waits on: gather()\n"
                                          "      + Awaits:\n"
                                          "        * Task(name='group', id=ID)\n"
                                          "          + Call stack:\n" +
                                          frame_at("        ", "tg-run") +
                                          "          + Waits on: its TaskGroup's tasks\n"
                                          "          + Awaits:\n"
                                          "            * Task(name='consumer', id=ID)\n"
                                          "              + Call stack:\n" +
                                          frame_at("            ", "get") +
                                          "              + Waits on: Queue.get()\n"
                                          "        * Task(name='feeder', id=ID)\n"
                                          "          + Call stack:\n" +
                                          frame_at("        ", "loop-graph"));
}

namespace {

// Layer i's two tasks each gather both tasks of layer i + 1: 2^layers paths from the top to
// the bottom, 2 * layers tasks.
asyncio::Coro<void> lattice_node(std::vector<asyncio::Task<void>>* next, asyncio::Event& done) {
    if (next == nullptr) {
        co_await done.wait();
    } else {
        co_await asyncio::gather((*next)[0], (*next)[1]);
    }
}

// How many tasks the text writes out in full (not those only named again, "(shown above)").
int written_out(const std::string& text) {
    int n = 0;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (l.find("* Task(") != std::string::npos && !l.ends_with("(shown above)")) ++n;
    return n;
}

std::size_t lattice_text_size(int layers) {
    std::size_t size = 0;
    asyncio::run([&]() -> asyncio::Coro<void> {
        asyncio::Event done;
        std::vector<std::vector<asyncio::Task<void>>> tasks(static_cast<std::size_t>(layers));
        for (int i = layers - 1; i >= 0; --i) {
            auto* next = i + 1 < layers ? &tasks[static_cast<std::size_t>(i) + 1] : nullptr;
            for (int k = 0; k < 2; ++k) tasks[static_cast<std::size_t>(i)].push_back(asyncio::create_task(lattice_node(next, done)));
        }
        co_await asyncio::sleep(0);
        const std::string bottom = asyncio::format_call_graph(tasks.back()[0]);
        const std::string whole = asyncio::debug::format_loop_graph(asyncio::get_running_loop());
        size = bottom.size() + whole.size();
        // Each task is written out once: the bottom task's graph has every task above it
        // (not its sibling), the loop's has them all and the main task.
        EXPECT_EQ(written_out(bottom), 2 * layers - 1);
        EXPECT_EQ(written_out(whole), 2 * layers + 1);
        done.set();
        for (auto& layer : tasks)
            for (auto& t : layer) co_await t;
    }());
    return size;
}

}  // namespace

// 1,000 tasks in a lattice where each awaiter is shared by two tasks below it: CPython's tree
// printer writes every path (2^500 here); ours writes each task once and refers back after,
// so twice the tasks is about twice the text.
TEST(AwaitGraph, SharedAwaitersPrintLinearly) {
    const std::size_t small = lattice_text_size(250);
    const std::size_t big = lattice_text_size(500);
    EXPECT_GT(big, small * 19 / 10);
    EXPECT_LT(big, small * 22 / 10);
    EXPECT_LT(big, std::size_t{2} * 1000 * 2000);  // two texts of 1,000 tasks: a few lines each (the lines are long: three frames, paths)
}

// Two tasks that await each other: each one's graph marks the cycle, and the loop's view
// names it.
ASYNCIO_TEST(AwaitGraph, ACycleIsNamed) {
    asyncio::Future<asyncio::AnyTask> a_handle;
    asyncio::Future<asyncio::AnyTask> b_handle;
    auto a = asyncio::create_task(
        [](asyncio::Future<asyncio::AnyTask>& other) -> asyncio::Coro<void> {
            asyncio::AnyTask peer = co_await other;
            co_await peer;
        }(b_handle),
        "a");
    auto b = asyncio::create_task(
        [](asyncio::Future<asyncio::AnyTask>& other) -> asyncio::Coro<void> {
            asyncio::AnyTask peer = co_await other;
            co_await peer;
        }(a_handle),
        "b");
    a_handle.set_result(a);
    b_handle.set_result(b);
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    const asyncio::FutureCallGraph g = asyncio::capture_call_graph(a);
    EXPECT_EQ(g.awaited_by.size(), 1U);
    if (g.awaited_by.size() != 1) co_return;
    EXPECT_EQ(g.awaited_by[0]->name, "b");
    EXPECT_TRUE(g.awaited_by[0]->cycle);
    EXPECT_TRUE(g.awaited_by[0]->awaited_by.empty());
    EXPECT_NE(asyncio::format_call_graph(a).find("    * Task(name='b', id="), std::string::npos);
    EXPECT_NE(asyncio::format_call_graph(a).find("      + Awaited by a task it awaits: the await graph contains a cycle"), std::string::npos) << asyncio::format_call_graph(a);
    const std::string whole = asyncio::debug::format_loop_graph(asyncio::get_running_loop());
    EXPECT_NE(whole.find("\nthe await graph contains a cycle: a -> b -> a"), std::string::npos) << whole;
    a.cancel();
    b.cancel();
    EXPECT_THROW(co_await a, asyncio::CancelledError);
    EXPECT_THROW(co_await b, asyncio::CancelledError);
}

// A plain Future awaited by a task, a task under shield() and under wait(): the edges are
// there, the future with CPython's `* Future(id=...)` title.
ASYNCIO_TEST(AwaitGraph, FuturesShieldAndWait) {
    asyncio::Future<int> f;
    auto waiter = asyncio::create_task([](asyncio::Future<int>& fut) -> asyncio::Coro<int> { co_return co_await fut; }(f), "future-waiter");
    asyncio::Event go;
    auto inner = asyncio::create_task([](asyncio::Event& e) -> asyncio::Coro<void> { co_await e.wait(); }(go), "inner");
    auto shielder = asyncio::create_task([](asyncio::Task<void>& t) -> asyncio::Coro<void> { co_await asyncio::shield(t); }(inner), "shielder");
    auto waiter2 = asyncio::create_task(
        [](asyncio::Task<void>& t) -> asyncio::Coro<void> {
            std::vector<asyncio::Task<void>> ts{t};
            co_await asyncio::wait(ts);
        }(inner),
        "wait-er");
    co_await asyncio::sleep(0);
    const asyncio::FutureCallGraph fg = asyncio::capture_call_graph(f);
    EXPECT_FALSE(fg.is_task);
    EXPECT_TRUE(fg.call_stack.empty());
    EXPECT_EQ(fg.awaited_by.size(), 1U);
    if (fg.awaited_by.size() != 1) co_return;
    EXPECT_EQ(fg.awaited_by[0]->name, "future-waiter");
    EXPECT_EQ(asyncio_test::without_ids(asyncio::format_call_graph(fg)).substr(0, 19), "* Future(id=ID)\n  +");
    const asyncio::FutureCallGraph ig = asyncio::capture_call_graph(inner);
    EXPECT_EQ(ig.awaited_by.size(), 2U);
    if (ig.awaited_by.size() != 2) co_return;
    EXPECT_EQ(ig.awaited_by[0]->name, "shielder");
    EXPECT_EQ(ig.awaited_by[0]->waits_on, "shield(inner)");
    EXPECT_EQ(ig.awaited_by[1]->name, "wait-er");
    EXPECT_EQ(ig.awaited_by[1]->waits_on, "wait()");
    EXPECT_EQ(ig.waits_on, "Event.wait()");
    f.set_result(3);
    go.set();
    EXPECT_EQ(co_await waiter, 3);
    co_await shielder;
    co_await waiter2;
    // Done: no stack, no awaiters.
    const asyncio::FutureCallGraph done = asyncio::capture_call_graph(inner);
    EXPECT_TRUE(done.call_stack.empty());
    EXPECT_TRUE(done.awaited_by.empty());
}

// Outside a task: no graph of the current task; without a loop, RuntimeError (CPython).
TEST(AwaitGraph, NoCurrentTask) {
    EXPECT_THROW((void)asyncio::capture_call_graph(), asyncio::RuntimeError);
    asyncio::run([]() -> asyncio::Coro<void> {
        asyncio::get_running_loop().call_soon([] { EXPECT_FALSE(asyncio::capture_call_graph().has_value()); });
        co_await asyncio::sleep(0);
    }());
}
