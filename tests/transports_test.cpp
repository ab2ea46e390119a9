// The stream socket transport and the protocols (asyncio/transports.hpp,
// asyncio/protocols.hpp) through create_connection and create_server, on 127.0.0.1 and
// socketpairs of the tests' own making: the transport parts of CPython's
// test_selector_events.py (SelectorStreamTransportTests) as behaviour, one case each.
#include "support/async_test.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using asyncio::Coro;
using asyncio::Socket;
using asyncio::Transport;

namespace {

// Echoes what it receives; counts what happened to it.
struct Echo : asyncio::Protocol {
    Transport* transport = nullptr;
    void connection_made(Transport& t) override { transport = &t; }
    void data_received(std::string_view data) override { transport->write(data); }
};

// Records everything; a test reads the record.
struct Recorder : asyncio::Protocol {
    Transport* transport = nullptr;
    std::string received;
    std::vector<std::string> events;
    std::exception_ptr lost_with;
    asyncio::Event lost;
    asyncio::Event got_eof;
    bool keep_open_on_eof = false;
    std::size_t expect = 0;  // set `enough` once this many bytes came
    asyncio::Event enough;
    void connection_made(Transport& t) override {
        transport = &t;
        events.emplace_back("made");
    }
    void data_received(std::string_view data) override {
        received.append(data);
        if (expect && received.size() >= expect) enough.set();
    }
    bool eof_received() override {
        events.emplace_back("eof");
        got_eof.set();
        return keep_open_on_eof;
    }
    void connection_lost(std::exception_ptr exc) override {
        events.emplace_back("lost");
        lost_with = exc;
        lost.set();
    }
    void pause_writing() override { events.emplace_back("pause"); }
    void resume_writing() override { events.emplace_back("resume"); }
};

std::string pattern(std::size_t n, std::size_t offset = 0) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i + offset) * 31 + (i + offset) / 257);
    return s;
}

int port_of(const std::shared_ptr<asyncio::Server>& server) { return server->sockets().at(0)->getsockname().port(); }

}  // namespace

// CPython's documentation example: an echo server and a client with Protocol.
ASYNCIO_TEST(Transports, EchoServerAndClient) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Echo(); }, "127.0.0.1", 0);
    EXPECT_TRUE(server->is_serving());
    auto [transport, client] = co_await loop.create_connection([] { return std::make_unique<Recorder>(); }, "127.0.0.1", port_of(server));
    client->expect = 11;
    transport->write("hello ");
    transport->write("world");
    co_await client->enough.wait();
    EXPECT_EQ(client->received, "hello world");
    EXPECT_EQ(server->active_connections(), 1u);
    transport->close();
    EXPECT_TRUE(transport->is_closing());
    co_await client->lost.wait();
    EXPECT_FALSE(client->lost_with);
    EXPECT_EQ(client->events, (std::vector<std::string>{"made", "lost"}));
    server->close();
    co_await server->wait_closed();  // the server saw the end of stream and closed its side
    EXPECT_EQ(server->active_connections(), 0u);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// 100 MiB through the echo server, under flow control, byte for byte.
ASYNCIO_TEST(Transports, HundredMiBThroughTheEchoServerByteExact) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Echo(); }, "127.0.0.1", 0);
    struct Pump : Recorder {
        std::size_t sent = 0, total = 0, mismatch_at = static_cast<std::size_t>(-1), checked = 0;
        bool paused = false;
        asyncio::Event can_write;
        void pause_writing() override {
            paused = true;
            can_write.clear();
        }
        void resume_writing() override {
            paused = false;
            can_write.set();
        }
        void data_received(std::string_view data) override {
            std::string want = pattern(data.size(), checked);
            if (data != want && mismatch_at == static_cast<std::size_t>(-1)) mismatch_at = checked;
            checked += data.size();
            if (checked >= total) enough.set();
        }
    };
    auto [transport, pump] = co_await loop.create_connection([] { return std::make_unique<Pump>(); }, "127.0.0.1", port_of(server));
    const std::size_t total = std::size_t{100} << 20, chunk = std::size_t{256} * 1024;
    pump->total = total;
    while (pump->sent < total) {
        if (pump->paused) co_await pump->can_write.wait();
        transport->write(pattern(chunk, pump->sent));
        pump->sent += chunk;
        EXPECT_LE(transport->get_write_buffer_size(), std::size_t{64} * 1024 + chunk);  // bounded by the mark
        co_await asyncio::sleep(0);
    }
    co_await pump->enough.wait();
    EXPECT_EQ(pump->checked, total);
    EXPECT_EQ(pump->mismatch_at, static_cast<std::size_t>(-1));
    transport->close();
    server->close();
    co_await server->wait_closed();
}

