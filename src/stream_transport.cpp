// src/stream_transport.cpp: the stream transport over a socket or a pipe (CPython's
// _SelectorSocketTransport and the Unix pipe transports), built for speed the way uvloop and Tokio are: the fd is registered with epoll once,
// edge-triggered; a short read means "drained" (no read until EAGAIN); small writes of one
// iteration leave together at its end; nothing is allocated per read or write in steady
// state. The rules: docs/design/transports.md.
#include "stream_transport.hpp"

#include "network_internal.hpp"

#include <asyncio/server.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

namespace asyncio::detail {
namespace {

// CPython's max_size: the most one read takes.
constexpr std::size_t read_size = std::size_t{256} * 1024;
// A write at least this long, with nothing buffered, is sent at once instead of copied
// into the buffer to leave at the end of the iteration.
constexpr std::size_t direct_write = 4096;
// A write buffer that grew past this is given back once it drains.
constexpr std::size_t keep_capacity = std::size_t{256} * 1024;

bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK; }

const char* write_error_of(StreamKind kind) noexcept {
    return kind == StreamKind::socket ? "Fatal write error on socket transport" : "Fatal write error on pipe transport";
}

}  // namespace

std::span<std::byte> thread_read_buffer() {
    // Page-aligned: the kernel's copy into it (rep movsb) runs at half speed or worse when
    // the destination is not 32-byte aligned on the AMD EPYC this was measured on — a
    // 16 KiB echo took 14.0 µs of server CPU from malloc's 16-byte alignment, 9.0 µs
    // aligned (docs/design/transports.md).
    struct Free {
        void operator()(std::byte* p) const noexcept { ::operator delete (p, std::align_val_t{4096}); }
    };
    thread_local std::unique_ptr<std::byte, Free> buf;
    if (!buf) buf.reset(static_cast<std::byte*>(::operator new (read_size, std::align_val_t{4096})));
    return {buf.get(), read_size};
}

std::shared_ptr<StreamTransport> StreamTransport::create(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol,
                                                         std::shared_ptr<Server> server) {
    auto t = std::make_shared<StreamTransport>(loop, std::move(sock), std::move(protocol), std::move(server));
    t->start(t);
    return t;
}

std::shared_ptr<StreamTransport> StreamTransport::create_pipe(EventLoop& loop, int fd, StreamKind kind, std::unique_ptr<BaseProtocol> protocol) {
    Socket owner = SocketAccess::adopt(fd, AF_UNSPEC, 0, 0, false);  // closes fd if this throws
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_os_error(errno);
    if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode))
        throw ValueError(kind == StreamKind::read_pipe ? "Pipe transport is for pipes/sockets only." : "Pipe transport is only for pipes, sockets and character devices");
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)) throw_os_error(errno);
    auto t = std::make_shared<StreamTransport>(loop, std::move(owner), std::move(protocol), nullptr, kind);
    t->start(t);
    return t;
}

void StreamTransport::start(std::shared_ptr<StreamTransport> self) {
    LoopAccess::watch_io(*loop_, sock_.fileno(), this);
    self_ = std::move(self);
    if (server_) ServerAccess::attach(*server_, this);
    // CPython calls connection_made with call_soon; here the caller is a step of the loop
    // already (a task in create_connection, the server's accept step, connect_read_pipe's
    // task), so at once.
    try {
        ProtocolCall call(*this);
        protocol_->connection_made(*this);
    } catch (const KeyboardInterrupt&) {
        throw;
    } catch (...) {
        report("Exception in protocol.connection_made()", std::current_exception());
    }
}

