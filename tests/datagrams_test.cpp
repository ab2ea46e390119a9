// Datagram endpoints (asyncio/datagrams.hpp) on 127.0.0.1, ::1 and Unix datagram sockets of
// the tests' own making: CPython's test_events.py / test_base_events.py datagram cases
// (test_create_datagram_endpoint, _sock, _connect_err, the ValueError cases, a lost peer's
// error_received), one case each.
#include "support/async_test.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using asyncio::Coro;
using asyncio::DatagramEndpointOptions;
using asyncio::DatagramTransport;
using asyncio::SocketAddress;

namespace {

struct Recorder : asyncio::DatagramProtocol {
    DatagramTransport* transport = nullptr;
    std::vector<std::pair<std::string, SocketAddress>> got;
    std::vector<std::exception_ptr> errors;
    std::vector<std::string> events;
    asyncio::Event received;
    asyncio::Event errored;
    asyncio::Event lost;
    bool echo = false;
    void connection_made(DatagramTransport& t) override {
        transport = &t;
        events.emplace_back("made");
    }
    void datagram_received(std::string_view data, const SocketAddress& addr) override {
        got.emplace_back(std::string(data), addr);
        if (echo) transport->sendto(data, addr);
        received.set();
    }
    void error_received(std::exception_ptr exc) override {
        errors.push_back(exc);
        errored.set();
    }
    void connection_lost(std::exception_ptr exc) override {
        events.emplace_back(exc ? "lost error" : "lost");
        lost.set();
    }
    void pause_writing() override { events.emplace_back("pause"); }
    void resume_writing() override { events.emplace_back("resume"); }
};

SocketAddress sockname(DatagramTransport& t) { return std::any_cast<SocketAddress>(t.get_extra_info("sockname")); }

}  // namespace

// test_create_datagram_endpoint: an echo server and a connected client on 127.0.0.1.
ASYNCIO_TEST(Datagrams, EchoServerAndConnectedClient) {
    auto& loop = asyncio::get_running_loop();
    DatagramEndpointOptions server_opts;
    server_opts.local_addr = std::pair<std::string, int>("127.0.0.1", 0);
    auto [server, sp] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, server_opts);
    sp->echo = true;
    const SocketAddress where = sockname(*server);
    DatagramEndpointOptions client_opts;
    client_opts.remote_addr = std::pair<std::string, int>("127.0.0.1", where.port());
    auto [client, cp] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, client_opts);
    EXPECT_EQ(std::any_cast<SocketAddress>(client->get_extra_info("peername")), where);
    client->sendto("xxx");
    co_await cp->received.wait();
    EXPECT_EQ(sp->got.size(), 1u);
    EXPECT_EQ(sp->got[0].first, "xxx");
    EXPECT_EQ(sp->got[0].second, sockname(*client));
    EXPECT_EQ(cp->got.at(0).first, "xxx");
    EXPECT_EQ(cp->got.at(0).second, where);
    // A datagram may be empty (3.13 sends it).
    cp->received.clear();
    client->sendto("");
    co_await cp->received.wait();
    EXPECT_EQ(cp->got.at(1).first, "");
    client->close();
    server->close();
    co_await cp->lost.wait();
    co_await sp->lost.wait();
    EXPECT_EQ(cp->events, (std::vector<std::string>{"made", "lost"}));
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// The same over IPv6 (::1), unconnected on both sides: sendto with an address.
ASYNCIO_TEST(Datagrams, Ipv6Unconnected) {
    auto& loop = asyncio::get_running_loop();
    DatagramEndpointOptions o;
    o.local_addr = std::pair<std::string, int>("::1", 0);
    auto [a, ap] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, o);
    auto [b, bp] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, o);
    b->sendto("hello six", sockname(*a));
    co_await ap->received.wait();
    EXPECT_EQ(ap->got.at(0).first, "hello six");
    EXPECT_EQ(ap->got.at(0).second, sockname(*b));
    a->close();
    b->close();
    co_await bp->lost.wait();
}

