// The loop's socket operations (asyncio/sock_ops.hpp) and Socket/SocketAddress
// (asyncio/socket.hpp), on 127.0.0.1, ::1 and Unix sockets of the tests' own making:
// CPython's test_sock_lowlevel.py behaviours, one case each, with its test name in a comment.
#include "support/async_test.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <utility>

using asyncio::Coro;
using asyncio::Socket;
using asyncio::SocketAddress;

namespace {

// A listening TCP socket on 127.0.0.1 (or ::1), on a port the system chose.
Socket listener_socket(int family = AF_INET) {
    Socket s(family, SOCK_STREAM);
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    s.bind(SocketAddress::inet(family == AF_INET ? "127.0.0.1" : "::1", 0));
    s.listen(16);
    return s;
}

// A path for a Unix socket of this test, removed when done.
struct UnixPath {
    std::string path;
    UnixPath() {
        char tmpl[] = "/tmp/asyncio-sock-XXXXXX";
        if (char* d = ::mkdtemp(tmpl)) path = std::string(d) + "/s";
    }
    ~UnixPath() {
        ::unlink(path.c_str());
        ::rmdir(path.substr(0, path.size() - 2).c_str());
    }
};

// The bytes 0, 1, ... 255, 0, 1 ... of length n: a pattern whose misplacement shows.
std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + i / 251);
    return s;
}

// What CPython's errors print as: the exception's type and text.
template <class E, class Aw>
Coro<std::string> error_of(Aw aw) {
    try {
        co_await std::move(aw);
    } catch (const E& e) {
        co_return e.what();
    }
    co_return "no error";
}

}  // namespace

TEST(SocketAddress, ReprsAsPythonsTuples) {
    EXPECT_EQ(SocketAddress::inet("127.0.0.1", 8888).str(), "('127.0.0.1', 8888)");
    EXPECT_EQ(SocketAddress::inet("::1", 80).str(), "('::1', 80, 0, 0)");
    EXPECT_EQ(SocketAddress::unix_path("/tmp/x").str(), "'/tmp/x'");
    EXPECT_EQ(SocketAddress::unix_path(std::string("\0abc", 4)).str(), "b'\\x00abc'");
    EXPECT_EQ(SocketAddress().str(), "None");
    SocketAddress a = SocketAddress::inet("127.0.0.1", 8888);
    EXPECT_EQ(a.family(), AF_INET);
    EXPECT_EQ(a.host(), "127.0.0.1");
    EXPECT_EQ(a.port(), 8888);
    EXPECT_EQ(a, SocketAddress::inet("127.0.0.1", 8888));
    EXPECT_FALSE(a == SocketAddress::inet("127.0.0.1", 8889));
    EXPECT_EQ(SocketAddress::unix_path("/tmp/x").path(), "/tmp/x");
}

TEST(SocketAddress, ANameIsNotANumericAddress) {
    EXPECT_THROW((void)SocketAddress::inet("localhost", 1), asyncio::GaiError);
    EXPECT_THROW((void)SocketAddress::unix_path(std::string(200, 'x')), asyncio::ValueError);
}