StreamTransport::StreamTransport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol, std::shared_ptr<Server> server, StreamKind kind)
    : loop_(&loop), sock_(std::move(sock)), kind_(kind), protocol_(std::move(protocol)), server_(std::move(server)) {
    if (!protocol_) throw ValueError("protocol_factory returned no protocol");
    stream_ = dynamic_cast<Protocol*>(protocol_.get());
    if (!stream_) buffered_ = dynamic_cast<BufferedProtocol*>(protocol_.get());
    if (!stream_ && !buffered_) throw ValueError("a stream transport needs a Protocol or a BufferedProtocol");
    if (kind_ == StreamKind::write_pipe) read_eof_ = true;  // never read: only its hang-up is watched
    if (kind_ == StreamKind::socket) {
        if (sock_.family() == AF_INET || sock_.family() == AF_INET6) {
            int one = 1;  // CPython's _set_nodelay: small writes leave at once
            ::setsockopt(sock_.fileno(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        try {
            sockname_ = sock_.getsockname();
            peername_ = sock_.getpeername();
        } catch (const OSError&) {  // not connected (any more): CPython leaves it None
        }
    }
    LoopAccess::ready(loop).reserve();  // the step is queued without allocating
}

StreamTransport::~StreamTransport() {
    if (loop_) {
        LoopAccess::cancel_flush(*loop_, this);
        if (sock_) LoopAccess::unwatch_io(*loop_, sock_.fileno());
        LoopAccess::ready(*loop_).unreserve();
    }
}

std::any StreamTransport::extra_info(std::string_view name) const {
    if (name == "peername" && peername_.family() != AF_UNSPEC) return peername_;
    if (name == "sockname" && sockname_.family() != AF_UNSPEC) return sockname_;
    if (kind_ != StreamKind::socket) {
        if (name == "pipe" && sock_) return sock_.fileno();  // CPython: the pipe's file object
        return {};
    }
    if (name == "socket" && sock_) return const_cast<Socket*>(&sock_);  // NOLINT(cppcoreguidelines-pro-type-const-cast): CPython hands the socket out
    return {};
}

// ---------------------------------------------------------------------------- readiness

void StreamTransport::io_ready(std::uint32_t events) noexcept {
    if (events & io_readable) readable_ = true;
    if (events & io_hangup) hangup_ = true;
    if (events & io_writable) writable_ = true;
    if ((readable_ && !paused_ && !closing_ && !read_eof_) || (writable_ && get_write_buffer_size() != 0)) schedule();
    if (kind_ == StreamKind::write_pipe && hangup_) schedule();
}

void StreamTransport::schedule() noexcept {
    if (step_queued_ || !loop_) return;
    step_queued_ = true;
    LoopAccess::ready(*loop_).push(this);
}

void StreamTransport::run() {
    step_queued_ = false;
    if (lost_due_) {
        call_connection_lost();  // may destroy this transport: the last thing done
        return;
    }
    if (kind_ == StreamKind::write_pipe && hangup_) {
        pipe_reader_gone();
        return;
    }
    if (writable_ && get_write_buffer_size() != 0 && !flush_queued) {
        bool drained = flush();
        maybe_resume();  // before connection_lost, as CPython's _write_ready
        if (drained) after_drained();
    }
    if (readable_ && !paused_ && !closing_ && !read_eof_) read_once();
}

void StreamTransport::io_flush() noexcept {
    if (lost_due_ || lost_ || !writable_ || get_write_buffer_size() == 0) return;
    bool drained = flush();
    maybe_resume();  // before connection_lost, as CPython's _write_ready
    if (drained) after_drained();
}

// ---------------------------------------------------------------------------- reading

void StreamTransport::read_once() {
    std::byte* buf;
    std::size_t size;
    if (stream_) {
        const std::span<std::byte> shared = detail::thread_read_buffer();
        buf = shared.data();
        size = shared.size();
    } else {
        std::span<std::byte> b;
        try {
            ProtocolCall call(*this);
            b = buffered_->get_buffer(0);
        } catch (const KeyboardInterrupt&) {
            throw;
        } catch (...) {
            fatal(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
            return;
        }
        if (b.empty()) {
            fatal(std::make_exception_ptr(RuntimeError("get_buffer() returned an empty buffer")), "Fatal error: protocol.get_buffer() call failed.");
            return;
        }
        buf = b.data();
        size = b.size();
    }
    ssize_t n = kind_ == StreamKind::socket ? ::recv(sock_.fileno(), buf, size, 0) : ::read(sock_.fileno(), buf, size);
    if (n < 0) {
        if (would_block(errno) || errno == EINTR) {
            if (errno != EINTR)
                readable_ = false;
            else
                schedule();
            return;
        }
        fatal(os_error(errno), kind_ == StreamKind::socket ? "Fatal read error on socket transport" : "Fatal read error on pipe transport");
        return;
    }
    if (n == 0) {
        readable_ = false;
        read_eof();
        return;
    }
    // A short read drained the socket: the next edge says when there is more. A full one
    // may have left more: read again next iteration, after the others had their turn. After
    // a hang-up no edge will come: read on until the end of stream or the error.
    if (static_cast<std::size_t>(n) < size && !hangup_)
        readable_ = false;
    else
        schedule();
    try {
        ProtocolCall call(*this);
        if (stream_)
            stream_->data_received(std::string_view(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n)));
        else
            buffered_->buffer_updated(static_cast<std::size_t>(n));
    } catch (const KeyboardInterrupt&) {
        throw;  // out of the loop, as CPython lets it through
    } catch (...) {
        fatal(std::current_exception(), stream_ ? "Fatal error: protocol.data_received() call failed." : "Fatal error: protocol.buffer_updated() call failed.");
    }
}

void StreamTransport::read_eof() {
    read_eof_ = true;
    bool keep_open = false;
    try {
        ProtocolCall call(*this);
        keep_open = stream_ ? stream_->eof_received() : buffered_->eof_received();
    } catch (const KeyboardInterrupt&) {
        throw;
    } catch (...) {
        fatal(std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
        return;
    }
    // A pipe has no write side to keep: it closes whatever eof_received() says (CPython's
    // _UnixReadPipeTransport ignores the result).
    if (!keep_open || kind_ == StreamKind::read_pipe) close_internal();  // else: half-closed, still writable
}

void StreamTransport::set_protocol(std::unique_ptr<BaseProtocol> protocol) {
    if (!protocol) throw ValueError("set_protocol() needs a protocol");
    auto* stream = dynamic_cast<Protocol*>(protocol.get());
    auto* buffered = stream ? nullptr : dynamic_cast<BufferedProtocol*>(protocol.get());
    if (!stream && !buffered) throw ValueError("a stream transport needs a Protocol or a BufferedProtocol");
    if (protocol_calls_ > 0) retired_.push_back(std::move(protocol_));  // may throw: nothing changed yet
    protocol_ = std::move(protocol);                                    // an old one not retired is destroyed here
    stream_ = stream;
    buffered_ = buffered;
}

void StreamTransport::pause_reading() {
    if (closing_ || paused_) return;
    paused_ = true;  // no system call: the edges are still noted, reading just stops
}

void StreamTransport::resume_reading() {
    if (closing_ || !paused_) return;
    paused_ = false;
    if (readable_ && !read_eof_) schedule();
}

// ---------------------------------------------------------------------------- writing

void StreamTransport::check_writable() const {
    if (kind_ == StreamKind::read_pipe) throw RuntimeError("write() on a read pipe transport (CPython: AttributeError)");
    if (eof_) throw RuntimeError("Cannot call write() after write_eof()");
    if (user_closed_) throw RuntimeError("Cannot call write() after close()");
    // Closing after the peer's end of stream with bytes still buffered: more may be added,
    // as CPython does, until the connection is lost.
    if (lost_ || lost_due_ || (closing_ && get_write_buffer_size() == 0)) {
        if (lost_error_) std::rethrow_exception(lost_error_);
        throw ConnectionResetError("Connection lost");
    }
    if (!loop_) throw RuntimeError("Event loop is closed");
}

void StreamTransport::write(std::string_view data) {
    check_writable();
    if (data.empty()) return;
    if (get_write_buffer_size() == 0 && writable_ && data.size() >= direct_write) {
        // Large and nothing ahead of it: straight to the kernel, no copy (CPython's "try
        // to send now").
        ssize_t n = send_some(data.data(), data.size());
        if (n < 0) {
            if (!would_block(errno) && errno != EINTR) {
                fatal(os_error(errno), write_error_of(kind_));
                return;
            }
            if (errno != EINTR) writable_ = false;  // (EINTR: the flush tries again)
            n = 0;
        } else if (static_cast<std::size_t>(n) < data.size()) {
            writable_ = false;  // the kernel took less than all: its buffer is full
        }
        data.remove_prefix(static_cast<std::size_t>(n));
        if (data.empty()) return;
        if (n > 0) {
            // Part of it is gone: if the rest finds no room, the stream is broken, and the
            // connection is lost with std::bad_alloc rather than missing bytes in the middle.
            try {
                wbuf_.append(data);
            } catch (...) {
                fatal(std::current_exception(), write_error_of(kind_));
                return;
            }
            data = {};  // buffered; writable_ is false: the writable edge sends the rest
        }
    }
    if (!data.empty()) {
        if (wpos_ != 0 && wpos_ == wbuf_.size()) wbuf_.clear(), wpos_ = 0;
        wbuf_.append(data);
    }
    if (writable_) LoopAccess::queue_flush(*loop_, this);
    if (get_write_buffer_size() > high_water_) {
        // Over the mark: see what the kernel takes before pausing the protocol.
        if (writable_) {
            LoopAccess::cancel_flush(*loop_, this);
            if (flush()) after_drained();
        }
        maybe_pause();
    }
}

ssize_t StreamTransport::send_some(const char* data, std::size_t len) const noexcept {
    if (kind_ == StreamKind::socket) return ::send(sock_.fileno(), data, len, MSG_NOSIGNAL);
    // A pipe has no MSG_NOSIGNAL: a write after its reader closed raises SIGPIPE, which ends
    // the process unless it is ignored (CPython ignores it at startup; a C++ program need
    // not). So SIGPIPE is blocked in this thread around the write, and one it raised is
    // taken off the thread's pending set before unblocking, unless one was pending already.
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) return ::write(sock_.fileno(), data, len);
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    sigset_t old;
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    const ssize_t n = ::write(sock_.fileno(), data, len);
    const int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
        const struct timespec zero {};
        while (::sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return n;
}

bool StreamTransport::flush() {
    while (wpos_ < wbuf_.size()) {
        ssize_t n = send_some(wbuf_.data() + wpos_, wbuf_.size() - wpos_);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (would_block(errno)) {
                writable_ = false;
                return false;
            }
            fatal(os_error(errno), write_error_of(kind_));
            return false;
        }
        wpos_ += static_cast<std::size_t>(n);
        if (wpos_ < wbuf_.size()) {
            // Partly taken: the kernel's buffer is full; the writable edge brings us back.
            writable_ = false;
            if (wpos_ > wbuf_.size() / 2) {  // keep the buffer compact
                wbuf_.erase(0, wpos_);
                wpos_ = 0;
            }
            return false;
        }
    }
    wpos_ = 0;
    if (wbuf_.capacity() > keep_capacity) {
        std::string().swap(wbuf_);
    } else {
        wbuf_.clear();
    }
    return true;
}

void StreamTransport::after_drained() {
    if (closing_) {
        if (!lost_due_ && !lost_) lose(nullptr);
        return;
    }
    if (eof_ && !shut_wr_) {
        shut_wr_ = true;
        ::shutdown(sock_.fileno(), SHUT_WR);
    }
}

void StreamTransport::maybe_pause() {
    if (protocol_paused_ || get_write_buffer_size() <= high_water_) return;
    protocol_paused_ = true;
    try {
        ProtocolCall call(*this);
        protocol_->pause_writing();
    } catch (...) {
        report("protocol.pause_writing() failed", std::current_exception());
    }
}

void StreamTransport::maybe_resume() {
    if (!protocol_paused_ || get_write_buffer_size() > low_water_ || lost_ || lost_due_ || !loop_) return;
    protocol_paused_ = false;
    try {
        ProtocolCall call(*this);
        protocol_->resume_writing();
    } catch (...) {
        report("protocol.resume_writing() failed", std::current_exception());
    }
}

void StreamTransport::write_buffer_limits_changed() { maybe_pause(); }

void StreamTransport::write_eof() {
    if (closing_ || eof_) return;
    eof_ = true;
    if (kind_ == StreamKind::write_pipe) {
        // A pipe's end of stream is its close: once the buffer is sent (CPython's).
        close_internal();
        return;
    }
    if (kind_ == StreamKind::read_pipe) return;
    if (get_write_buffer_size() == 0) {
        shut_wr_ = true;
        ::shutdown(sock_.fileno(), SHUT_WR);
    }
}

// ---------------------------------------------------------------------------- closing

void StreamTransport::close() {
    if (closing_) return;
    user_closed_ = true;
    close_internal();
}

void StreamTransport::close_internal() {
    if (closing_) return;
    closing_ = true;  // reading stops; what is buffered still leaves
    if (get_write_buffer_size() == 0) lose(nullptr);
}

void StreamTransport::pipe_reader_gone() noexcept {
    // CPython's _UnixWritePipeTransport._read_ready: the reader closed its end.
    hangup_ = false;
    if (lost_due_ || lost_) return;
    if (get_write_buffer_size() != 0)
        force_close(std::make_exception_ptr(BrokenPipeError(EPIPE)));
    else
        force_close(nullptr);
}

void StreamTransport::abort() {
    user_closed_ = true;
    force_close(nullptr);
}

void StreamTransport::report(const char* message, std::exception_ptr exc) noexcept {
    if (!loop_) return;
    try {
        loop_->call_exception_handler({message, std::move(exc), {}});
    } catch (...) {
    }
}

void StreamTransport::fatal(std::exception_ptr exc, const char* message) noexcept {
    // CPython logs an OSError (a peer's reset, a broken pipe) only in debug mode: the
    // protocol learns of it from connection_lost.
    bool os_level = false;
    try {
        std::rethrow_exception(exc);
    } catch (const OSError&) {
        os_level = true;
    } catch (...) {
    }
    if (!os_level) report(message, exc);
    force_close(std::move(exc));
}

void StreamTransport::force_close(std::exception_ptr exc) noexcept {
    if (lost_due_ || lost_) return;
    wbuf_.clear();
    wpos_ = 0;
    if (loop_) LoopAccess::cancel_flush(*loop_, this);
    closing_ = true;
    lose(std::move(exc));
}

void StreamTransport::lose(std::exception_ptr exc) noexcept {
    lost_due_ = true;
    lost_error_ = std::move(exc);
    schedule();
}

void StreamTransport::call_connection_lost() noexcept {
    lost_due_ = false;
    lost_ = true;
    try {
        ProtocolCall call(*this);
        protocol_->connection_lost(lost_error_);
    } catch (...) {
        report("Exception in protocol.connection_lost()", std::current_exception());
    }
    if (loop_) {
        LoopAccess::cancel_flush(*loop_, this);
        LoopAccess::unwatch_io(*loop_, sock_.fileno());
        // Done with the loop: a handle kept past the loop's end must not reach it.
        LoopAccess::ready(*loop_).unreserve();
        loop_ = nullptr;
    }
    sock_.close();
    if (server_) {
        ServerAccess::detach(*server_, this);
        server_.reset();
    }
    std::shared_ptr<StreamTransport> last = std::move(self_);  // may be the last reference
}

void StreamTransport::io_loop_closed() noexcept {
    EventLoop& loop = *loop_;
    loop_ = nullptr;  // its reservation in the ready queue died with it
    closing_ = true;
    lost_ = true;
    step_queued_ = false;
    flush_queued = false;
    sock_.close();
    if (server_) {
        ServerAccess::detach(*server_, this);
        LoopAccess::bury(loop, std::move(server_));
    }
    // Destroyed once every watcher has been told, never during it (close() may still hold
    // a pointer to a listener our release would free).
    LoopAccess::bury(loop, std::move(self_));
}

}  // namespace asyncio::detail