// test_write_ready_... / _maybe_pause_protocol: a peer that does not read makes the
// transport pause the protocol at the high-water mark; the buffer stays where the kernel
// left it; draining resumes it.
ASYNCIO_TEST(Transports, PauseWritingAtTheHighWaterMarkAndResumeWhenDrained) {
    auto& loop = asyncio::get_running_loop();
    auto [mine, peer] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_accepted_socket([] { return std::make_unique<Recorder>(); }, std::move(mine));
    EXPECT_EQ(transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{16 * 1024, 64 * 1024}));
    const std::string block(std::size_t{64} * 1024, 'x');
    std::size_t written = 0;
    while (proto->events.size() < 2 && written < (64u << 20)) {  // until "pause"
        transport->write(block);
        written += block.size();
    }
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "pause"}));
    std::size_t buffered = transport->get_write_buffer_size();
    EXPECT_GT(buffered, 64u * 1024);
    for (int i = 0; i < 5; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(transport->get_write_buffer_size(), buffered);  // nothing moves while the peer does not read
    // The peer reads everything: the buffer drains, the protocol is resumed once.
    std::size_t got = 0;
    std::string buf(1 << 20, '\0');
    while (got < written) {
        std::size_t n = co_await loop.sock_recv_into(peer, std::as_writable_bytes(std::span(buf)));
        if (n == 0) break;
        got += n;
    }
    EXPECT_EQ(got, written);
    EXPECT_EQ(transport->get_write_buffer_size(), 0u);
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "pause", "resume"}));
    transport->abort();
}

// test_write_eof: the write side closes after the buffer drains; reading goes on, and a
// half-closed connection still gets its reply.
ASYNCIO_TEST(Transports, AHalfClosedConnectionStillGetsItsReply) {
    auto& loop = asyncio::get_running_loop();
    struct ReplyOnEof : asyncio::Protocol {
        Transport* t = nullptr;
        std::string got;
        void connection_made(Transport& tr) override { t = &tr; }
        void data_received(std::string_view d) override { got.append(d); }
        bool eof_received() override {
            t->write("you said: " + got);
            t->close();
            return true;
        }
    };
    auto server = co_await loop.create_server([] { return ReplyOnEof(); }, "127.0.0.1", 0);
    auto [transport, client] = co_await loop.create_connection([] { return std::make_unique<Recorder>(); }, "127.0.0.1", port_of(server));
    EXPECT_TRUE(transport->can_write_eof());
    transport->write("question");
    transport->write_eof();
    EXPECT_THROW(transport->write("more"), asyncio::RuntimeError);
    co_await client->lost.wait();
    EXPECT_EQ(client->received, "you said: question");
    EXPECT_EQ(client->events, (std::vector<std::string>{"made", "eof", "lost"}));
    server->close();
    co_await server->wait_closed();
}

