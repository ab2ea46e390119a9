// Server (asyncio/server.hpp) through loop.create_server and create_unix_server, on
// 127.0.0.1, ::1 and Unix sockets of the tests' own making: CPython's test_server.py
// behaviours (wait_closed in both orders, close_clients, abort_clients, unix server
// cleanup), serve_forever, many connections, EMFILE on accept, bind errors.
#include "support/async_test.hpp"
#include "support/greeted_clients.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

using asyncio::Coro;
using asyncio::Socket;
using asyncio::Transport;

namespace {

struct Quiet : asyncio::Protocol {};

// The client side: records its end.
struct Client : asyncio::Protocol {
    asyncio::Event lost;
    std::exception_ptr error;
    std::string received;
    void data_received(std::string_view d) override { received.append(d); }
    void connection_lost(std::exception_ptr exc) override {
        error = exc;
        lost.set();
    }
};

int port_of(const std::shared_ptr<asyncio::Server>& server) { return server->sockets().at(0)->getsockname().port(); }

using asyncio_test::open_fds;
using asyncio_test::open_fd_list;

std::string temp_socket_path() {
    char tmpl[] = "/tmp/asyncio-srv-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    return d ? std::string(d) + "/sock" : std::string();
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

// test_wait_closed_basic: wait_closed() returns only once the server is closed and its
// last connection is gone (3.12.1), whichever comes first.
ASYNCIO_TEST(Server, WaitClosedWaitsForCloseAndTheLastConnection) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0);
    auto [transport, client] = co_await loop.create_connection([] { return std::make_unique<Client>(); }, "127.0.0.1", port_of(server));
    co_await asyncio::sleep(0);
    EXPECT_EQ(server->active_connections(), 1u);
    auto waiting = asyncio::create_task(server->wait_closed());  // before close()
    co_await asyncio::sleep(0);
    EXPECT_FALSE(waiting.done());
    server->close();
    EXPECT_FALSE(server->is_serving());
    EXPECT_TRUE(server->sockets().empty());
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    EXPECT_FALSE(waiting.done());  // a connection is still open
    transport->close();
    co_await waiting;
    EXPECT_EQ(server->active_connections(), 0u);
    co_await server->wait_closed();  // and again, at once
}

// test_wait_closed_race / after close: called after close() with nothing open, at once.
ASYNCIO_TEST(Server, WaitClosedAfterCloseWithNoConnectionsReturnsAtOnce) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0);
    server->close();
    auto waiting = asyncio::create_task(server->wait_closed());
    co_await asyncio::sleep(0);
    EXPECT_TRUE(waiting.done());
}

// test_close_clients / test_abort_clients (3.13)
ASYNCIO_TEST(Server, CloseClientsAndAbortClients) {
    auto& loop = asyncio::get_running_loop();
    for (bool abort : {false, true}) {
        struct Talker : asyncio::Protocol {
            void connection_made(Transport& t) override { t.write("bye"); }
        };
        auto server = co_await loop.create_server([] { return Talker(); }, "127.0.0.1", 0);
        auto [t1, c1] = co_await loop.create_connection([] { return std::make_unique<Client>(); }, "127.0.0.1", port_of(server));
        auto [t2, c2] = co_await loop.create_connection([] { return std::make_unique<Client>(); }, "127.0.0.1", port_of(server));
        co_await asyncio::sleep(0);
        EXPECT_EQ(server->active_connections(), 2u);
        server->close();
        if (abort)
            server->abort_clients();
        else
            server->close_clients();
        co_await server->wait_closed();
        co_await c1->lost.wait();
        co_await c2->lost.wait();
        // close() sent the buffered "bye" first; abort() may have dropped it.
        if (!abort) {
            EXPECT_EQ(c1->received, "bye");
            EXPECT_EQ(c2->received, "bye");
        }
    }
}

