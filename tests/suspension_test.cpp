// The suspension protocol (asyncio/detail/waiter.hpp), written once in the task core:
//
// - the three outcomes of a cancelled wait, each pinned with a probe awaiter that answers as
//   told: `cancelled` wakes the task with CancelledError at once, `too_late` leaves it
//   waiting and delivers CancelledError when it resumes, `deferred` leaves the outcome to
//   whatever the wait was passed on to;
// - a new awaiter in ~20 lines that edits neither the loop nor another awaiter: the skeleton
//   of `loop.sock_recv`, over the loop's door for I/O watchers, on socketpairs of the test's
//   own making, with its cancellation tests (nothing left registered, no byte lost).
#include <asyncio.hpp>
#include <asyncio/detail/io_watcher.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/testing.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::detail::CancelOutcome;
using asyncio::detail::LoopAccess;
using asyncio::detail::TaskCore;

namespace {

// ---------------------------------------------------------------------------------------
// The three outcomes

// Waits until wake() is called; answers a cancellation with `answer`, and records it.
struct Probe final : asyncio::detail::Waiter {
    CancelOutcome answer = CancelOutcome::cancelled;
    TaskCore* task = nullptr;
    std::vector<std::string> asked;  // the messages cancel_wait saw

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h, asyncio::detail::SourceSite site = ASYNCIO_SOURCE_SITE) {
        task = TaskCore::running();
        task->suspend(h, this, site);
    }
    void await_resume() {
        task = nullptr;
        TaskCore::running()->throw_if_cancelled();
    }
    CancelOutcome cancel_wait(const std::string& msg) override {
        asked.push_back(msg);
        return answer;
    }
    void wake() { task->wake(); }
};

Coro<std::string> wait_on(Probe& p) {
    try {
        co_await p;
        co_return "resumed";
    } catch (const CancelledError& e) {
        co_return "cancelled: " + e.message();
    }
}

TEST(SuspensionProtocol, CancelledWakesTheTaskWithCancelledError) {
    asyncio::testing::run([]() -> Coro<void> {
        Probe p;
        auto t = asyncio::create_task(wait_on(p));
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancel("stop"));
        EXPECT_EQ(p.asked, std::vector<std::string>{"stop"});
        co_await asyncio::sleep(0);  // woken by the task core, not by the probe
        EXPECT_TRUE(t.done());
        EXPECT_EQ(t.result(), "cancelled: stop");
    }());
}

TEST(SuspensionProtocol, TooLateKeepsWaitingThenDeliversTheRequest) {
    asyncio::testing::run([]() -> Coro<void> {
        Probe p;
        p.answer = CancelOutcome::too_late;
        auto t = asyncio::create_task(wait_on(p));
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancel("late"));
        for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
        EXPECT_FALSE(t.done());  // still waiting: the wait had ended, its wake-up is the probe's
        p.wake();
        co_await asyncio::sleep(0);
        EXPECT_EQ(t.result(), "cancelled: late");
    }());
}

TEST(SuspensionProtocol, DeferredLeavesTheOutcomeToWhatTheWaitPassedItOn) {
    asyncio::testing::run([]() -> Coro<void> {
        Probe p;
        p.answer = CancelOutcome::deferred;
        auto t = asyncio::create_task(wait_on(p));
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancel("passed on"));
        co_await asyncio::sleep(0);
        EXPECT_FALSE(t.done());
        p.wake();  // what it was passed on to refused: the task resumes normally
        co_await asyncio::sleep(0);
        EXPECT_EQ(t.result(), "resumed");
    }());
}

TEST(SuspensionProtocol, ARequestMadeWhileRunningIsOfferedAtTheNextSuspension) {
    asyncio::testing::run([]() -> Coro<void> {
        Probe p;
        auto t = asyncio::create_task([&p]() -> Coro<std::string> {
            asyncio::current_task()->cancel("early");
            co_return co_await wait_on(p);
        });
        co_await asyncio::sleep(0);
        EXPECT_EQ(p.asked, std::vector<std::string>{"early"});
        co_await asyncio::sleep(0);
        EXPECT_EQ(t.result(), "cancelled: early");
    }());
}

TEST(SuspensionProtocol, ASecondRequestAfterAWithdrawnWaitIsTooLateAndDeliveredOnce) {
    asyncio::testing::run([]() -> Coro<void> {
        Probe p;
        auto t = asyncio::create_task([&p]() -> Coro<std::string> {
            std::string first = co_await wait_on(p);
            co_await asyncio::sleep(0);  // nothing pending: the two requests were delivered once
            co_return first;
        });
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancel("one"));
        p.answer = CancelOutcome::too_late;  // withdrawn already
        EXPECT_TRUE(t.cancel("two"));
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        EXPECT_EQ(t.result(), "cancelled: one");
        EXPECT_EQ(t.cancelling(), 2u);
    }());
}

// ---------------------------------------------------------------------------------------
// A new awaiter: the skeleton of loop.sock_recv, over the loop's door for I/O watchers

struct SocketPair {
    int a = -1, b = -1;
    SocketPair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0) a = fds[0], b = fds[1];
    }
    SocketPair(const SocketPair&) = delete;
    SocketPair& operator=(const SocketPair&) = delete;
    ~SocketPair() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
};

