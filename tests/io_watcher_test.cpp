// Tests for the loop's door for I/O objects (asyncio/detail/io_watcher.hpp): an IoWatcher is
// told of its fd's readiness, edge-triggered, through LoopAccess::watch_io / unwatch_io,
// on socketpairs of the test's own making.
#include <asyncio.hpp>
#include <asyncio/detail/io_watcher.hpp>
#include <asyncio/testing.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

using asyncio::detail::io_readable;
using asyncio::detail::io_writable;
using asyncio::detail::LoopAccess;

namespace {

struct SocketPair {
    int a = -1, b = -1;
    SocketPair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0) a = fds[0], b = fds[1];
    }
    ~SocketPair() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
};

// Records each readiness report; reads everything on readable (as an edge-triggered reader
// must), or nothing if `drain` is false.
struct Recorder final : asyncio::detail::IoWatcher {
    int fd;
    bool drain = true;
    std::vector<std::uint32_t> reports;
    std::string received;
    explicit Recorder(int f) : fd(f) {}
    void io_ready(std::uint32_t events) noexcept override {
        reports.push_back(events);
        if (!drain || !(events & io_readable)) return;
        char buf[64];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;
            received.append(buf, static_cast<std::size_t>(n));
        }
    }
};

// Runs a few loop iterations (each a non-blocking poll: the fds are registered).
void spin(asyncio::EventLoop& loop, int iterations = 3) {
    for (int i = 0; i < iterations; ++i) {
        loop.call_soon([&] { loop.stop(); });
        loop.run_forever();
    }
}

}  // namespace

TEST(IoWatcher, ToldOncePerEdgeAndWritableAtOnce) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    auto loop = asyncio::testing::new_event_loop();
    Recorder r(sp.a);
    LoopAccess::watch_io(*loop, sp.a, &r);
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 1u);
    spin(*loop);
    // A fresh socket is writable: reported once, not at every poll (edge-triggered).
    ASSERT_EQ(r.reports, std::vector<std::uint32_t>{io_writable});
    ASSERT_EQ(::write(sp.b, "hello", 5), 5);
    spin(*loop);
    ASSERT_EQ(r.reports.size(), 2u);
    EXPECT_TRUE(r.reports[1] & io_readable);
    EXPECT_EQ(r.received, "hello");
    spin(*loop);
    EXPECT_EQ(r.reports.size(), 2u);  // nothing new: no report
    EXPECT_TRUE(LoopAccess::unwatch_io(*loop, sp.a));
    EXPECT_FALSE(LoopAccess::unwatch_io(*loop, sp.a));
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 0u);
    ASSERT_EQ(::write(sp.b, "more", 4), 4);
    spin(*loop);
    EXPECT_EQ(r.reports.size(), 2u);  // unwatched: not told
}

TEST(IoWatcher, DataLeftUnreadIsNotReportedAgainUntilMoreArrives) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    auto loop = asyncio::testing::new_event_loop();
    Recorder r(sp.a);
    r.drain = false;
    LoopAccess::watch_io(*loop, sp.a, &r);
    spin(*loop);
    ASSERT_EQ(::write(sp.b, "x", 1), 1);
    spin(*loop);
    std::size_t after_first = r.reports.size();
    spin(*loop);
    EXPECT_EQ(r.reports.size(), after_first);  // level-triggered would report at every poll
    ASSERT_EQ(::write(sp.b, "y", 1), 1);
    spin(*loop);
    EXPECT_EQ(r.reports.size(), after_first + 1);
    LoopAccess::unwatch_io(*loop, sp.a);
}

TEST(IoWatcher, HangUpReportsBoth) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    auto loop = asyncio::testing::new_event_loop();
    Recorder r(sp.a);
    LoopAccess::watch_io(*loop, sp.a, &r);
    spin(*loop);
    ::close(sp.b);
    sp.b = -1;
    spin(*loop);
    ASSERT_GE(r.reports.size(), 2u);
    EXPECT_TRUE(r.reports.back() & io_readable);
    LoopAccess::unwatch_io(*loop, sp.a);
}

TEST(IoWatcher, MisuseRaises) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    auto loop = asyncio::testing::new_event_loop();
    Recorder r(sp.a), other(sp.a);
    EXPECT_THROW(LoopAccess::watch_io(*loop, -1, &r), asyncio::ValueError);
    LoopAccess::watch_io(*loop, sp.a, &r);
    EXPECT_THROW(LoopAccess::watch_io(*loop, sp.a, &other), asyncio::RuntimeError);
    // CPython: add_reader on a transport's fd raises RuntimeError.
    EXPECT_THROW(loop->add_reader(sp.a, [] {}), asyncio::RuntimeError);
    EXPECT_THROW(loop->add_writer(sp.a, [] {}), asyncio::RuntimeError);
    LoopAccess::unwatch_io(*loop, sp.a);
    loop->add_reader(sp.b, [] {});
    EXPECT_THROW(LoopAccess::watch_io(*loop, sp.b, &other), asyncio::RuntimeError);
    loop->remove_reader(sp.b);
    loop->close();
    EXPECT_THROW(LoopAccess::watch_io(*loop, sp.a, &r), asyncio::RuntimeError);
    EXPECT_FALSE(LoopAccess::unwatch_io(*loop, sp.a));
}

// A watcher may unwatch another fd reported in the same poll: that fd is then not reported.
TEST(IoWatcher, UnwatchingAnotherFdDuringAReportIsSafe) {
    SocketPair p1, p2;
    ASSERT_GE(p1.a, 0);
    ASSERT_GE(p2.a, 0);
    auto loop = asyncio::testing::new_event_loop();
    struct Killer final : asyncio::detail::IoWatcher {
        asyncio::EventLoop* loop;
        int victim;
        int calls = 0;
        void io_ready(std::uint32_t) noexcept override {
            ++calls;
            LoopAccess::unwatch_io(*loop, victim);
        }
    };
    Killer k1, k2;
    k1.loop = k2.loop = loop.get();
    k1.victim = p2.a;
    k2.victim = p1.a;
    LoopAccess::watch_io(*loop, p1.a, &k1);
    LoopAccess::watch_io(*loop, p2.a, &k2);
    spin(*loop);  // both writable in the same poll: the first told unwatches the other
    EXPECT_EQ(k1.calls + k2.calls, 1);
    LoopAccess::unwatch_io(*loop, p1.a);
    LoopAccess::unwatch_io(*loop, p2.a);
}