// serve_forever: cancelling it closes the server and waits for it.
ASYNCIO_TEST(Server, CancellingServeForeverClosesTheServer) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0, {.start_serving = false});
    EXPECT_FALSE(server->is_serving());
    auto forever = asyncio::create_task(server->serve_forever());
    co_await asyncio::sleep(0);
    EXPECT_TRUE(server->is_serving());
    std::string second;
    try {
        co_await server->serve_forever();
    } catch (const asyncio::RuntimeError& e) {
        second = e.what();
    }
    EXPECT_EQ(second, "server is already being awaited on serve_forever()");
    forever.cancel();
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_TRUE(forever.cancelled());
    EXPECT_FALSE(server->is_serving());
    EXPECT_TRUE(server->sockets().empty());
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_unix_server_addr_cleanup / test_unix_server_sock_cleanup (3.13): close() removes the
// socket file; a stale file from an earlier server is replaced.
ASYNCIO_TEST(Server, AUnixServerRemovesItsSocketFile) {
    auto& loop = asyncio::get_running_loop();
    const std::string path = temp_socket_path();
    {
        Socket stale(AF_UNIX, SOCK_STREAM);  // a dead server's leftover file
        stale.bind(asyncio::SocketAddress::unix_path(path));
    }
    EXPECT_TRUE(exists(path));
    auto server = co_await loop.create_unix_server([] { return Quiet(); }, path);
    auto [t, c] = co_await loop.create_unix_connection([] { return std::make_unique<Client>(); }, path);
    for (int i = 0; i < 3 && server->active_connections() == 0; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(server->active_connections(), 1u);
    t->close();
    server->close();
    co_await server->wait_closed();
    EXPECT_FALSE(exists(path));
    ::rmdir(path.substr(0, path.size() - 5).c_str());
}

// create_server on a list of hosts binds them all.
ASYNCIO_TEST(Server, EveryHostOfAListIsBound) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> hosts;  // (a braced list inside co_await trips g++ 12)
    hosts.emplace_back("127.0.0.1");
    hosts.emplace_back("::1");
    auto server = co_await loop.create_server([] { return Quiet(); }, hosts, 0, {});
    auto sockets = server->sockets();
    EXPECT_EQ(sockets.size(), 2u);
    std::vector<int> families;
    for (const Socket* s : sockets) families.push_back(s->family());
    EXPECT_EQ(families, (std::vector<int>{AF_INET, AF_INET6}));
    server->close();
    co_await server->wait_closed();
}

// CPython's bind error text, of the errno's subclass.
ASYNCIO_TEST(Server, ABindErrorNamesTheAddress) {
    auto& loop = asyncio::get_running_loop();
    auto first = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0);
    const int port = port_of(first);
    std::string what;
    int err = 0;
    try {
        (void)co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", port, {.reuse_address = false});
    } catch (const asyncio::OSError& e) {
        what = e.what();
        err = e.errno_value();
    }
    EXPECT_EQ(err, EADDRINUSE);
    EXPECT_EQ(what, "[Errno 98] error while attempting to bind on address ('127.0.0.1', " + std::to_string(port) + "): address already in use");
    first->close();
}

ASYNCIO_TEST(Server, ConnectingWhereNothingListensIsRefused) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0);
    const int port = port_of(server);
    server->close();
    co_await server->wait_closed();
    bool refused = false;
    try {
        (void)co_await loop.create_connection([] { return std::make_unique<Client>(); }, "127.0.0.1", port);
    } catch (const asyncio::ConnectionRefusedError&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
}

// 10,000 concurrent connections in one server, served and closed: no fd and no task left.
// The clients are a child process (both ends in one process would need 20,000 fds).
ASYNCIO_TEST(Server, TenThousandConnectionsLeaveNoFdBehind) {
    auto& loop = asyncio::get_running_loop();
    constexpr int n = 10000;
    const auto limits = asyncio_test::raise_fd_limit(n + 200);
    if (!limits) {
        ADD_FAILURE() << "RLIMIT_NOFILE's hard limit is below the fds this test needs";
        co_return;
    }
    const rlimit old = limits->first;
    const rlimit raised = limits->second;
    const std::size_t fds_before = open_fds();
    struct Hello : asyncio::Protocol {
        void connection_made(Transport& t) override { t.write("hi"); }
    };
    auto server = co_await loop.create_server([] { return Hello(); }, "127.0.0.1", 0, {.backlog = 1000});
    const auto port = static_cast<std::uint16_t>(port_of(server));
    auto [control, child_end] = asyncio::socketpair();
    const pid_t pid = asyncio_test::fork_greeted_clients(port, n, raised, control.fileno(), child_end.fileno());
    child_end.close();
    std::string word = co_await loop.sock_recv(control, 1);  // every client was greeted
    EXPECT_EQ(word, "k");
    EXPECT_EQ(server->active_connections(), static_cast<std::size_t>(n));
    control.close();  // the child exits: every connection ends
    server->close();
    co_await server->wait_closed();
    int status = -1;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_EQ(server->active_connections(), 0u);
    server.reset();
    EXPECT_EQ(open_fds(), fds_before);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
    ::setrlimit(RLIMIT_NOFILE, &old);
}

