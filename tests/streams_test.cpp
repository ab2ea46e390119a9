// Streams over real connections (asyncio/streams.hpp) on 127.0.0.1 and Unix sockets of the
// tests' own making: open_connection, start_server and their unix variants, drain and
// flow control, wait_closed, the client callback's errors. CPython's test_streams.py cases
// that need a connection, one per behaviour, the CPython name in the comment.
#include "support/async_test.hpp"
#include "support/greeted_clients.hpp"

#include <sys/resource.h>
#include <sys/wait.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using asyncio::Coro;
using asyncio::StreamReader;
using asyncio::StreamWriter;

namespace {

int port_of(const std::shared_ptr<asyncio::Server>& server) { return server->sockets().at(0)->getsockname().port(); }

std::string temp_socket_path() {
    char tmpl[] = "/tmp/asyncio-streams-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    return d ? std::string(d) + "/sock" : std::string();
}

// CPython's handle_client: a line in, the same line out, then close.
Coro<void> echo_line(StreamReader reader, StreamWriter writer) {
    std::string line = co_await reader.readline();
    writer.write(line);
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

}  // namespace

// test_open_connection, test_start_server (a coroutine callback): a line there and back,
// then both sides closed with nothing left behind.
ASYNCIO_TEST(Streams, OpenConnectionToAStreamServer) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await asyncio::start_server(echo_line, "127.0.0.1", 0);
    auto conn = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    StreamReader& reader = conn.first;
    StreamWriter& writer = conn.second;
    writer.write("hello world!\n");
    co_await writer.drain();
    EXPECT_EQ(co_await reader.readline(), "hello world!\n");
    EXPECT_EQ(co_await reader.read(), "");  // the server closed after its answer
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_start_server with handle_client_callback: a plain callback that starts the task
// itself; the reader and writer are moved into it.
ASYNCIO_TEST(Streams, APlainCallbackKeepsTheStreams) {
    std::vector<asyncio::Task<void>> handlers;
    auto server = co_await asyncio::start_server(
        [&handlers](StreamReader r, StreamWriter w) { handlers.push_back(asyncio::create_task(echo_line(std::move(r), std::move(w)))); }, "127.0.0.1", 0);
    auto conn = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    conn.second.write("plain\n");
    EXPECT_EQ(co_await conn.first.readline(), "plain\n");
    EXPECT_EQ(handlers.size(), 1u);
    co_await handlers.at(0);
    server->close();
    co_await server->wait_closed();
}

// test_open_unix_connection, test_start_unix_server
ASYNCIO_TEST(Streams, UnixStreams) {
    const std::string path = temp_socket_path();
    auto server = co_await asyncio::start_unix_server(echo_line, path);
    auto conn = co_await asyncio::open_unix_connection(path);
    conn.second.write("over unix\n");
    EXPECT_EQ(co_await conn.first.readline(), "over unix\n");
    server->close();
    co_await server->wait_closed();
    ::rmdir(path.substr(0, path.size() - 5).c_str());
}

// test_open_connection_error
ASYNCIO_TEST(Streams, OpenConnectionRefused) {
    asyncio::Socket probe(AF_INET, SOCK_STREAM);
    probe.bind(asyncio::SocketAddress::inet("127.0.0.1", 0));
    const int port = probe.getsockname().port();
    probe.close();
    EXPECT_THROW(co_await asyncio::open_connection("127.0.0.1", port), asyncio::ConnectionRefusedError);
}

// test_multiple_drain (gh-74116): ten tasks drain one paused writer; all of them return once
// the peer reads and writing resumes.
ASYNCIO_TEST(Streams, SeveralTasksDrainAtOnce) {
    asyncio::Event start_reading;
    std::size_t served = 0;
    auto server = co_await asyncio::start_server(
        [&](StreamReader r, StreamWriter w) -> Coro<void> {
            co_await start_reading.wait();
            served = (co_await r.read()).size();
            w.close();
        },
        "127.0.0.1", 0);
    auto conn = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    StreamWriter& writer = conn.second;
    const std::string chunk(1 << 20, 'x');
    std::size_t sent = 0;
    for (int i = 0; i < 64 && writer.transport().get_write_buffer_size() <= 65536; ++i) {
        writer.write(chunk);  // until the kernel's buffers are full and ours passes 64 KiB
        sent += chunk.size();
        co_await asyncio::sleep(0);
    }
    EXPECT_GT(writer.transport().get_write_buffer_size(), 65536u);
    int drained = 0;
    std::vector<asyncio::Task<void>> drainers;
    for (int i = 0; i < 10; ++i)
        drainers.push_back(asyncio::create_task([](StreamWriter& w, int& n) -> Coro<void> {
            co_await w.drain();
            ++n;
        }(writer, drained)));
    co_await asyncio::testing::run_until_idle();
    EXPECT_EQ(drained, 0);  // paused
    start_reading.set();
    for (auto& t : drainers) co_await t;
    EXPECT_EQ(drained, 10);
    writer.write_eof();
    co_await asyncio::sleep(0.1);
    for (int i = 0; i < 1000 && served == 0; ++i) co_await asyncio::sleep(0.01);
    EXPECT_EQ(served, sent);
    server->close();
    co_await server->wait_closed();
}

// test_drain_raises (bpo-25441): the peer closes at once; write() + drain() in a loop
// raises instead of spinning for ever.
ASYNCIO_TEST(Streams, DrainOnALostConnectionRaises) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> messages;
    loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { messages.push_back(c.message); });
    asyncio::Socket listener(AF_INET, SOCK_STREAM);
    listener.bind(asyncio::SocketAddress::inet("127.0.0.1", 0));
    listener.listen(1);
    auto closer = asyncio::create_task([](asyncio::Socket& l) -> Coro<void> {
        auto accepted = co_await asyncio::get_running_loop().sock_accept(l);
        accepted.first.close();
    }(listener));
    auto conn = co_await asyncio::open_connection("127.0.0.1", listener.getsockname().port());
    StreamWriter& writer = conn.second;
    co_await closer;
    bool raised = false;
    bool write_refused = false;
    for (int i = 0; i < 100000 && !raised; ++i) {
        try {
            writer.write("foo\n");
            co_await writer.drain();
        } catch (const asyncio::ConnectionError&) {
            raised = true;
        } catch (const asyncio::RuntimeError&) {
            raised = write_refused = true;  // the transport closed itself: write() says so first
        }
    }
    EXPECT_TRUE(raised);
    if (write_refused) {
        EXPECT_THROW(co_await writer.drain(), asyncio::ConnectionError);
    }
    EXPECT_EQ(messages, std::vector<std::string>{});
}