TEST(Socket, OwnsItsFdAndIsNonBlocking) {
    int fd;
    {
        Socket s(AF_INET, SOCK_STREAM);
        fd = s.fileno();
        EXPECT_GE(fd, 0);
        EXPECT_EQ(s.family(), AF_INET);
        EXPECT_EQ(s.type(), SOCK_STREAM);
        EXPECT_EQ(s.proto(), IPPROTO_TCP);
        EXPECT_FALSE(s.getblocking());
        s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
        EXPECT_NE(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
        Socket moved = std::move(s);
        EXPECT_EQ(s.fileno(), -1);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
        EXPECT_EQ(moved.fileno(), fd);
    }
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed with its owner
    Socket d(AF_INET, SOCK_STREAM);
    int raw = d.detach();
    EXPECT_EQ(d.fileno(), -1);
    Socket again = Socket::from_fd(raw);
    EXPECT_EQ(again.family(), AF_INET);
    EXPECT_EQ(again.type(), SOCK_STREAM);
    EXPECT_THROW(Socket(12345, SOCK_STREAM), asyncio::OSError);
}

TEST(OSError, TheSubclassForTheErrnoAndPythonsText) {
    auto text = [](int err, const std::string& msg) -> std::string {
        try {
            asyncio::throw_os_error(err, msg);
        } catch (const asyncio::ConnectionRefusedError& e) {
            return "ConnectionRefusedError " + std::string(e.what());
        } catch (const asyncio::ConnectionResetError& e) {
            return "ConnectionResetError " + std::string(e.what());
        } catch (const asyncio::BrokenPipeError& e) {
            return "BrokenPipeError " + std::string(e.what());
        } catch (const asyncio::TimeoutError& e) {
            return "TimeoutError " + std::to_string(e.errno_value());
        } catch (const asyncio::OSError& e) {
            return "OSError " + std::string(e.what());
        }
        return "none";
    };
    EXPECT_EQ(text(ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)"), "ConnectionRefusedError [Errno 111] Connect call failed ('127.0.0.1', 1)");
    EXPECT_EQ(text(ECONNRESET, ""), "ConnectionResetError [Errno 104] Connection reset by peer");
    EXPECT_EQ(text(EPIPE, ""), "BrokenPipeError [Errno 32] Broken pipe");
    EXPECT_EQ(text(ETIMEDOUT, ""), "TimeoutError 110");
    EXPECT_EQ(text(EADDRINUSE, ""), "OSError [Errno 98] Address already in use");
    // The hierarchy is CPython's.
    EXPECT_THROW(asyncio::throw_os_error(ECONNRESET), asyncio::ConnectionError);
    EXPECT_THROW(asyncio::throw_os_error(ETIMEDOUT), asyncio::OSError);
    EXPECT_THROW(throw asyncio::TimeoutError(), std::runtime_error);
    EXPECT_STREQ(asyncio::OSError("plain").what(), "plain");
}

// test_sock_client_ops: connect, sendall, recv and recv_into against a server of our own.
ASYNCIO_TEST(SockOps, ClientOps) {
    auto& loop = asyncio::get_running_loop();
    Socket server = listener_socket();
    SocketAddress addr = server.getsockname();
    auto serve = [&]() -> Coro<void> {
        auto [conn, peer] = co_await loop.sock_accept(server);
        EXPECT_EQ(peer.host(), "127.0.0.1");
        std::string got;
        while (got.size() < 8) {
            std::string part = co_await loop.sock_recv(conn, 64);
            if (part.empty()) break;
            got += part;
        }
        EXPECT_EQ(got, "GET / 1\n");
        co_await loop.sock_sendall(conn, "HTTP/1.0 200 OK\r\n");
    };
    auto server_task = asyncio::create_task(serve());
    Socket client(AF_INET, SOCK_STREAM);
    co_await loop.sock_connect(client, addr);
    EXPECT_EQ(client.getpeername(), addr);
    co_await loop.sock_sendall(client, "GET / 1\n");
    std::string first = co_await loop.sock_recv(client, 4);
    EXPECT_EQ(first, "HTTP");
    std::byte buf[64];
    std::size_t n = co_await loop.sock_recv_into(client, buf);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf), n), "/1.0 200 OK\r\n");
    co_await server_task;
    EXPECT_EQ(co_await loop.sock_recv(client, 64), "");  // the server's socket closed: EOF
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_unix_sock_client_ops
ASYNCIO_TEST(SockOps, UnixClientOps) {
    auto& loop = asyncio::get_running_loop();
    UnixPath path;
    Socket server(AF_UNIX, SOCK_STREAM);
    server.bind(SocketAddress::unix_path(path.path));
    server.listen();
    auto serve = [&]() -> Coro<void> {
        auto [conn, peer] = co_await loop.sock_accept(server);
        std::string got = co_await loop.sock_recv(conn, 64);
        co_await loop.sock_sendall(conn, "echo:" + got);
    };
    auto server_task = asyncio::create_task(serve());
    Socket client(AF_UNIX, SOCK_STREAM);
    co_await loop.sock_connect(client, SocketAddress::unix_path(path.path));
    co_await loop.sock_sendall(client, "hi");
    EXPECT_EQ(co_await loop.sock_recv(client, 64), "echo:hi");
    co_await server_task;
}

