// The pipe transports and their stream wrappers (asyncio/pipes.hpp) on pipes of the tests'
// own making: CPython's test_events.py pipe cases (test_read_pipe, test_write_pipe,
// test_write_pipe_disconnect_on_close ...) and test_unix_events.py's UnixReadPipeTransport /
// UnixWritePipeTransport behaviours, one case each.
#include "support/async_test.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using asyncio::Coro;
using asyncio::Transport;

namespace {

std::pair<int, int> make_pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    return {fds[0], fds[1]};
}

struct Recorder : asyncio::Protocol {
    Transport* transport = nullptr;
    std::string received;
    std::vector<std::string> events;
    std::exception_ptr lost_with;
    asyncio::Event lost;
    asyncio::Event got_data;
    void connection_made(Transport& t) override {
        transport = &t;
        events.emplace_back("made");
    }
    void data_received(std::string_view data) override {
        received.append(data);
        got_data.set();
    }
    bool eof_received() override {
        events.emplace_back("eof");
        return true;  // ignored by a pipe: it closes anyway
    }
    void connection_lost(std::exception_ptr exc) override {
        events.emplace_back("lost");
        lost_with = exc;
        lost.set();
    }
    void pause_writing() override { events.emplace_back("pause"); }
    void resume_writing() override { events.emplace_back("resume"); }
};

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

}  // namespace

// test_events.py test_read_pipe: data, then the writer's close is eof_received and
// connection_lost(None), in that order; the transport closed the fd.
ASYNCIO_TEST(Pipes, ReadPipe) {
    auto& loop = asyncio::get_running_loop();
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_read_pipe([] { return std::make_unique<Recorder>(); }, rfd);
    EXPECT_EQ(proto->events, std::vector<std::string>{"made"});
    EXPECT_TRUE(transport->is_reading());
    EXPECT_FALSE(transport->can_write_eof());
    EXPECT_EQ(std::any_cast<int>(transport->get_extra_info("pipe")), rfd);
    EXPECT_FALSE(transport->get_extra_info("socket").has_value());
    EXPECT_EQ(::write(wfd, "1", 1), 1);
    co_await proto->got_data.wait();
    EXPECT_EQ(proto->received, "1");
    EXPECT_EQ(::write(wfd, "2345", 4), 4);
    ::close(wfd);
    co_await proto->lost.wait();
    EXPECT_EQ(proto->received, "12345");
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_FALSE(proto->lost_with);
    EXPECT_FALSE(fd_open(rfd));
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_unix_events.py test_ctor (ReadPipe): a regular file is refused with CPython's
// message, and its fd is closed (the transport owned it).
ASYNCIO_TEST(Pipes, RegularFileRefused) {
    auto& loop = asyncio::get_running_loop();
    int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    bool raised = false;
    try {
        co_await loop.connect_read_pipe([] { return std::make_unique<Recorder>(); }, fd);
    } catch (const asyncio::ValueError& e) {
        raised = true;
        EXPECT_STREQ(e.what(), "Pipe transport is for pipes/sockets only.");
    }
    EXPECT_TRUE(raised);
    EXPECT_FALSE(fd_open(fd));
    int wfd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    raised = false;
    try {
        co_await loop.connect_write_pipe([] { return std::make_unique<Recorder>(); }, wfd);
    } catch (const asyncio::ValueError& e) {
        raised = true;
        EXPECT_STREQ(e.what(), "Pipe transport is only for pipes, sockets and character devices");
    }
    EXPECT_TRUE(raised);
    EXPECT_FALSE(fd_open(wfd));
}

// A read pipe transport sets its fd non-blocking (CPython: os.set_blocking(fd, False)).
ASYNCIO_TEST(Pipes, MadeNonBlocking) {
    auto& loop = asyncio::get_running_loop();
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_read_pipe([] { return std::make_unique<Recorder>(); }, rfd);
    EXPECT_NE(::fcntl(rfd, F_GETFL) & O_NONBLOCK, 0);
    transport->close();
    co_await proto->lost.wait();
    ::close(wfd);
}

// test_unix_events.py test_pause_reading / test_resume_reading: nothing is read while
// paused; resuming delivers what waited.
ASYNCIO_TEST(Pipes, PauseAndResumeReading) {
    auto& loop = asyncio::get_running_loop();
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_read_pipe([] { return std::make_unique<Recorder>(); }, rfd);
    transport->pause_reading();
    EXPECT_FALSE(transport->is_reading());
    EXPECT_EQ(::write(wfd, "abc", 3), 3);
    for (int i = 0; i < 5; ++i) co_await asyncio::sleep(0);
    EXPECT_EQ(proto->received, "");
    transport->resume_reading();
    co_await proto->got_data.wait();
    EXPECT_EQ(proto->received, "abc");
    transport->close();
    co_await proto->lost.wait();
    ::close(wfd);
}

// test_unix_events.py test_close (ReadPipe): close() is connection_lost(None) in a later
// step, never inside the call; the fd is closed.
ASYNCIO_TEST(Pipes, ReadPipeClose) {
    auto& loop = asyncio::get_running_loop();
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_read_pipe([] { return std::make_unique<Recorder>(); }, rfd);
    transport->close();
    EXPECT_TRUE(transport->is_closing());
    EXPECT_EQ(proto->events, std::vector<std::string>{"made"});
    co_await proto->lost.wait();
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "lost"}));
    EXPECT_FALSE(fd_open(rfd));
    // A write on a read pipe is refused.
    bool raised = false;
    try {
        transport->write("x");
    } catch (const asyncio::RuntimeError&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    ::close(wfd);
}