// EMFILE on accept: the server reports it, backs off a second, then serves the waiting
// connections once fds are free again.
ASYNCIO_TEST(Server, EmfileOnAcceptIsSurvived) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> reports;
    std::vector<int> fillers;
    rlimit old{};
    ::getrlimit(RLIMIT_NOFILE, &old);
    // The report is made while no fd is free; the handler gives the fds back at once, so
    // that the back-off below is the server's own doing, not the lack of fds. (It also keeps
    // the window without fds short: UBSan's vptr check, on a miss of its type cache, probes
    // memory through a pipe, and reports a false "invalid vptr" when none can be opened.)
    loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
        reports.push_back(c.message);
        for (int fd : fillers) ::close(fd);
        fillers.clear();
        ::setrlimit(RLIMIT_NOFILE, &old);
    });
    auto server = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0);
    const int port = port_of(server);
    std::vector<Socket> raw;
    for (int i = 0; i < 3; ++i) {
        raw.emplace_back(AF_INET, SOCK_STREAM);
        co_await loop.sock_connect(raw.back(), asyncio::SocketAddress::inet("127.0.0.1", static_cast<std::uint16_t>(port)));
    }
    for (int i = 0; i < 3 && server->active_connections() < 3; ++i) co_await asyncio::sleep(0);
    const std::size_t served = server->active_connections();
    EXPECT_EQ(served, 3u);
    // The error type made while fds run out is met once before (src/server.cpp itself is
    // built without the vptr check, CMakeLists.txt).
    try {
        asyncio::throw_os_error(EMFILE);
    } catch (const asyncio::OSError&) {
    }
    // No fd left for accept: the limit just above the highest fd, every hole below filled.
    Socket late(AF_INET, SOCK_STREAM);  // made before the limit bites
    rlimit tight = old;
    tight.rlim_cur = static_cast<rlim_t>(::dup(0)) + 1;
    ::close(static_cast<int>(tight.rlim_cur - 1));
    ::setrlimit(RLIMIT_NOFILE, &tight);
    for (int fd; (fd = ::dup(0)) >= 0;) fillers.push_back(fd);
    EXPECT_FALSE(fillers.empty());
    co_await loop.sock_connect(late, asyncio::SocketAddress::inet("127.0.0.1", static_cast<std::uint16_t>(port)));
    for (int i = 0; i < 3 && reports.empty(); ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(reports, std::vector<std::string>{"socket.accept() out of system resource"});
    EXPECT_TRUE(fillers.empty());  // the handler gave them back
    // Fds are free again, yet the server waits out its back-off (CPython's 1 s) first.
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(server->active_connections(), served);
    co_await asyncio::sleep(0.9);  // virtual time
    EXPECT_EQ(server->active_connections(), served);
    co_await asyncio::sleep(0.2);
    for (int i = 0; i < 3 && server->active_connections() == served; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(server->active_connections(), served + 1);
    EXPECT_TRUE(server->is_serving());
    EXPECT_EQ(reports.size(), 1u);
    server->close();
    server->close_clients();
    co_await server->wait_closed();
}

// The last handle to a server dropped while its accept step is queued: the step keeps the
// server alive until it has run (ASan would catch a dangling step), then all is released.
ASYNCIO_TEST(Server, DroppingTheServerWithAnAcceptQueuedLeavesNothingDangling) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0);
    const auto address = server->sockets().at(0)->getsockname();
    std::weak_ptr<asyncio::Server> weak = server;
    Socket raw(AF_INET, SOCK_STREAM);
    // The connect completes in the iteration whose poll also reports the listener readable:
    // the task resumes with the accept step queued behind it.
    co_await loop.sock_connect(raw, address);
    server.reset();
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    raw.close();
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    EXPECT_TRUE(weak.expired());  // the accepted connection ended, and with it the server
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_unix_server_addr_cleanup is Server.AUnixServerRemovesItsSocketFile above; the other
// corner cases of CPython's UnixServerCleanupTests (3.13):
namespace {
struct UnixDir {
    std::string path = temp_socket_path();
    ~UnixDir() {
        ::unlink(path.c_str());
        ::rmdir(path.substr(0, path.size() - 5).c_str());
    }
};
}  // namespace

// test_unix_server_sock_cleanup: a socket bound by the caller is cleaned up as well.
ASYNCIO_TEST(Server, UnixServerSockCleanup) {
    auto& loop = asyncio::get_running_loop();
    UnixDir dir;
    Socket sock(AF_UNIX, SOCK_STREAM);
    sock.bind(asyncio::SocketAddress::unix_path(dir.path));
    auto server = co_await loop.create_unix_server([] { return Quiet(); }, std::move(sock), {});
    EXPECT_TRUE(exists(dir.path));
    server->close();
    EXPECT_FALSE(exists(dir.path));
}