// test_sock_client_fail: nothing listens there.
ASYNCIO_TEST(SockOps, ConnectToAClosedPortIsRefused) {
    auto& loop = asyncio::get_running_loop();
    SocketAddress addr;
    {
        Socket probe = listener_socket();
        addr = probe.getsockname();
    }  // closed: the port is free and refuses
    Socket client(AF_INET, SOCK_STREAM);
    std::string what = co_await error_of<asyncio::ConnectionRefusedError>(loop.sock_connect(client, addr));
    EXPECT_EQ(what, "[Errno 111] Connect call failed " + addr.str());  // (after EINPROGRESS, as on loopback)
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_sock_accept
ASYNCIO_TEST(SockOps, AcceptGivesANonBlockingConnectedSocket) {
    auto& loop = asyncio::get_running_loop();
    Socket server = listener_socket(AF_INET6);
    Socket client(AF_INET6, SOCK_STREAM);
    auto accepting = asyncio::create_task(loop.sock_accept(server));
    co_await asyncio::sleep(0);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 1u);  // waits for a connection
    co_await loop.sock_connect(client, server.getsockname());
    auto [conn, peer] = co_await accepting;
    EXPECT_FALSE(conn.getblocking());
    EXPECT_EQ(conn.family(), AF_INET6);
    EXPECT_EQ(peer, client.getsockname());
    EXPECT_EQ(conn.getpeername(), client.getsockname());
}

// test_cancel_sock_accept: cancelling leaves no interest behind, and the socket is usable.
ASYNCIO_TEST(SockOps, CancelledAcceptLeavesNoInterest) {
    auto& loop = asyncio::get_running_loop();
    Socket server = listener_socket();
    auto accepting = asyncio::create_task(loop.sock_accept(server));
    co_await asyncio::sleep(0);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 1u);
    accepting.cancel();
    co_await asyncio::sleep(0);
    EXPECT_TRUE(accepting.cancelled());
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
    // A later accept works: nothing was left half-registered.
    Socket client(AF_INET, SOCK_STREAM);
    co_await loop.sock_connect(client, server.getsockname());
    auto [conn, peer] = co_await loop.sock_accept(server);
    EXPECT_GE(conn.fileno(), 0);
}

ASYNCIO_TEST(SockOps, CancelledRecvLeavesNoInterestAndLosesNoBytes) {
    auto& loop = asyncio::get_running_loop();
    auto [a, b] = asyncio::socketpair();
    auto receiving = asyncio::create_task(loop.sock_recv(a, 100));
    co_await asyncio::sleep(0);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 1u);
    receiving.cancel();
    co_await asyncio::sleep(0);
    EXPECT_TRUE(receiving.cancelled());
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
    co_await loop.sock_sendall(b, "kept");
    EXPECT_EQ(co_await loop.sock_recv(a, 100), "kept");
}