// A peer that resets mid-transfer: connection_lost(ConnectionResetError); the server keeps
// serving. (The server's protocols die with their transports: they report to the test's log.)
ASYNCIO_TEST(Transports, APeerResetIsConnectionResetErrorAndTheServerServesOn) {
    auto& loop = asyncio::get_running_loop();
    struct Log {
        int made = 0;
        std::vector<std::exception_ptr> lost;
        asyncio::Event any_lost;
    } log;
    struct Reporting : asyncio::Protocol {
        Log* log;
        explicit Reporting(Log* l) : log(l) {}
        void connection_made(Transport&) override { ++log->made; }
        void connection_lost(std::exception_ptr exc) override {
            log->lost.push_back(exc);
            log->any_lost.set();
        }
    };
    auto server = co_await loop.create_server([&] { return Reporting(&log); }, "127.0.0.1", 0);
    Socket raw(AF_INET, SOCK_STREAM);
    co_await loop.sock_connect(raw, server->sockets().at(0)->getsockname());
    co_await loop.sock_sendall(raw, "partial");
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_EQ(log.made, 1);
    ::linger lg{1, 0};  // close with RST
    ::setsockopt(raw.fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    raw.close();
    co_await log.any_lost.wait();
    bool reset = false;
    try {
        if (!log.lost.empty() && log.lost[0]) std::rethrow_exception(log.lost[0]);
    } catch (const asyncio::ConnectionResetError&) {
        reset = true;
    }
    EXPECT_TRUE(reset);
    // And the next client is served.
    auto [t2, p2] = co_await loop.create_connection([] { return std::make_unique<Recorder>(); }, "127.0.0.1", port_of(server));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_EQ(log.made, 2);
    EXPECT_EQ(server->active_connections(), 1u);
    t2->close();
    server->close();
    co_await server->wait_closed();
}

// test_close / test_force_close: close() sends what is buffered first; abort() drops it.
ASYNCIO_TEST(Transports, CloseSendsTheBufferAbortDropsIt) {
    auto& loop = asyncio::get_running_loop();
    for (bool abort : {false, true}) {
        auto [mine, peer] = asyncio::socketpair();
        auto [transport, proto] = co_await loop.connect_accepted_socket([] { return std::make_unique<Recorder>(); }, std::move(mine));
        transport->write("last words");
        if (abort)
            transport->abort();
        else
            transport->close();
        EXPECT_THROW(transport->write("x"), asyncio::RuntimeError);
        co_await proto->lost.wait();
        std::string got;
        for (;;) {
            std::string part = co_await loop.sock_recv(peer, 100);
            if (part.empty()) break;
            got += part;
        }
        EXPECT_EQ(got, abort ? "" : "last words");
    }
}

// CPython drops a write on a lost connection silently; here it raises the error that ended it.
ASYNCIO_TEST(Transports, AWriteOnALostConnectionFailsVisibly) {
    auto& loop = asyncio::get_running_loop();
    auto [mine, peer] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_accepted_socket([] { return std::make_unique<Recorder>(); }, std::move(mine));
    peer.close();
    co_await proto->lost.wait();  // the end of stream closed the transport
    EXPECT_TRUE(transport->is_closing());
    EXPECT_THROW(transport->write("anyone?"), asyncio::ConnectionResetError);
}

// BufferedProtocol: the kernel writes straight into the protocol's buffer.
ASYNCIO_TEST(Transports, ABufferedProtocolGetsBytesInItsOwnBuffer) {
    auto& loop = asyncio::get_running_loop();
    struct Into : asyncio::BufferedProtocol {
        std::string storage = std::string(4, '\0');
        std::string got;
        std::vector<std::size_t> sizes;
        asyncio::Event done;
        std::span<std::byte> get_buffer(std::size_t hint) override {
            EXPECT_EQ(hint, 0u);
            return std::as_writable_bytes(std::span(storage));
        }
        void buffer_updated(std::size_t n) override {
            sizes.push_back(n);
            got.append(storage, 0, n);
        }
        bool eof_received() override {
            done.set();
            return false;
        }
    };
    auto [mine, peer] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_accepted_socket([] { return std::make_unique<Into>(); }, std::move(mine));
    co_await loop.sock_sendall(peer, "0123456789");
    peer.shutdown(SHUT_WR);
    co_await proto->done.wait();
    EXPECT_EQ(proto->got, "0123456789");
    EXPECT_EQ(proto->sizes, (std::vector<std::size_t>{4, 4, 2}));
}

// test_proto_type_switch: set_protocol from a Protocol to a BufferedProtocol; the next bytes
// go into the new one's buffer. Here the old protocol switches itself in data_received and
// goes on using its members: it is destroyed only once that call has returned.
ASYNCIO_TEST(Transports, SetProtocolSwitchesTheReceiverAndKeepsTheOldOneUntilItsCallReturns) {
    auto& loop = asyncio::get_running_loop();
    struct Into : asyncio::BufferedProtocol {
        std::string storage = std::string(64, '\0');
        std::string* got;
        asyncio::Event* done;
        Into(std::string* g, asyncio::Event* d) : got(g), done(d) {}
        std::span<std::byte> get_buffer(std::size_t) override { return std::as_writable_bytes(std::span(storage)); }
        void buffer_updated(std::size_t n) override { got->append(storage, 0, n); }
        bool eof_received() override {
            done->set();
            return false;
        }
    };
    std::string after_switch;
    asyncio::Event done;
    std::vector<std::string> log;
    struct Greeter : asyncio::Protocol {
        Transport* transport = nullptr;
        std::vector<std::string>* log;
        std::string* after;
        asyncio::Event* done;
        std::string first;
        Greeter(std::vector<std::string>* l, std::string* a, asyncio::Event* d) : log(l), after(a), done(d) {}
        ~Greeter() override { log->push_back("old destroyed"); }
        void connection_made(Transport& t) override { transport = &t; }
        void data_received(std::string_view data) override {
            transport->set_protocol(Into(after, done));
            first = std::string(data);  // `this` is still alive: ASan would say otherwise
            log->push_back("switched after " + first);
        }
    };
    auto [mine, peer] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_accepted_socket([&] { return std::make_unique<Greeter>(&log, &after_switch, &done); }, std::move(mine));
    co_await loop.sock_sendall(peer, "HELLO");
    co_await asyncio::testing::run_until_idle();
    EXPECT_EQ(log, (std::vector<std::string>{"switched after HELLO", "old destroyed"}));
    EXPECT_NE(dynamic_cast<Into*>(transport->get_protocol()), nullptr);
    co_await loop.sock_sendall(peer, "upgraded bytes");
    peer.shutdown(SHUT_WR);
    co_await done.wait();
    EXPECT_EQ(after_switch, "upgraded bytes");
}

// set_protocol from a task destroys the old protocol at once; a protocol the transport
// cannot drive is refused with nothing changed.
ASYNCIO_TEST(Transports, SetProtocolFromATaskAndItsErrors) {
    auto& loop = asyncio::get_running_loop();
    int destroyed = 0;
    struct Counted : asyncio::Protocol {
        int* destroyed;
        explicit Counted(int* d) : destroyed(d) {}
        Counted(Counted&& o) noexcept : destroyed(std::exchange(o.destroyed, nullptr)) {}
        ~Counted() override {
            if (destroyed) ++*destroyed;
        }
    };
    struct NeitherKind : asyncio::BaseProtocol {};
    auto [mine, peer] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_accepted_socket([&] { return Counted(&destroyed); }, std::move(mine));
    EXPECT_THROW(transport->set_protocol(std::unique_ptr<asyncio::BaseProtocol>()), asyncio::ValueError);
    EXPECT_THROW(transport->set_protocol(NeitherKind()), asyncio::ValueError);
    EXPECT_EQ(transport->get_protocol(), proto);
    EXPECT_EQ(destroyed, 0);
    auto next = std::make_unique<Recorder>();
    Recorder* recorder = next.get();
    transport->set_protocol(std::move(next));
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(transport->get_protocol(), recorder);
    recorder->transport = transport.get();
    peer.close();
    co_await recorder->lost.wait();
    EXPECT_EQ(recorder->events, (std::vector<std::string>{"eof", "lost"}));  // no "made": CPython does not call it either
}

// test_pause_resume_reading: no data_received while paused; what came meanwhile arrives
// on resume.
ASYNCIO_TEST(Transports, PauseReadingHoldsTheBytesUntilResumed) {
    auto& loop = asyncio::get_running_loop();
    auto [mine, peer] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_accepted_socket([] { return std::make_unique<Recorder>(); }, std::move(mine));
    EXPECT_TRUE(transport->is_reading());
    transport->pause_reading();
    EXPECT_FALSE(transport->is_reading());
    co_await loop.sock_sendall(peer, "held");
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(proto->received, "");
    transport->resume_reading();
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(proto->received, "held");
    transport->close();
    EXPECT_FALSE(transport->is_reading());
}

ASYNCIO_TEST(Transports, ExtraInfoAndBufferLimits) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Echo(); }, "127.0.0.1", 0);
    auto [transport, proto] = co_await loop.create_connection([] { return std::make_unique<Recorder>(); }, "127.0.0.1", port_of(server));
    auto peer = std::any_cast<asyncio::SocketAddress>(transport->get_extra_info("peername"));
    EXPECT_EQ(peer, server->sockets().at(0)->getsockname());
    auto* sock = std::any_cast<Socket*>(transport->get_extra_info("socket"));
    EXPECT_EQ(std::any_cast<asyncio::SocketAddress>(transport->get_extra_info("sockname")), sock->getsockname());
    EXPECT_NE(sock->getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);  // on by default, as CPython
    EXPECT_EQ(std::any_cast<int>(transport->get_extra_info("nonsense", 7)), 7);
    transport->set_write_buffer_limits(1000);
    EXPECT_EQ(transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{250, 1000}));
    transport->set_write_buffer_limits(std::nullopt, 100);
    EXPECT_EQ(transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{100, 400}));
    try {
        transport->set_write_buffer_limits(1, 2);
        ADD_FAILURE() << "no error";
    } catch (const asyncio::ValueError& e) {
        EXPECT_STREQ(e.what(), "high (1) must be >= low (2) must be >= 0");
    }
    transport->close();
    server->close();
    co_await server->wait_closed();
}