// test_events.py test_write_pipe: bytes written reach the reader in order; close() sends
// what is buffered first, then connection_lost(None).
ASYNCIO_TEST(Pipes, WritePipe) {
    auto& loop = asyncio::get_running_loop();
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_write_pipe([] { return std::make_unique<Recorder>(); }, wfd);
    EXPECT_TRUE(transport->can_write_eof());
    EXPECT_FALSE(transport->is_reading());
    transport->write("1");
    transport->write("2345");
    transport->close();
    co_await proto->lost.wait();
    EXPECT_FALSE(proto->lost_with);
    std::array<char, 16> buf{};
    EXPECT_EQ(::read(rfd, buf.data(), buf.size()), 5);
    EXPECT_EQ(std::string(buf.data(), 5), "12345");
    EXPECT_EQ(::read(rfd, buf.data(), buf.size()), 0);  // the transport closed its end
    ::close(rfd);
    EXPECT_EQ(asyncio::testing::registered_fds(loop), 0u);
}

// test_events.py test_write_pipe_disconnect_on_close: the reader's close with nothing
// buffered is connection_lost(None).
ASYNCIO_TEST(Pipes, WritePipeReaderCloses) {
    auto& loop = asyncio::get_running_loop();
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_write_pipe([] { return std::make_unique<Recorder>(); }, wfd);
    ::close(rfd);
    co_await proto->lost.wait();
    EXPECT_FALSE(proto->lost_with);
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "lost"}));
    EXPECT_FALSE(fd_open(wfd));
}

// test_unix_events.py test__read_ready (WritePipe, with a buffer): the reader gone while
// bytes wait is connection_lost(BrokenPipeError); writing on after that raises it too. No
// SIGPIPE ends the process, although its disposition is the default here.
ASYNCIO_TEST(Pipes, WritePipeBrokenWithBufferedBytes) {
    auto& loop = asyncio::get_running_loop();
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    struct sigaction old {};
    ::sigaction(SIGPIPE, &dfl, &old);
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_write_pipe([] { return std::make_unique<Recorder>(); }, wfd);
    const std::string big(1 << 20, 'x');  // more than the pipe holds: the rest is buffered
    transport->write(big);
    EXPECT_GT(transport->get_write_buffer_size(), 0u);
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "pause"}));
    ::close(rfd);
    co_await proto->lost.wait();
    bool broken = false;
    try {
        std::rethrow_exception(proto->lost_with);
    } catch (const asyncio::BrokenPipeError& e) {
        broken = e.errno_value() == EPIPE;
    }
    EXPECT_TRUE(broken);
    EXPECT_EQ(transport->get_write_buffer_size(), 0u);
    broken = false;
    try {
        transport->write("more");
    } catch (const asyncio::BrokenPipeError&) {
        broken = true;
    }
    EXPECT_TRUE(broken);
    ::sigaction(SIGPIPE, &old, nullptr);
}

// A write straight to the kernel on a pipe whose reader is gone (before the transport saw
// the hang-up) fails with EPIPE, not with SIGPIPE, and no SIGPIPE is left pending.
ASYNCIO_TEST(Pipes, WriteAfterReaderGoneRaisesNoSignal) {
    auto& loop = asyncio::get_running_loop();
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    struct sigaction old {};
    ::sigaction(SIGPIPE, &dfl, &old);
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_write_pipe([] { return std::make_unique<Recorder>(); }, wfd);
    ::close(rfd);
    const std::string big(8192, 'y');  // large: sent at once, in this call
    transport->write(big);
    co_await proto->lost.wait();
    bool broken = false;
    try {
        std::rethrow_exception(proto->lost_with);
    } catch (const asyncio::BrokenPipeError&) {
        broken = true;
    }
    EXPECT_TRUE(broken);
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
    ::sigaction(SIGPIPE, &old, nullptr);
}