// test_cancel_sock_connect (a connection that never completes: a full backlog is not
// portable, so the connect is to a listener whose backlog holds it; the cancel must leave
// no interest whether or not the connection was still in progress).
ASYNCIO_TEST(SockOps, CancelledConnectLeavesNoInterest) {
    auto& loop = asyncio::get_running_loop();
    Socket server = listener_socket();
    Socket client(AF_INET, SOCK_STREAM);
    auto connecting = asyncio::create_task(loop.sock_connect(client, server.getsockname()));
    connecting.cancel();
    co_await asyncio::sleep(0);
    EXPECT_TRUE(connecting.cancelled());
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_huge_content: more than the kernel buffers hold, so sendall waits for room many
// times; every byte arrives in order.
ASYNCIO_TEST(SockOps, HugeContentArrivesByteExact) {
    auto& loop = asyncio::get_running_loop();
    auto sockets = asyncio::socketpair();  // (clang 14 cannot capture structured bindings)
    Socket& a = sockets.first;
    Socket& b = sockets.second;
    const std::string data = pattern(8 << 20);
    auto sender = asyncio::create_task([&]() -> Coro<void> {
        co_await loop.sock_sendall(a, data);
        a.shutdown(SHUT_WR);
    });
    std::string got;
    for (;;) {
        std::string part = co_await loop.sock_recv(b, std::size_t{256} * 1024);
        if (part.empty()) break;
        got += part;
    }
    co_await sender;
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
}

// test_huge_content_recvinto
ASYNCIO_TEST(SockOps, HugeContentIntoABuffer) {
    auto& loop = asyncio::get_running_loop();
    auto sockets = asyncio::socketpair();  // (clang 14 cannot capture structured bindings)
    Socket& a = sockets.first;
    Socket& b = sockets.second;
    const std::string data = pattern(4 << 20);
    auto sender = asyncio::create_task([&]() -> Coro<void> {
        co_await loop.sock_sendall(a, data);
        a.close();
    });
    std::string got;
    std::string buf(65536, '\0');
    for (;;) {
        std::size_t n = co_await loop.sock_recv_into(b, std::as_writable_bytes(std::span(buf)));
        if (n == 0) break;
        got.append(buf, 0, n);
    }
    co_await sender;
    EXPECT_TRUE(got == data);
}

// test_recvfrom / test_recvfrom_into / sendto (3.11), UDP on 127.0.0.1.
ASYNCIO_TEST(SockOps, DatagramsWithTheirSender) {
    auto& loop = asyncio::get_running_loop();
    Socket server(AF_INET, SOCK_DGRAM);
    server.bind(SocketAddress::inet("127.0.0.1", 0));
    Socket client(AF_INET, SOCK_DGRAM);
    client.bind(SocketAddress::inet("127.0.0.1", 0));
    auto receiving = asyncio::create_task(loop.sock_recvfrom(server, 4096));
    co_await asyncio::sleep(0);
    EXPECT_EQ(co_await loop.sock_sendto(client, "ping", server.getsockname()), 4u);
    auto [data, from] = co_await receiving;
    EXPECT_EQ(data, "ping");
    EXPECT_EQ(from, client.getsockname());
    co_await loop.sock_sendto(server, "pong!", from);
    std::byte buf[16];
    auto [n, who] = co_await loop.sock_recvfrom_into(client, buf, 4);
    EXPECT_EQ(n, 4u);  // the datagram is cut to the 4 bytes asked for
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf), n), "pong");
    EXPECT_EQ(who, server.getsockname());
}

ASYNCIO_TEST(SockOps, TwoReadersOfOneSocketAreRefused) {
    auto& loop = asyncio::get_running_loop();
    auto [a, b] = asyncio::socketpair();
    auto first = asyncio::create_task(loop.sock_recv(a, 10));
    co_await asyncio::sleep(0);
    std::string what = co_await error_of<asyncio::RuntimeError>(loop.sock_recv(a, 10));
    EXPECT_EQ(what, "another coroutine is already waiting to read from file descriptor " + std::to_string(a.fileno()));
    // A writer in the other direction is fine, and the first reader still gets its bytes.
    co_await loop.sock_sendall(b, "x");
    EXPECT_EQ(co_await first, "x");
}

ASYNCIO_TEST(SockOps, ABlockingSocketIsRefused) {
    auto& loop = asyncio::get_running_loop();
    auto [a, b] = asyncio::socketpair();
    a.setblocking(true);
    EXPECT_THROW((void)loop.sock_recv(a, 1), asyncio::ValueError);
    co_return;
}

ASYNCIO_TEST(SockOps, BrokenPipeIsAnErrorNotASignal) {
    auto& loop = asyncio::get_running_loop();
    auto [a, b] = asyncio::socketpair();
    b.close();
    std::string what = co_await error_of<asyncio::BrokenPipeError>(loop.sock_sendall(a, "data"));
    EXPECT_EQ(what, "[Errno 32] Broken pipe");
}

ASYNCIO_TEST(SockOps, AClosedSocketIsBadFileDescriptor) {
    auto& loop = asyncio::get_running_loop();
    Socket s(AF_INET, SOCK_STREAM);
    s.close();
    std::string what = co_await error_of<asyncio::OSError>(loop.sock_recv(s, 1));
    EXPECT_EQ(what, "[Errno 9] Bad file descriptor");
}