// test_create_datagram_endpoint_sock: over a socket of the caller's; a stream socket is
// refused.
ASYNCIO_TEST(Datagrams, OverACallersSocket) {
    auto& loop = asyncio::get_running_loop();
    asyncio::Socket s(AF_INET, SOCK_DGRAM);
    s.bind(SocketAddress::inet("127.0.0.1", 0));
    const SocketAddress at = s.getsockname();
    auto [t, p] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, std::move(s));
    EXPECT_EQ(sockname(*t), at);
    asyncio::Socket sender(AF_INET, SOCK_DGRAM);
    EXPECT_EQ(co_await loop.sock_sendto(sender, "via sock", at), 8u);
    co_await p->received.wait();
    EXPECT_EQ(p->got.at(0).first, "via sock");
    t->close();
    co_await p->lost.wait();
    bool refused = false;
    try {
        asyncio::Socket stream(AF_INET, SOCK_STREAM);
        co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, std::move(stream));
    } catch (const asyncio::ValueError&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
}

// A lost peer: a connected endpoint sending to a port nobody listens on gets
// error_received(ConnectionRefusedError) and stays open.
ASYNCIO_TEST(Datagrams, ErrorReceivedOnConnectionRefused) {
    auto& loop = asyncio::get_running_loop();
    std::uint16_t dead_port = 0;
    {
        asyncio::Socket probe(AF_INET, SOCK_DGRAM);
        probe.bind(SocketAddress::inet("127.0.0.1", 0));
        dead_port = probe.getsockname().port();
    }  // closed: nothing listens there now
    DatagramEndpointOptions o;
    o.remote_addr = std::pair<std::string, int>("127.0.0.1", dead_port);
    auto [t, p] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, o);
    t->sendto("anyone?");
    co_await p->errored.wait();
    bool refused = false;
    try {
        std::rethrow_exception(p->errors.at(0));
    } catch (const asyncio::ConnectionRefusedError& e) {
        refused = e.errno_value() == ECONNREFUSED;
    }
    EXPECT_TRUE(refused);
    EXPECT_FALSE(t->is_closing());
    t->close();
    co_await p->lost.wait();
}

// test_create_datagram_endpoint_wrong_sock / _addr / the ValueError cases: no address and
// no family; a sendto to another address than the connected one; sendto without an address
// when unconnected; sendto after close.
ASYNCIO_TEST(Datagrams, MisuseIsRefused) {
    auto& loop = asyncio::get_running_loop();
    bool raised = false;
    try {
        co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, DatagramEndpointOptions{});
    } catch (const asyncio::ValueError& e) {
        raised = std::string(e.what()) == "unexpected address family";
    }
    EXPECT_TRUE(raised);
    DatagramEndpointOptions o;
    o.remote_addr = std::pair<std::string, int>("127.0.0.1", 9);
    auto [t, p] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, o);
    raised = false;
    try {
        t->sendto("x", SocketAddress::inet("127.0.0.1", 10));
    } catch (const asyncio::ValueError& e) {
        raised = std::string(e.what()) == "Invalid address: must be None or ('127.0.0.1', 9)";
    }
    EXPECT_TRUE(raised);
    t->sendto("ok", SocketAddress::inet("127.0.0.1", 9));  // the connected address itself is fine
    t->close();
    raised = false;
    try {
        t->sendto("late");
    } catch (const asyncio::RuntimeError&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    co_await p->lost.wait();
    DatagramEndpointOptions unconnected;
    unconnected.family = AF_INET;
    auto [u, up] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, unconnected);
    raised = false;
    try {
        u->sendto("where to?");
    } catch (const asyncio::ValueError&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    u->abort();
    co_await up->lost.wait();
}

// reuse_port and allow_broadcast set their options; a second endpoint shares the port.
ASYNCIO_TEST(Datagrams, ReusePortAndBroadcast) {
    auto& loop = asyncio::get_running_loop();
    DatagramEndpointOptions o;
    o.local_addr = std::pair<std::string, int>("127.0.0.1", 0);
    o.reuse_port = true;
    o.allow_broadcast = true;
    auto [a, ap] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, o);
    auto* sock = std::any_cast<asyncio::Socket*>(a->get_extra_info("socket"));
    EXPECT_EQ(sock->getsockopt(SOL_SOCKET, SO_REUSEPORT), 1);
    EXPECT_EQ(sock->getsockopt(SOL_SOCKET, SO_BROADCAST), 1);
    o.local_addr->second = sockname(*a).port();
    auto [b, bp] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, o);
    EXPECT_EQ(sockname(*b), sockname(*a));
    a->close();
    b->close();
    co_await bp->lost.wait();
}