// test_wait_closed_on_close_with_unread_data; test_eof_feed_when_closing_writer (bpo-35065):
// close() with bytes still unread, then wait_closed(); the reader is at EOF afterwards.
ASYNCIO_TEST(Streams, WaitClosedWithUnreadData) {
    auto server = co_await asyncio::start_server(
        [](StreamReader r, StreamWriter w) -> Coro<void> {
            w.write("HTTP/1.0 200 OK\r\n\r\nTest message");
            co_await w.drain();
            (void)co_await r.read();  // until the client is gone
            w.close();
            co_await w.wait_closed();
        },
        "127.0.0.1", 0);
    auto conn = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    EXPECT_EQ(co_await conn.first.readline(), "HTTP/1.0 200 OK\r\n");
    EXPECT_FALSE(conn.second.is_closing());
    conn.second.close();
    EXPECT_TRUE(conn.second.is_closing());
    co_await conn.second.wait_closed();
    EXPECT_EQ(co_await conn.first.read(), "\r\nTest message");  // what had come stays readable
    EXPECT_TRUE(conn.first.at_eof());
    server->close();
    co_await server->wait_closed();
}

// test_async_writer_api_exception_after_close: after close(), a write raises (here at once:
// a RuntimeError, docs/differences.md) and drain() raises ConnectionResetError.
ASYNCIO_TEST(Streams, TheWriterAfterClose) {
    auto server = co_await asyncio::start_server(echo_line, "127.0.0.1", 0);
    auto conn = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    conn.second.close();
    EXPECT_THROW(conn.second.write("data"), asyncio::RuntimeError);
    EXPECT_THROW(co_await conn.second.drain(), asyncio::ConnectionResetError);
    server->close();
    co_await server->wait_closed();
}