// A frame destroyed while it waits (the loop closes with the task pending) unregisters.
TEST(SockOps, ATaskDestroyedWhileWaitingUnregisters) {
    auto loop = asyncio::testing::new_event_loop();
    auto sockets = asyncio::socketpair();  // (clang 14 cannot capture structured bindings)
    Socket& a = sockets.first;
    auto t = loop->create_task([&]() -> Coro<void> { (void)co_await loop->sock_recv(a, 1); });
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 1u);
    loop->close();
    EXPECT_EQ(asyncio::testing::registered_fds(*loop), 0u);
}

// loop.getaddrinfo: numeric hosts at once, names on the default executor.
ASYNCIO_TEST(Resolve, NumericHostsNeedNoThread) {
    auto& loop = asyncio::get_running_loop();
    auto infos = co_await loop.getaddrinfo("127.0.0.1", 80, AF_UNSPEC, SOCK_STREAM);
    EXPECT_EQ(infos.size(), 1u);
    if (!infos.empty()) {
        EXPECT_EQ(infos[0].family, AF_INET);
        EXPECT_EQ(infos[0].type, SOCK_STREAM);
        EXPECT_EQ(infos[0].address, SocketAddress::inet("127.0.0.1", 80));
    }
    auto v6 = co_await loop.getaddrinfo("::1", "8080", AF_UNSPEC, SOCK_STREAM);
    EXPECT_EQ(v6.size(), 1u);
    if (!v6.empty()) {
        EXPECT_EQ(v6[0].address.str(), "('::1', 8080, 0, 0)");
    }
    EXPECT_FALSE(asyncio::detail::LoopAccess::default_executor(loop));  // no thread was needed
}

ASYNCIO_TEST(Resolve, NamesGoToTheDefaultExecutor) {
    auto& loop = asyncio::get_running_loop();
    auto infos = co_await loop.getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM);
    EXPECT_FALSE(infos.empty());
    for (const auto& ai : infos) EXPECT_EQ(ai.address.host(), "127.0.0.1");
    EXPECT_TRUE(asyncio::detail::LoopAccess::default_executor(loop));
}

// A name where only numbers are allowed fails at once, with no lookup (the tests ask no DNS).
ASYNCIO_TEST(Resolve, ANameWhereNumbersAreAskedForIsAGaiError) {
    auto& loop = asyncio::get_running_loop();
    int code = 0;
    std::string what;
    try {
        (void)co_await loop.getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM, 0, AI_NUMERICHOST);
    } catch (const asyncio::GaiError& e) {
        code = e.errno_value();
        what = e.what();
    }
    EXPECT_EQ(code, EAI_NONAME);
    EXPECT_EQ(what, "[Errno " + std::to_string(EAI_NONAME) + "] Name or service not known");
    EXPECT_FALSE(asyncio::detail::LoopAccess::default_executor(loop));
}

ASYNCIO_TEST(Resolve, GetnameinfoNumeric) {
    auto& loop = asyncio::get_running_loop();
    auto [host, port] = co_await loop.getnameinfo(SocketAddress::inet("127.0.0.1", 8080), NI_NUMERICHOST | NI_NUMERICSERV);
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(port, "8080");
}

// test_sock_client_racing (recv): a cancelled sock_recv leaves nothing that would take the
// next reply from the sock_recv that follows.
ASYNCIO_TEST(SockOps, ClientRacingRecv) {
    auto& loop = asyncio::get_running_loop();
    auto pair = asyncio::socketpair();
    Socket& sock = pair.first;
    Socket& httpd = pair.second;
    auto first = asyncio::create_task(loop.sock_recv(sock, 1024));
    co_await asyncio::sleep(0);
    first.cancel();
    auto server = asyncio::create_task([&]() -> Coro<void> {
        std::string request = co_await loop.sock_recv(httpd, 1024);
        EXPECT_EQ(request, "GET / HTTP/1.0\r\n\r\n");
        co_await loop.sock_sendall(httpd, "HTTP/1.0 200 OK\r\n\r\n");
    });
    auto send = asyncio::create_task(loop.sock_sendall(sock, "GET / HTTP/1.0\r\n\r\n"));
    std::string data = co_await loop.sock_recv(sock, 1024);
    EXPECT_EQ(data.rfind("HTTP/1.0 200 OK", 0), 0u);
    co_await send;
    co_await server;
    EXPECT_TRUE(first.cancelled());
}

