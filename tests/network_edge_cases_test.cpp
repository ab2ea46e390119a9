// Networking's edge cases found in review (transports, servers, create_connection): objects
// that outlive their loop, blocking sockets handed in, CPython's order of resume_writing and
// connection_lost, its local_addr error, KeyboardInterrupt through a protocol. Each case
// states what it expects.
#include "support/async_test.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

using asyncio::Coro;
using asyncio::Socket;
using asyncio::Transport;

namespace {

struct Quiet : asyncio::Protocol {};

int port_of(const std::shared_ptr<asyncio::Server>& server) { return server->sockets().at(0)->getsockname().port(); }

}  // namespace

// A transport whose connection_lost ran before loop.close() has let go of the loop: it may
// be destroyed after the loop is gone (ASan: nothing touches the freed loop).
TEST(NetworkEdgeCases, ALostTransportOutlivesItsLoop) {
    std::shared_ptr<Transport> keep;
    {
        auto loop = asyncio::testing::new_event_loop();
        auto sockets = asyncio::socketpair();
        Socket& mine = sockets.first;
        loop->run_until_complete([&]() -> Coro<void> {
            auto pair = co_await loop->connect_accepted_socket([] { return Quiet(); }, std::move(mine));
            keep = pair.first;
            keep->close();
            for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
        }());
        loop->close();
    }
    keep.reset();  // ASan: heap-use-after-free if the bug is there
    SUCCEED();
}

// A closed server (no fd watched at loop.close()) is told of the close all the same (its
// listeners are close hooks), so it may be destroyed after its loop.
TEST(NetworkEdgeCases, AClosedServerOutlivesItsLoop) {
    std::shared_ptr<asyncio::Server> keep;
    {
        auto loop = asyncio::testing::new_event_loop();
        loop->run_until_complete([&]() -> Coro<void> {
            keep = co_await loop->create_server([] { return Quiet(); }, "127.0.0.1", 0);
            keep->close();
            co_await keep->wait_closed();
        }());
        loop->close();
    }
    keep.reset();
    SUCCEED();
}

// The same with a server that never started serving.
TEST(NetworkEdgeCases, AServerNeverStartedOutlivesItsLoop) {
    std::shared_ptr<asyncio::Server> keep;
    {
        auto loop = asyncio::testing::new_event_loop();
        loop->run_until_complete([&]() -> Coro<void> {
            keep = co_await loop->create_server([] { return Quiet(); }, "127.0.0.1", 0, {.start_serving = false});
        }());
        loop->close();
    }
    keep.reset();
    SUCCEED();
}

// loop.close() tells the watchers in fd order. A server held only by its connection, whose
// fd is lower than the listening socket's, must not be destroyed while they are told: what
// io_loop_closed releases is dropped after every watcher was told.
TEST(NetworkEdgeCases, LoopCloseWithAServerHeldOnlyByALowerFdConnection) {
    auto loop = asyncio::testing::new_event_loop();
    int hole = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(hole, 0);
    Socket client(AF_INET, SOCK_STREAM);
    loop->run_until_complete([&]() -> Coro<void> {
        auto server = co_await loop->create_server([] { return Quiet(); }, "127.0.0.1", 0);
        const int listen_fd = server->sockets().at(0)->fileno();
        const int port = port_of(server);
        ::close(hole);  // the accepted connection takes this lower fd
        co_await loop->sock_connect(client, asyncio::SocketAddress::inet("127.0.0.1", static_cast<std::uint16_t>(port)));
        for (int i = 0; i < 5; ++i) co_await asyncio::sleep(0);
        EXPECT_EQ(server->active_connections(), 1u);
        EXPECT_LT(hole, listen_fd);
        server.reset();  // the connection holds it now
    }());
    loop->close();  // ASan: heap-use-after-free in ServerListener::io_loop_closed
    SUCCEED();
}

// transports.md: "loop.close() tells every watcher: transports and servers close their
// sockets": the listening socket too.
TEST(NetworkEdgeCases, LoopCloseClosesTheServersListeningSocket) {
    auto loop = asyncio::testing::new_event_loop();
    std::shared_ptr<asyncio::Server> keep;
    int fd = -1;
    loop->run_until_complete([&]() -> Coro<void> {
        keep = co_await loop->create_server([] { return Quiet(); }, "127.0.0.1", 0);
        fd = keep->sockets().at(0)->fileno();
    }());
    loop->close();
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "the listening socket is still open after loop.close()";
    keep.reset();
}