// test_unhandled_exception: an error out of the callback is reported, its connection closed,
// and the server serves on.
ASYNCIO_TEST(Streams, AnErrorInTheCallbackIsReportedAndTheServerServesOn) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> messages;
    loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { messages.push_back(c.message); });
    int calls = 0;
    auto server = co_await asyncio::start_server(
        [&calls](StreamReader r, StreamWriter w) -> Coro<void> {
            if (++calls == 1) throw asyncio::ValueError("test");
            co_await echo_line(std::move(r), std::move(w));
        },
        "127.0.0.1", 0);
    auto first = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    EXPECT_EQ(co_await first.first.read(), "");  // closed by the server
    EXPECT_EQ(messages, std::vector<std::string>{"Unhandled exception in client_connected_cb"});
    auto second = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    second.second.write("still serving\n");
    EXPECT_EQ(co_await second.first.readline(), "still serving\n");
    server->close();
    co_await server->wait_closed();
}

// test_unhandled_cancel: a callback that cancels itself is not an error.
ASYNCIO_TEST(Streams, ACallbackThatCancelsItselfIsNoError) {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> messages;
    loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { messages.push_back(c.message); });
    auto server = co_await asyncio::start_server(
        [](StreamReader, StreamWriter w) -> Coro<void> {
            w.close();
            asyncio::current_task()->cancel();
            co_await asyncio::sleep(0);
        },
        "127.0.0.1", 0);
    auto conn = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    EXPECT_EQ(co_await conn.first.read(), "");
    co_await asyncio::sleep(0);
    EXPECT_EQ(messages, std::vector<std::string>{});
    server->close();
    co_await server->wait_closed();
}

// Dropping an open writer closes the connection (CPython's __del__).
ASYNCIO_TEST(Streams, ADroppedWriterClosesTheConnection) {
    auto server = co_await asyncio::start_server([](StreamReader, StreamWriter) {}, "127.0.0.1", 0);
    auto conn = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    EXPECT_EQ(co_await conn.first.read(), "");
    server->close();
    co_await server->wait_closed();
}

// A reader that is not read stops the transport above 2 × limit and holds no more than
// that; reading resumes it; every byte arrives in order.
ASYNCIO_TEST(Streams, AnUnreadReaderPausesTheTransport) {
    constexpr std::ptrdiff_t limit = 1024;
    asyncio::Event got_reader;
    std::optional<StreamReader> held;
    std::optional<StreamWriter> held_writer;
    auto server = co_await asyncio::start_server(
        [&](StreamReader r, StreamWriter w) {
            held.emplace(std::move(r));
            held_writer.emplace(std::move(w));
            got_reader.set();
        },
        "127.0.0.1", 0, {}, limit);
    auto conn = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    std::string sent;
    for (int i = 0; i < 100000; ++i) sent += std::to_string(i) + ",";
    conn.second.write(sent);
    conn.second.write_eof();
    co_await got_reader.wait();
    for (int i = 0; i < 20; ++i) co_await asyncio::sleep(0.01);
    EXPECT_LE(held->buffered(), static_cast<std::size_t>(2 * limit + 1));
    EXPECT_GT(held->buffered(), static_cast<std::size_t>(2 * limit));  // it did fill up
    std::string received = co_await held->read();
    EXPECT_EQ(received.size(), sent.size());
    EXPECT_TRUE(received == sent);
    held_writer->close();
    conn.second.close();
    server->close();
    co_await server->wait_closed();
}