// test_sock_client_racing (send): a sock_sendall cancelled while the kernel's buffer is full
// sends nothing; the next one's bytes arrive alone.
ASYNCIO_TEST(SockOps, ClientRacingSend) {
    auto& loop = asyncio::get_running_loop();
    Socket listener = listener_socket();
    Socket sock(AF_INET, SOCK_STREAM);
    sock.setsockopt(SOL_SOCKET, SO_SNDBUF, 1024);
    co_await loop.sock_connect(sock, listener.getsockname());
    auto accepted = co_await loop.sock_accept(listener);  // (clang 14 cannot capture structured bindings)
    Socket& server = accepted.first;
    // Fill the buffer until even 4 bytes would block.
    for (std::size_t size = 8192; size >= 4; size /= 2) {
        const std::string spaces(size, ' ');
        while (::send(sock.fileno(), spaces.data(), spaces.size(), MSG_NOSIGNAL) > 0) {
        }
    }
    auto blocked = asyncio::create_task(loop.sock_sendall(sock, "hello"));
    co_await asyncio::sleep(0);
    blocked.cancel();
    co_await asyncio::sleep(0);
    EXPECT_TRUE(blocked.cancelled());
    auto receive_all = asyncio::create_task([&]() -> Coro<std::string> {
        std::string rv;
        for (;;) {
            std::string buf = co_await loop.sock_recv(server, 8192);
            if (buf.empty()) co_return rv;
            for (char c : buf)
                if (c != ' ') rv += c;
        }
    });
    co_await loop.sock_sendall(sock, "world");
    sock.shutdown(SHUT_WR);
    EXPECT_EQ(co_await receive_all, "world");
}

// test_sock_client_connect_racing: a connect cancelled before the listener listens; the
// socket connects on a later try (Linux lets the second one through).
ASYNCIO_TEST(SockOps, ClientConnectRacing) {
    auto& loop = asyncio::get_running_loop();
    Socket listener(AF_INET, SOCK_STREAM);
    listener.bind(SocketAddress::inet("127.0.0.1", 0));
    const SocketAddress addr = listener.getsockname();
    Socket sock(AF_INET, SOCK_STREAM);
    auto task = asyncio::create_task(loop.sock_connect(sock, addr));
    co_await asyncio::sleep(0);
    task.cancel();
    co_await asyncio::sleep(0);
    listener.listen(1);
    bool connected = false;
    for (int i = 0; i < 128 && !connected; ++i) {
        try {
            co_await loop.sock_connect(sock, addr);
            connected = true;
        } catch (const asyncio::OSError&) {
        }
    }
    EXPECT_TRUE(connected);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_create_connection_sock: a transport over a socket connected by the caller.
ASYNCIO_TEST(SockOps, CreateConnectionOverTheCallersSocket) {
    auto& loop = asyncio::get_running_loop();
    Socket listener = listener_socket();
    Socket sock(AF_INET, SOCK_STREAM);
    co_await loop.sock_connect(sock, listener.getsockname());
    struct Greeted : asyncio::Protocol {
        std::string got;
        asyncio::Event done;
        void data_received(std::string_view d) override {
            got.append(d);
            done.set();
        }
    };
    auto [transport, protocol] = co_await loop.create_connection([] { return std::make_unique<Greeted>(); }, std::move(sock));
    auto [server, peer] = co_await loop.sock_accept(listener);
    co_await loop.sock_sendall(server, "welcome");
    co_await protocol->done.wait();
    EXPECT_EQ(protocol->got, "welcome");
    EXPECT_EQ(std::any_cast<SocketAddress>(transport->get_extra_info("peername")), listener.getsockname());
    transport->close();
}