// create_server(sock=) with a blocking socket: made non-blocking, as CPython's
// sock.setblocking(False), so that the accept step's accept4 ends with EAGAIN.
TEST(NetworkEdgeCases, CreateServerWithABlockingSocketDoesNotHang) {
    EXPECT_EXIT(
        {
            ::alarm(3);
            auto loop = asyncio::testing::new_event_loop();
            Socket s(AF_INET, SOCK_STREAM);
            s.bind(asyncio::SocketAddress::inet("127.0.0.1", 0));
            s.setblocking(true);
            Socket client(AF_INET, SOCK_STREAM);
            loop->run_until_complete([&]() -> Coro<void> {
                std::shared_ptr<asyncio::Server> server;
                try {
                    server = co_await loop->create_server([] { return Quiet(); }, std::move(s), {});
                } catch (const asyncio::ValueError&) {  // refusing it would be fine too
                    std::_Exit(0);
                }
                co_await loop->sock_connect(client, asyncio::SocketAddress::inet("127.0.0.1", static_cast<std::uint16_t>(port_of(server))));
                for (int i = 0; i < 5; ++i) co_await asyncio::sleep(0);
                server->close();
            }());
            std::_Exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

// connect_accepted_socket with a blocking socket: made non-blocking, so that a large write
// does not block the loop in send().
TEST(NetworkEdgeCases, ATransportOverABlockingSocketDoesNotBlockTheLoop) {
    EXPECT_EXIT(
        {
            ::alarm(3);
            auto loop = asyncio::testing::new_event_loop();
            auto sockets = asyncio::socketpair();
            sockets.first.setblocking(true);
            Socket& mine = sockets.first;
            loop->run_until_complete([&]() -> Coro<void> {
                std::shared_ptr<Transport> t;
                try {
                    auto pair = co_await loop->connect_accepted_socket([] { return Quiet(); }, std::move(mine));
                    t = pair.first;
                } catch (const asyncio::ValueError&) {
                    std::_Exit(0);
                }
                std::string big(std::size_t{8} << 20, 'x');
                t->write(big);  // the peer never reads
                t->abort();
            }());
            std::_Exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

// local_addr that cannot be bound: the bind error itself, as CPython ("error while
// attempting to bind on address ...: address already in use"), once.
ASYNCIO_TEST(NetworkEdgeCases, AFailedLocalBindIsTheBindError) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Quiet(); }, "127.0.0.1", 0, {.reuse_address = false});
    const int port = port_of(server);
    std::string what;
    int err = 0;
    try {
        asyncio::ConnectionOptions o;
        o.local_addr = std::pair<std::string, int>("127.0.0.1", port);  // in use by the server
        (void)co_await loop.create_connection([] { return Quiet(); }, "127.0.0.1", port, o);
    } catch (const asyncio::OSError& e) {
        what = e.what();
        err = e.errno_value();
    }
    EXPECT_EQ(err, EADDRINUSE) << what;
    EXPECT_EQ(what, "[Errno 98] error while attempting to bind on address ('127.0.0.1', " + std::to_string(port) + "): address already in use");
    server->close();
}

// CPython's _write_ready calls _maybe_resume_protocol() before _call_connection_lost(): a
// protocol paused when close() was called hears resume_writing() once the buffer drains.
ASYNCIO_TEST(NetworkEdgeCases, ResumeWritingBeforeConnectionLostAfterClose) {
    auto& loop = asyncio::get_running_loop();
    struct P : asyncio::Protocol {
        std::string events;
        asyncio::Event lost;
        void pause_writing() override { events += "pause "; }
        void resume_writing() override { events += "resume "; }
        void connection_lost(std::exception_ptr) override {
            events += "lost";
            lost.set();
        }
    };
    auto sockets = asyncio::socketpair();
    Socket& mine = sockets.first;
    Socket& peer = sockets.second;
    auto [t, p] = co_await loop.connect_accepted_socket([] { return std::make_unique<P>(); }, std::move(mine));
    t->write(std::string(std::size_t{4} << 20, 'x'));  // more than the kernel takes
    t->close();
    std::string sink(std::size_t{1} << 20, '\0');
    for (int i = 0; i < 1000 && !p->lost.is_set(); ++i) {
        while (::recv(peer.fileno(), sink.data(), sink.size(), 0) > 0) {
        }
        co_await asyncio::sleep(0);
    }
    EXPECT_EQ(p->events, "pause resume lost");
}

// CPython re-raises KeyboardInterrupt and SystemExit from protocol callbacks (they leave
// run_forever): so does data_received's KeyboardInterrupt here.
TEST(NetworkEdgeCases, KeyboardInterruptFromDataReceivedLeavesTheLoop) {
    auto loop = asyncio::testing::new_event_loop();
    struct P : asyncio::Protocol {
        void data_received(std::string_view) override { throw asyncio::KeyboardInterrupt(); }
    };
    auto sockets = asyncio::socketpair();
    Socket& mine = sockets.first;
    Socket& peer = sockets.second;
    bool interrupted = false;
    try {
        loop->run_until_complete([&]() -> Coro<void> {
            auto pair = co_await loop->connect_accepted_socket([] { return P(); }, std::move(mine));
            (void)pair;
            (void)::send(peer.fileno(), "x", 1, 0);
            for (int i = 0; i < 10; ++i) co_await asyncio::sleep(0);
        }());
    } catch (const asyncio::KeyboardInterrupt&) {
        interrupted = true;
    }
    EXPECT_TRUE(interrupted);
    loop->close();
}