// The fast path: after the connection is set up, a request costs no epoll_ctl; the
// reactor's system calls are at most one epoll_wait per loop iteration.
ASYNCIO_TEST(Transports, AnEchoRoundTripCostsNoRegistration) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Echo(); }, "127.0.0.1", 0);
    auto [transport, client] = co_await loop.create_connection([] { return std::make_unique<Recorder>(); }, "127.0.0.1", port_of(server));
    const std::size_t before = asyncio::testing::reactor_syscalls(loop);
    constexpr int rounds = 200;
    for (int i = 0; i < rounds; ++i) {
        client->expect = static_cast<std::size_t>(i + 1) * 8;
        client->enough.clear();
        transport->write("ping-pon");
        co_await client->enough.wait();
    }
    const std::size_t per_round = (asyncio::testing::reactor_syscalls(loop) - before) / rounds;
    EXPECT_LE(per_round, 3u);  // epoll_wait only, never epoll_ctl
    EXPECT_EQ(client->received.size(), std::size_t{rounds} * 8);
    transport->close();
    server->close();
    co_await server->wait_closed();
}

// loop.close() with a transport still open: the protocol is destroyed, the fd closed.
TEST(Transports, ClosingTheLoopReleasesOpenTransports) {
    static int alive = 0;
    struct Tracked : asyncio::Protocol {
        Tracked() { ++alive; }
        Tracked(Tracked&&) noexcept { ++alive; }
        ~Tracked() override { --alive; }
    };
    auto loop = asyncio::testing::new_event_loop();
    auto sockets = asyncio::socketpair();  // (clang 14 cannot capture structured bindings)
    Socket& mine = sockets.first;
    int fd = mine.fileno();
    loop->run_until_complete([&]() -> Coro<void> {
        auto pair = co_await loop->connect_accepted_socket([] { return Tracked(); }, std::move(mine));
        (void)pair;  // the caller's handle is dropped: the loop holds the open transport
    }());
    EXPECT_EQ(alive, 1);
    loop->close();
    EXPECT_EQ(alive, 0);
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

// SelectorStreamTransportTests.test_pause_reading_connection_made: paused from
// connection_made, nothing is read until resumed.
ASYNCIO_TEST(Transports, PauseReadingFromConnectionMade) {
    auto& loop = asyncio::get_running_loop();
    struct PausedAtOnce : Recorder {
        void connection_made(Transport& t) override {
            Recorder::connection_made(t);
            t.pause_reading();
        }
    };
    auto [mine, peer] = asyncio::socketpair();
    co_await loop.sock_sendall(peer, "early");
    auto [transport, proto] = co_await loop.connect_accepted_socket([] { return std::make_unique<PausedAtOnce>(); }, std::move(mine));
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(proto->received, "");
    EXPECT_FALSE(transport->is_reading());
    transport->resume_reading();
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(proto->received, "early");
    transport->close();
}

// test_data_received_error / test_read_eof_received_error: an exception from the protocol
// is a fatal error: reported, and the connection is lost with it.
ASYNCIO_TEST(Transports, AnExceptionFromTheProtocolIsFatal) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> reports;
    loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { reports.push_back(c.message); });
    for (bool in_eof : {false, true}) {
        struct Throwing : Recorder {
            bool in_eof = false;
            void data_received(std::string_view) override {
                if (!in_eof) throw asyncio::ValueError("bad data");
            }
            bool eof_received() override {
                if (in_eof) throw asyncio::ValueError("bad eof");
                return false;
            }
        };
        auto [mine, peer] = asyncio::socketpair();
        auto [transport, proto] = co_await loop.connect_accepted_socket(
            [in_eof] {
                auto p = std::make_unique<Throwing>();
                p->in_eof = in_eof;
                return p;
            },
            std::move(mine));
        co_await loop.sock_sendall(peer, "x");
        if (in_eof) peer.shutdown(SHUT_WR);
        co_await proto->lost.wait();
        std::string what;
        try {
            if (proto->lost_with) std::rethrow_exception(proto->lost_with);
        } catch (const asyncio::ValueError& e) {
            what = e.what();
        }
        EXPECT_EQ(what, in_eof ? "bad eof" : "bad data");
        EXPECT_TRUE(transport->is_closing());
    }
    EXPECT_EQ(reports, (std::vector<std::string>{"Fatal error: protocol.data_received() call failed.",
                                                 "Fatal error: protocol.eof_received() call failed."}));
}