// A Unix datagram endpoint pair at paths of the test's own; a stale socket file at the
// local path is replaced, as CPython does.
ASYNCIO_TEST(Datagrams, UnixDatagrams) {
    auto& loop = asyncio::get_running_loop();
    const std::string dir = "/tmp/asyncio-dgram-" + std::to_string(::getpid());
    ::mkdir(dir.c_str(), 0700);
    const std::string server_path = dir + "/server";
    const std::string client_path = dir + "/client";
    {
        asyncio::Socket stale(AF_UNIX, SOCK_DGRAM);
        stale.bind(SocketAddress::unix_path(server_path));
    }  // the file stays behind
    auto [server, sp] = co_await loop.create_unix_datagram_endpoint([] { return std::make_unique<Recorder>(); }, server_path);
    sp->echo = true;
    auto [client, cp] = co_await loop.create_unix_datagram_endpoint([] { return std::make_unique<Recorder>(); }, client_path, server_path);
    client->sendto("over unix");
    co_await cp->received.wait();
    EXPECT_EQ(sp->got.at(0).second.path(), client_path);
    EXPECT_EQ(cp->got.at(0).first, "over unix");
    client->close();
    server->close();
    co_await cp->lost.wait();
    co_await sp->lost.wait();
    ::unlink(server_path.c_str());
    ::unlink(client_path.c_str());
    ::rmdir(dir.c_str());
}

// A full send buffer: datagrams the kernel refuses are queued whole, pause_writing above
// the high-water mark, the queue drains once the reader reads, resume_writing; nothing lost
// or split. A Unix datagram pair, whose sender blocks (EAGAIN) when the receiver's queue is
// full rather than dropping.
ASYNCIO_TEST(Datagrams, QueuedWhenTheKernelRefuses) {
    auto& loop = asyncio::get_running_loop();
    auto [a, b] = asyncio::socketpair(AF_UNIX, SOCK_DGRAM);
    auto [t, p] = co_await loop.create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, std::move(a));
    t->set_write_buffer_limits(4096);
    const std::string msg(1000, 'm');
    int sent = 0;
    while (t->get_write_buffer_size() == 0 && sent < 100000) {
        t->sendto(msg);
        ++sent;
    }
    EXPECT_GT(t->get_write_buffer_size(), 0u);
    for (int i = 0; i < 8; ++i) t->sendto(msg), ++sent;
    EXPECT_EQ(t->get_write_buffer_size() % (msg.size() + 8), 0u);
    EXPECT_EQ(p->events, (std::vector<std::string>{"made", "pause"}));
    int received = 0;
    std::string buf(2000, '\0');
    while (received < sent) {
        std::size_t n = co_await loop.sock_recv_into(b, std::as_writable_bytes(std::span(buf)));
        EXPECT_EQ(n, msg.size());
        ++received;
    }
    EXPECT_EQ(t->get_write_buffer_size(), 0u);
    EXPECT_EQ(p->events, (std::vector<std::string>{"made", "pause", "resume"}));
    t->close();
    co_await p->lost.wait();
}

// The loop closing with an endpoint open lets go of its socket.
TEST(Datagrams, LoopClosedWithEndpointOpen) {
    std::shared_ptr<DatagramTransport> kept;
    {
        asyncio::EventLoop loop;
        kept = loop.run_until_complete([]() -> Coro<std::shared_ptr<DatagramTransport>> {
            DatagramEndpointOptions o;
            o.local_addr = std::pair<std::string, int>("127.0.0.1", 0);
            auto made = co_await asyncio::get_running_loop().create_datagram_endpoint([] { return std::make_unique<Recorder>(); }, o);
            co_return made.first;
        }());
        loop.close();
    }
    EXPECT_TRUE(kept->is_closing());
    EXPECT_FALSE(kept->get_extra_info("socket").has_value());
}
