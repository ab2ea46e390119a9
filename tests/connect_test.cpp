// create_connection's walk over the resolved addresses: one at a time, or staggered (Happy
// Eyeballs, `happy_eyeballs_delay`), reordered by family (`interleave`). The staggered cases
// are CPython's test_staggered.py (3.13) told with real sockets on 127.0.0.1: an address
// that never answers is a listener whose accept queue is full (listen(0) with one
// connection waiting), whose SYNs the kernel drops.
#include "support/async_test.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using asyncio::AddrInfo;
using asyncio::Coro;
using asyncio::Socket;
using asyncio::SocketAddress;

namespace {

struct Quiet : asyncio::Protocol {};

AddrInfo info(const SocketAddress& address) {
    AddrInfo ai;
    ai.family = address.family();
    ai.type = SOCK_STREAM;
    ai.address = address;
    return ai;
}

// A listener on 127.0.0.1 that accepts nothing: connections wait in its backlog.
Socket listener(int backlog) {
    Socket s(AF_INET, SOCK_STREAM);
    s.bind(SocketAddress::inet("127.0.0.1", 0));
    s.listen(backlog);
    return s;
}

// An address nobody listens on: connecting is refused at once.
SocketAddress closed_address() {
    Socket s(AF_INET, SOCK_STREAM);
    s.bind(SocketAddress::inet("127.0.0.1", 0));
    return s.getsockname();  // the port is free again when `s` closes
}

// A listener whose accept queue is full: a connect to it hangs (the SYN is dropped and
// retried after 1 s of real time, long after each test here is done).
struct Unanswering {
    Socket sock = listener(0);
    Socket filler{AF_INET, SOCK_STREAM};
    Unanswering() {
        filler.setblocking(true);
        const SocketAddress to = sock.getsockname();
        EXPECT_EQ(::connect(filler.fileno(), to.data(), to.size()), 0);  // the one the queue holds
    }
    [[nodiscard]] SocketAddress address() const { return sock.getsockname(); }
};

// Two addresses, in order (a function, not a braced list in the co_await: g++ 12 rejects
// those, docs/differences.md).
std::vector<AddrInfo> infos(const SocketAddress& first, const SocketAddress& second) {
    std::vector<AddrInfo> v;
    v.push_back(info(first));
    v.push_back(info(second));
    return v;
}

double seconds(asyncio::EventLoop::duration d) { return std::chrono::duration<double>(d).count(); }

std::vector<int> ports(const std::vector<AddrInfo>& infos) {
    std::vector<int> out;
    for (const AddrInfo& ai : infos) out.push_back(ai.address.port());
    return out;
}

}  // namespace

// CPython's _interleave_addrinfos: by family in order of first appearance, `count` of the
// first family first, then one of each in turn (the expected orders are CPython 3.13's).
TEST(Connect, InterleaveAlternatesTheFamilies) {
    auto a = [](int port) { return info(SocketAddress::inet("::1", static_cast<std::uint16_t>(port))); };
    auto b = [](int port) { return info(SocketAddress::inet("127.0.0.1", static_cast<std::uint16_t>(port))); };
    const std::vector<AddrInfo> mixed{a(1), a(2), a(3), b(11), b(12)};
    EXPECT_EQ(ports(asyncio::detail::interleave_addrinfos(mixed, 1)), (std::vector<int>{1, 11, 2, 12, 3}));
    EXPECT_EQ(ports(asyncio::detail::interleave_addrinfos(mixed, 2)), (std::vector<int>{1, 2, 11, 3, 12}));
    EXPECT_EQ(ports(asyncio::detail::interleave_addrinfos(mixed, 5)), (std::vector<int>{1, 2, 3, 11, 12}));
    EXPECT_EQ(ports(asyncio::detail::interleave_addrinfos(mixed, -3)), (std::vector<int>{1, 11, 2, 12, 3}));
    EXPECT_EQ(ports(asyncio::detail::interleave_addrinfos({b(11), a(1), b(12)}, 1)), (std::vector<int>{11, 1, 12}));
    EXPECT_TRUE(asyncio::detail::interleave_addrinfos({}, 1).empty());
}

// test_one_successful: one address, and it connects.
ASYNCIO_TEST(Connect, HappyEyeballsWithOneAddress) {
    auto& loop = asyncio::get_running_loop();
    Socket l = listener(8);
    auto [t, p] = co_await loop.create_connection([] { return Quiet(); }, "127.0.0.1", l.getsockname().port(), {.happy_eyeballs_delay = 0.25});
    EXPECT_EQ(std::any_cast<SocketAddress>(t->get_extra_info("peername")).port(), l.getsockname().port());
    EXPECT_NE(p, nullptr);
    t->abort();
    co_await asyncio::testing::run_until_idle();
}

// test_first_timeout_second_successful: the first address does not answer; the second
// attempt starts after the delay (virtual time) and wins; the first is cancelled with its
// socket closed and its fd interest gone.
ASYNCIO_TEST(Connect, AnUnansweredAddressIsPassedAfterTheDelay) {
    auto& loop = asyncio::get_running_loop();
    Unanswering silent;
    Socket good = listener(8);
    const std::size_t fds_before = asyncio::testing::registered_fds(loop);
    const auto start = loop.time();
    Socket sock = co_await asyncio::detail::connect_addrinfos(loop, infos(silent.address(), good.getsockname()), {}, {.happy_eyeballs_delay = 0.25});
    EXPECT_DOUBLE_EQ(seconds(loop.time() - start), 0.25);
    EXPECT_EQ(sock.getpeername().port(), good.getsockname().port());
    EXPECT_EQ(asyncio::testing::registered_fds(loop), fds_before);
    EXPECT_EQ(asyncio::testing::scheduled_timers(loop), 0u);
}