// `co_await Recv{fd, n}`: up to n bytes, waiting for readability if there are none. The
// bytes are read only once the task resumes without a cancellation, so a cancellation that
// comes after the fd became readable loses nothing: they stay in the socket.
struct Recv final : asyncio::detail::Waiter, asyncio::detail::IoWatcher {
    int fd;
    std::size_t n;
    TaskCore* task = nullptr;
    bool watching = false;

    Recv(int f, std::size_t max) noexcept : fd(f), n(max) {}
    Recv(const Recv&) = delete;
    Recv& operator=(const Recv&) = delete;
    ~Recv() { unwatch(); }  // a frame destroyed while waiting (the loop closing)

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h, asyncio::detail::SourceSite site = ASYNCIO_SOURCE_SITE) {
        task = TaskCore::running();
        if (readable_now()) return false;
        LoopAccess::watch_io(*task->loop(), fd, this);  // 1. register
        watching = true;
        task->suspend(h, this, site);
        return true;
    }
    void io_ready(std::uint32_t events) noexcept override {
        if (!(events & asyncio::detail::io_readable)) return;  // writable: not ours
        unwatch();
        task->wake();  // 2. wake
    }
    CancelOutcome cancel_wait(const std::string&) override {
        if (!watching) return CancelOutcome::too_late;  // 3. withdraw, or too late
        unwatch();
        return CancelOutcome::cancelled;
    }
    std::string await_resume() {
        task->throw_if_cancelled();  // 4. resume
        std::string out(n, '\0');
        ssize_t got = ::recv(fd, out.data(), n, 0);
        out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
        return out;
    }

    bool readable_now() const {
        char c;
        return ::recv(fd, &c, 1, MSG_PEEK) >= 0 || errno != EAGAIN;
    }
    void unwatch() noexcept {
        if (std::exchange(watching, false)) LoopAccess::unwatch_io(*task->loop(), fd);
    }
};

void send_all(int fd, const std::string& s) { ASSERT_EQ(::send(fd, s.data(), s.size(), 0), static_cast<ssize_t>(s.size())); }

Coro<std::string> recv_or_cancelled(int fd) {
    try {
        co_return co_await Recv(fd, 64);
    } catch (const CancelledError&) {
        co_return "<cancelled>";
    }
}

TEST(SockRecvSkeleton, GetsTheBytesThatArriveLater) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    asyncio::testing::run([&]() -> Coro<void> {
        auto t = asyncio::create_task(recv_or_cancelled(sp.a));
        co_await asyncio::sleep(10ms);
        EXPECT_FALSE(t.done());
        EXPECT_EQ(LoopAccess::registered_fds(asyncio::get_running_loop()), 1u);
        send_all(sp.b, "hello");
        EXPECT_EQ(co_await asyncio::wait_for(t, 1s), "hello");
        EXPECT_EQ(LoopAccess::registered_fds(asyncio::get_running_loop()), 0u);
    }());
}

TEST(SockRecvSkeleton, CancelledWhileWaitingLeavesNothingRegistered) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    asyncio::testing::run([&]() -> Coro<void> {
        auto& loop = asyncio::get_running_loop();
        auto t = asyncio::create_task(recv_or_cancelled(sp.a));
        co_await asyncio::sleep(10ms);
        EXPECT_TRUE(t.cancel());
        co_await asyncio::sleep(0);
        EXPECT_EQ(t.result(), "<cancelled>");
        EXPECT_EQ(LoopAccess::registered_fds(loop), 0u);
        send_all(sp.b, "later");  // for the next reader, whole
        EXPECT_EQ(co_await asyncio::wait_for(recv_or_cancelled(sp.a), 1s), "later");
    }());
}

TEST(SockRecvSkeleton, CancelledAfterTheFdBecameReadableLosesNoByte) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    asyncio::testing::run([&]() -> Coro<void> {
        auto& loop = asyncio::get_running_loop();
        auto t = asyncio::create_task(recv_or_cancelled(sp.a));
        co_await asyncio::sleep(10ms);
        // The next iteration polls first (the watcher wakes the task) and then runs this
        // callback, queued before the task: the cancellation comes too late to withdraw.
        send_all(sp.b, "kept");
        loop.call_soon([&t] { EXPECT_TRUE(t.cancel()); });
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        EXPECT_EQ(t.result(), "<cancelled>");
        EXPECT_EQ(t.cancelling(), 1u);
        EXPECT_EQ(LoopAccess::registered_fds(loop), 0u);
        EXPECT_EQ(co_await asyncio::wait_for(recv_or_cancelled(sp.a), 1s), "kept");
    }());
}

TEST(SockRecvSkeleton, ARequestMadeBeforeTheWaitEndsItAtOnce) {
    SocketPair sp;
    ASSERT_GE(sp.a, 0);
    asyncio::testing::run([&]() -> Coro<void> {
        auto t = asyncio::create_task([&sp]() -> Coro<std::string> {
            asyncio::current_task()->cancel();
            co_return co_await recv_or_cancelled(sp.a);
        });
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        EXPECT_EQ(t.result(), "<cancelled>");
        EXPECT_EQ(LoopAccess::registered_fds(asyncio::get_running_loop()), 0u);
    }());
}

}  // namespace