// test_unix_server_cleanup_gone: someone else removed the file first; close() is fine.
ASYNCIO_TEST(Server, UnixServerCleanupGone) {
    auto& loop = asyncio::get_running_loop();
    UnixDir dir;
    auto server = co_await loop.create_unix_server([] { return Quiet(); }, dir.path);
    ::unlink(dir.path.c_str());
    server->close();
    EXPECT_FALSE(exists(dir.path));
}

// test_unix_server_cleanup_replaced: another socket took the path: it is left alone.
ASYNCIO_TEST(Server, UnixServerCleanupReplaced) {
    auto& loop = asyncio::get_running_loop();
    UnixDir dir;
    auto server = co_await loop.create_unix_server([] { return Quiet(); }, dir.path);
    ::unlink(dir.path.c_str());
    Socket other(AF_UNIX, SOCK_STREAM);
    other.bind(asyncio::SocketAddress::unix_path(dir.path));
    server->close();
    EXPECT_TRUE(exists(dir.path));
}

// test_unix_server_cleanup_prevented: cleanup_socket = false keeps the file.
ASYNCIO_TEST(Server, UnixServerCleanupPrevented) {
    auto& loop = asyncio::get_running_loop();
    UnixDir dir;
    auto server = co_await loop.create_unix_server([] { return Quiet(); }, dir.path, {.cleanup_socket = false});
    server->close();
    EXPECT_TRUE(exists(dir.path));
}

ASYNCIO_TEST(Server, AUnixServerNeedsAUnixStreamSocket) {
    auto& loop = asyncio::get_running_loop();
    bool refused = false;
    try {
        (void)co_await loop.create_unix_server([] { return Quiet(); }, Socket(AF_INET, SOCK_STREAM), {});
    } catch (const asyncio::ValueError&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
}

// A create_server that fails on its second address leaves nothing open: the first socket
// bound is closed with the unfinished server.
ASYNCIO_TEST(Server, AFailedBindClosesWhatWasBound) {
    auto& loop = asyncio::get_running_loop();
    auto taken = co_await loop.create_server([] { return Quiet(); }, "::1", 0);
    const int port = port_of(taken);
    const std::size_t fds = open_fds();
    const std::string before = open_fd_list();
    std::vector<std::string> hosts;
    hosts.emplace_back("127.0.0.1");
    hosts.emplace_back("::1");  // in use on this port
    int error = 0;
    std::string message = "(no error)";
    try {
        (void)co_await loop.create_server([] { return Quiet(); }, hosts, port, {.reuse_address = false});
    } catch (const asyncio::OSError& e) {
        error = e.errno_value();
        message = e.what();
    }
    EXPECT_EQ(error, EADDRINUSE) << message;
    EXPECT_EQ(open_fds(), fds) << "before:\n"
                               << before << "after:\n"
                               << open_fd_list();
    taken->close();
}

// Cancelling create_connection while it connects closes its socket.
ASYNCIO_TEST(Server, CancellingCreateConnectionLeavesNoFd) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0);
    const int port = port_of(server);
    const std::size_t fds = open_fds();
    auto connecting = asyncio::create_task(loop.create_connection([] { return std::make_unique<Client>(); }, "127.0.0.1", port));
    co_await asyncio::sleep(0);  // it has made its socket and waits for the connect
    EXPECT_GT(open_fds(), fds);
    connecting.cancel();
    for (int i = 0; i < 5; ++i) co_await asyncio::sleep(0);  // (an accepted side sees the end)
    EXPECT_TRUE(connecting.cancelled());
    EXPECT_EQ(open_fds(), fds);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 1u);  // the listener only
    server->close();
}

// create_connection(all_errors=True) (3.12): every address's error, in an ExceptionGroup.
ASYNCIO_TEST(Server, AllErrorsGivesTheExceptionGroup) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0);
    const int port = port_of(server);
    server->close();
    co_await server->wait_closed();
    std::size_t n = 0;
    std::string what;
    try {
        (void)co_await loop.create_connection([] { return std::make_unique<Client>(); }, "127.0.0.1", port, {.all_errors = true});
    } catch (const asyncio::ExceptionGroup& eg) {
        n = eg.exceptions().size();
        what = eg.what();
        EXPECT_TRUE(asyncio::ExceptionGroup::is_a<asyncio::ConnectionRefusedError>(eg.exceptions().at(0)));
    }
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(what, "create_connection failed (1 sub-exception)");
}