// test_write_no_data / the buffer of small writes: nothing for an empty write; a small write
// is counted in the buffer until the end of the iteration, then sent, with the next.
ASYNCIO_TEST(Transports, SmallWritesLeaveTogetherAtTheEndOfTheIteration) {
    auto& loop = asyncio::get_running_loop();
    auto [mine, peer] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_accepted_socket([] { return std::make_unique<Recorder>(); }, std::move(mine));
    transport->write("");
    EXPECT_EQ(transport->get_write_buffer_size(), 0u);
    transport->write("head,");
    transport->write("body");
    EXPECT_EQ(transport->get_write_buffer_size(), 9u);
    co_await asyncio::sleep(0);
    EXPECT_EQ(transport->get_write_buffer_size(), 0u);
    EXPECT_EQ(co_await loop.sock_recv(peer, 100), "head,body");
    transport->close();
}

// test_write_eof_buffer: write_eof with bytes buffered: they all arrive, then the end.
ASYNCIO_TEST(Transports, WriteEofAfterABufferedWrite) {
    auto& loop = asyncio::get_running_loop();
    auto [mine, peer] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_accepted_socket([] { return std::make_unique<Recorder>(); }, std::move(mine));
    const std::string big = pattern(std::size_t{4} << 20);  // more than the kernel holds
    transport->write(big);
    EXPECT_GT(transport->get_write_buffer_size(), 0u);
    transport->write_eof();
    std::string got;
    for (;;) {
        std::string part = co_await loop.sock_recv(peer, 1 << 20);
        if (part.empty()) break;
        got += part;
    }
    EXPECT_TRUE(got == big);
    EXPECT_FALSE(transport->is_closing());  // only the write side is closed
    co_await loop.sock_sendall(peer, "still reading");
    for (int i = 0; i < 3 && proto->received.empty(); ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(proto->received, "still reading");
    transport->close();
}

// _read_ready__get_buffer: an empty buffer from get_buffer() is a fatal RuntimeError.
ASYNCIO_TEST(Transports, AnEmptyBufferFromGetBufferIsFatal) {
    auto& loop = asyncio::get_running_loop();
    loop.set_exception_handler([](asyncio::EventLoop&, const asyncio::ExceptionContext&) {});
    struct Empty : asyncio::BufferedProtocol {
        std::exception_ptr lost;
        asyncio::Event done;
        std::span<std::byte> get_buffer(std::size_t) override { return {}; }
        void buffer_updated(std::size_t) override {}
        void connection_lost(std::exception_ptr exc) override {
            lost = exc;
            done.set();
        }
    };
    auto [mine, peer] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_accepted_socket([] { return std::make_unique<Empty>(); }, std::move(mine));
    co_await loop.sock_sendall(peer, "x");
    co_await proto->done.wait();
    std::string what;
    try {
        std::rethrow_exception(proto->lost);
    } catch (const asyncio::RuntimeError& e) {
        what = e.what();
    }
    EXPECT_EQ(what, "get_buffer() returned an empty buffer");
}

// The flush queue: a transport taken off it from the middle (a write over the high-water
// mark sends at once) leaves the others queued, and every byte arrives.
ASYNCIO_TEST(Transports, ThreeQueuedTransportsAndOneLeavesTheQueueEarly) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::pair<Socket, Socket>> pairs;
    std::vector<std::shared_ptr<Transport>> transports;
    for (int i = 0; i < 3; ++i) {
        pairs.push_back(asyncio::socketpair());
        auto [t, p] = co_await loop.connect_accepted_socket([] { return std::make_unique<Recorder>(); }, std::move(pairs.back().first));
        transports.push_back(t);
    }
    for (auto& t : transports) t->write("small;");
    const std::string big(std::size_t{100} * 1024, 'b');  // over the mark: flushed at once
    transports[1]->write(big);
    co_await asyncio::sleep(0);
    for (std::size_t i = 0; i < 3; ++i) {
        const std::string want = i == 1 ? "small;" + big : "small;";
        std::string got;
        while (got.size() < want.size()) {
            std::string part = co_await loop.sock_recv(pairs[i].second, 1 << 20);
            if (part.empty()) break;
            got += part;
        }
        EXPECT_TRUE(got == want) << i;
    }
    for (auto& t : transports) t->close();
}