// 10,000 concurrent stream connections in one server, each with its own task: served,
// closed, and after wait_closed no fd, no registration and no task is left.
ASYNCIO_TEST(Streams, TenThousandStreamConnectionsLeaveNothingBehind) {
    auto& loop = asyncio::get_running_loop();
    constexpr int n = asyncio_test::max_greeted_clients;
    const auto limits = asyncio_test::raise_fd_limit(n + 200);
    if (!limits) {
        ADD_FAILURE() << "RLIMIT_NOFILE's hard limit is below the fds this test needs";
        co_return;
    }
    const rlimit old = limits->first;
    const rlimit raised = limits->second;
    const std::size_t fds_before = asyncio_test::open_fds();
    int finished = 0;
    auto server = co_await asyncio::start_server(
        [&finished](StreamReader r, StreamWriter w) -> Coro<void> {
            w.write("hi");
            co_await w.drain();
            EXPECT_EQ(co_await r.read(), "");  // the client exits
            w.close();
            co_await w.wait_closed();
            ++finished;
        },
        "127.0.0.1", 0, {.backlog = 1000});
    const auto port = static_cast<std::uint16_t>(port_of(server));
    auto pair = asyncio::socketpair();
    asyncio::Socket& control = pair.first;
    const pid_t pid = asyncio_test::fork_greeted_clients(port, n, raised, control.fileno(), pair.second.fileno());
    pair.second.close();
    EXPECT_EQ(co_await loop.sock_recv(control, 1), "k");  // every client was greeted
    EXPECT_EQ(server->active_connections(), static_cast<std::size_t>(n));
    EXPECT_EQ(asyncio::all_tasks().size(), static_cast<std::size_t>(n) + 1);
    control.close();  // the child exits: every connection ends
    server->close();
    co_await server->wait_closed();
    co_await asyncio::testing::run_until_idle();
    int status = -1;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_EQ(finished, n);
    EXPECT_EQ(asyncio::all_tasks().size(), 1u);  // this test's own
    server.reset();
    EXPECT_EQ(asyncio_test::open_fds(), fds_before);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
    ::setrlimit(RLIMIT_NOFILE, &old);
}

// A 1 GiB line against readline: each readline raises ValueError once the limit is passed
// (dropping what it buffered, as CPython), the reader never holds more than 2 x limit + 1
// bytes, at most one short tail of the long line comes out as a line of its own (what was
// left of it after the last drop, as in CPython), then the next line whole.
ASYNCIO_TEST(Streams, AGibibyteLineAgainstReadline) {
    constexpr std::size_t total = std::size_t{1} << 30;
    constexpr auto limit = static_cast<std::size_t>(asyncio::stream_default_limit);
    std::size_t most_buffered = 0;
    std::size_t value_errors = 0;
    std::vector<std::size_t> tails;  // lengths of the lines before the next one
    bool tails_are_the_long_line = true;
    bool got_next_line = false;
    auto server = co_await asyncio::start_server(
        [&](StreamReader r, StreamWriter w) -> Coro<void> {
            for (;;) {
                try {
                    std::string line = co_await r.readline();
                    if (line == "the next line\n") {
                        got_next_line = true;
                        break;
                    }
                    if (line.empty()) break;
                    tails.push_back(line.size());
                    tails_are_the_long_line = tails_are_the_long_line && line.back() == '\n' && line.find_first_not_of('x') == line.size() - 1;
                } catch (const asyncio::ValueError&) {
                    ++value_errors;
                }
                most_buffered = std::max(most_buffered, r.buffered());
            }
            w.close();
        },
        "127.0.0.1", 0);
    auto conn = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    const std::string chunk(std::size_t{1} << 20, 'x');
    for (std::size_t sent = 0; sent < total; sent += chunk.size()) {
        conn.second.write(chunk);
        co_await conn.second.drain();
    }
    conn.second.write("\nthe next line\n");
    EXPECT_EQ(co_await conn.first.read(), "");  // the server closed after the short line
    EXPECT_TRUE(got_next_line);
    EXPECT_LE(tails.size(), 1u);
    if (!tails.empty()) {
        EXPECT_LE(tails.front(), limit + 1);
    }
    EXPECT_TRUE(tails_are_the_long_line);
    EXPECT_GT(value_errors, total / (2 * limit + 1));
    EXPECT_LE(most_buffered, 2 * limit + 1);
    server->close();
    co_await server->wait_closed();
}