// test_unix_events.py test_write_eof: a pipe's end of stream is its close, after the
// buffered bytes; write() after it raises.
ASYNCIO_TEST(Pipes, WritePipeWriteEof) {
    auto& loop = asyncio::get_running_loop();
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_write_pipe([] { return std::make_unique<Recorder>(); }, wfd);
    transport->write("data");
    transport->write_eof();
    EXPECT_TRUE(transport->is_closing());
    bool raised = false;
    try {
        transport->write("x");
    } catch (const asyncio::RuntimeError&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    co_await proto->lost.wait();
    std::array<char, 16> buf{};
    EXPECT_EQ(::read(rfd, buf.data(), buf.size()), 4);
    EXPECT_EQ(::read(rfd, buf.data(), buf.size()), 0);
    ::close(rfd);
}

// test_unix_events.py test_abort (WritePipe): abort() drops what is buffered.
ASYNCIO_TEST(Pipes, WritePipeAbortDropsBuffer) {
    auto& loop = asyncio::get_running_loop();
    auto [rfd, wfd] = make_pipe();
    auto [transport, proto] = co_await loop.connect_write_pipe([] { return std::make_unique<Recorder>(); }, wfd);
    ::fcntl(rfd, F_SETFL, O_NONBLOCK);
    const std::string big(1 << 20, 'z');
    transport->write(big);
    const std::size_t buffered = transport->get_write_buffer_size();
    EXPECT_GT(buffered, 0u);
    transport->abort();
    co_await proto->lost.wait();
    std::string got(1 << 20, '\0');
    std::size_t total = 0;
    for (;;) {
        ssize_t n = ::read(rfd, got.data() + total, got.size() - total);
        if (n <= 0) break;
        total += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(total, big.size() - buffered);  // exactly what the kernel took, no more
    ::close(rfd);
}

// The stream wrappers: a StreamWriter on one end, a StreamReader on the other, 4 MiB
// through under flow control (drain suspends while the reader lags), byte-exact; the
// writer's close is the reader's end of stream.
ASYNCIO_TEST(Pipes, StreamsOverAPipe) {
    auto [rfd, wfd] = make_pipe();
    asyncio::StreamReader reader = co_await asyncio::open_read_pipe(rfd);
    asyncio::StreamWriter writer = co_await asyncio::open_write_pipe(wfd);
    std::string sent;
    for (int i = 0; i < 4096; ++i) sent += std::to_string(i) + std::string(1024 - std::to_string(i).size() - 1, '.') + '\n';
    auto produce = [](asyncio::StreamWriter& w, const std::string& data) -> Coro<void> {
        for (std::size_t off = 0; off < data.size(); off += 65536) {
            w.write(std::string_view(data).substr(off, 65536));
            co_await w.drain();
        }
        w.close();
        co_await w.wait_closed();
    };
    auto producer = asyncio::get_running_loop().create_task(produce(writer, sent));
    std::string got;
    std::size_t lines = 0;
    while (auto line = co_await reader.next_line()) {
        got += *line;
        ++lines;
    }
    co_await producer;
    EXPECT_EQ(lines, 4096u);
    EXPECT_TRUE(got == sent);
    EXPECT_TRUE(reader.at_eof());
}

// open_write_pipe's drain after the reader went away with bytes unsent: BrokenPipeError.
ASYNCIO_TEST(Pipes, StreamWriterDrainAfterReaderGone) {
    auto [rfd, wfd] = make_pipe();
    asyncio::StreamWriter writer = co_await asyncio::open_write_pipe(wfd);
    writer.write(std::string(1 << 20, 'q'));
    ::close(rfd);
    bool broken = false;
    try {
        for (int i = 0; i < 10; ++i) co_await writer.drain();
    } catch (const asyncio::BrokenPipeError&) {
        broken = true;
    }
    EXPECT_TRUE(broken);
}

// A socket works as a pipe too (CPython accepts sockets): a socketpair half as a read pipe.
ASYNCIO_TEST(Pipes, SocketAsReadPipe) {
    auto& loop = asyncio::get_running_loop();
    auto [a, b] = asyncio::socketpair();
    auto [transport, proto] = co_await loop.connect_read_pipe([] { return std::make_unique<Recorder>(); }, a.detach());
    EXPECT_EQ(::send(b.fileno(), "hi", 2, 0), 2);
    b.close();
    co_await proto->lost.wait();
    EXPECT_EQ(proto->received, "hi");
    EXPECT_EQ(proto->events, (std::vector<std::string>{"made", "eof", "lost"}));
}

// The loop closing with a pipe transport open lets go of the fd (no leak, no crash later).
TEST(Pipes, LoopClosedWithPipeOpen) {
    auto [rfd, wfd] = make_pipe();
    std::shared_ptr<Transport> kept;
    {
        asyncio::EventLoop loop;
        kept = loop.run_until_complete([](int fd) -> Coro<std::shared_ptr<Transport>> {
            auto made = co_await asyncio::get_running_loop().connect_read_pipe([] { return std::make_unique<Recorder>(); }, fd);
            co_return made.first;
        }(rfd));
        loop.close();
    }
    EXPECT_FALSE(fd_open(rfd));
    EXPECT_TRUE(kept->is_closing());
    kept.reset();
    ::close(wfd);
}