// Without happy_eyeballs_delay the addresses are tried one at a time: an unanswered first
// address holds the second back (here until the caller's timeout).
ASYNCIO_TEST(Connect, WithoutTheDelayTheNextAddressWaitsForThePrevious) {
    auto& loop = asyncio::get_running_loop();
    Unanswering silent;
    Socket good = listener(8);
    EXPECT_THROW(co_await asyncio::wait_for(asyncio::detail::connect_addrinfos(loop, infos(silent.address(), good.getsockname()), {}, {}), 5.0),
                 asyncio::TimeoutError);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_first_error_second_successful: a refused first address starts the second attempt at
// once, without waiting for the delay.
ASYNCIO_TEST(Connect, ARefusedAddressStartsTheNextAtOnce) {
    auto& loop = asyncio::get_running_loop();
    Socket good = listener(8);
    const auto start = loop.time();
    Socket sock = co_await asyncio::detail::connect_addrinfos(loop, infos(closed_address(), good.getsockname()), {}, {.happy_eyeballs_delay = 10.0});
    EXPECT_DOUBLE_EQ(seconds(loop.time() - start), 0.0);
    EXPECT_EQ(sock.getpeername().port(), good.getsockname().port());
}

// test_none_successful: every attempt fails; the errors are raised as one at a time would
// raise them: listed in one OSError, or, with all_errors, an ExceptionGroup in address order.
ASYNCIO_TEST(Connect, WhenEveryAttemptFailsTheErrorsAreRaisedInAddressOrder) {
    auto& loop = asyncio::get_running_loop();
    const SocketAddress first = closed_address();
    const SocketAddress second = closed_address();
    try {
        co_await asyncio::detail::connect_addrinfos(loop, infos(first, second), {}, {.happy_eyeballs_delay = 0.25});
        ADD_FAILURE() << "no error";
    } catch (const asyncio::ConnectionRefusedError&) {
        ADD_FAILURE() << "one error instead of the list";
    } catch (const asyncio::OSError& e) {
        EXPECT_EQ(std::string(e.what()), "Multiple exceptions: [Errno 111] Connect call failed " + first.str() + ", [Errno 111] Connect call failed " + second.str());
    }
    try {
        co_await asyncio::detail::connect_addrinfos(loop, infos(first, second), {}, {.happy_eyeballs_delay = 0.25, .all_errors = true});
        ADD_FAILURE() << "no error";
    } catch (const asyncio::ExceptionGroup& g) {
        EXPECT_EQ(g.exceptions().size(), 2u);
        std::vector<std::string> texts;
        for (const auto& e : g.exceptions()) {
            try {
                std::rethrow_exception(e);
            } catch (const asyncio::ConnectionRefusedError& x) {
                texts.emplace_back(x.what());
            }
        }
        EXPECT_EQ(texts, (std::vector<std::string>{"[Errno 111] Connect call failed " + first.str(), "[Errno 111] Connect call failed " + second.str()}));
    }
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// Cancelling create_connection in the middle of a race cancels every attempt: no fd
// interest, no timer, no task left.
ASYNCIO_TEST(Connect, CancellingARaceLeavesNothingBehind) {
    auto& loop = asyncio::get_running_loop();
    Unanswering one;
    Unanswering two;
    auto task = asyncio::create_task(asyncio::detail::connect_addrinfos(loop, infos(one.address(), two.address()), {}, {.happy_eyeballs_delay = 0.25}));
    co_await asyncio::sleep(0.5);  // both attempts in flight
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 2u);
    task.cancel();
    EXPECT_THROW(co_await task, asyncio::CancelledError);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
    EXPECT_EQ(asyncio::testing::scheduled_timers(loop), 0u);
    EXPECT_EQ(asyncio::all_tasks().size(), 1u);  // this test's own
}

// A delay of zero starts every attempt at once; one wins, the others are cancelled or, if
// they connected in the same step, closed: the listeners see exactly one connection stay.
ASYNCIO_TEST(Connect, AZeroDelayRacesEveryAddressAndKeepsOneConnection) {
    auto& loop = asyncio::get_running_loop();
    Socket a = listener(8);
    Socket b = listener(8);
    Socket sock = co_await asyncio::detail::connect_addrinfos(loop, infos(a.getsockname(), b.getsockname()), {}, {.happy_eyeballs_delay = 0.0});
    const int won = sock.getpeername().port();
    EXPECT_TRUE(won == a.getsockname().port() || won == b.getsockname().port());
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
    // Every connection the other listener got has been closed by its client (an attempt
    // cancelled before it connected made none).
    const Socket& other = won == a.getsockname().port() ? b : a;
    const Socket& winner_side = won == a.getsockname().port() ? a : b;
    int kept = 0;
    for (const Socket* l : {&winner_side, &other}) {
        for (int fd; (fd = ::accept4(l->fileno(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
            char byte = 0;
            const ssize_t n = ::recv(fd, &byte, 1, 0);
            if (n < 0 && errno == EAGAIN) ++kept;  // open: nothing sent, no EOF
            ::close(fd);
        }
    }
    EXPECT_EQ(kept, 1);
}
