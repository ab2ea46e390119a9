// src/socket_transport.cpp: the stream socket transport (CPython's _SelectorSocketTransport),
// built for speed the way uvloop and Tokio are: the fd is registered with epoll once,
// edge-triggered; a short read means "drained" (no read until EAGAIN); small writes of one
// iteration leave together at its end; nothing is allocated per read or write in steady
// state. The rules: docs/design/transports.md.
#include "socket_transport.hpp"

#include "network_internal.hpp"

#include <asyncio/server.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

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

std::shared_ptr<SocketTransport> SocketTransport::create(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol,
                                                         std::shared_ptr<Server> server) {
    auto t = std::make_shared<SocketTransport>(loop, std::move(sock), std::move(protocol), std::move(server));
    LoopAccess::watch_io(loop, t->sock_.fileno(), t.get());
    t->self_ = t;
    if (t->server_) ServerAccess::attach(*t->server_, t.get());
    // CPython calls connection_made with call_soon; here the caller is a step of the loop
    // already (a task in create_connection, the server's accept step), so at once.
    try {
        ProtocolCall call(*t);
        t->protocol_->connection_made(*t);
    } catch (const KeyboardInterrupt&) {
        throw;
    } catch (...) {
        t->report("Exception in protocol.connection_made()", std::current_exception());
    }
    return t;
}

SocketTransport::SocketTransport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol, std::shared_ptr<Server> server)
    : loop_(&loop), sock_(std::move(sock)), protocol_(std::move(protocol)), server_(std::move(server)) {
    if (!protocol_) throw ValueError("protocol_factory returned no protocol");
    stream_ = dynamic_cast<Protocol*>(protocol_.get());
    if (!stream_) buffered_ = dynamic_cast<BufferedProtocol*>(protocol_.get());
    if (!stream_ && !buffered_) throw ValueError("a stream transport needs a Protocol or a BufferedProtocol");
    if (sock_.family() == AF_INET || sock_.family() == AF_INET6) {
        int one = 1;  // CPython's _set_nodelay: small writes leave at once
        ::setsockopt(sock_.fileno(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    try {
        sockname_ = sock_.getsockname();
        peername_ = sock_.getpeername();
    } catch (const OSError&) {  // not connected (any more): CPython leaves it None
    }
    LoopAccess::ready(loop).reserve();  // the step is queued without allocating
}

SocketTransport::~SocketTransport() {
    if (loop_) {
        LoopAccess::cancel_flush(*loop_, this);
        if (sock_) LoopAccess::unwatch_io(*loop_, sock_.fileno());
        LoopAccess::ready(*loop_).unreserve();
    }
}

std::any SocketTransport::extra_info(std::string_view name) const {
    if (name == "peername" && peername_.family() != AF_UNSPEC) return peername_;
    if (name == "sockname" && sockname_.family() != AF_UNSPEC) return sockname_;
    if (name == "socket" && sock_) return const_cast<Socket*>(&sock_);  // NOLINT(cppcoreguidelines-pro-type-const-cast): CPython hands the socket out
    return {};
}

// ---------------------------------------------------------------------------- readiness

void SocketTransport::io_ready(std::uint32_t events) noexcept {
    if (events & io_readable) readable_ = true;
    if (events & io_hangup) hangup_ = true;
    if (events & io_writable) writable_ = true;
    if ((readable_ && !paused_ && !closing_ && !read_eof_) || (writable_ && get_write_buffer_size() != 0)) schedule();
}

void SocketTransport::schedule() noexcept {
    if (step_queued_ || !loop_) return;
    step_queued_ = true;
    LoopAccess::ready(*loop_).push(this);
}

void SocketTransport::run() {
    step_queued_ = false;
    if (lost_due_) {
        call_connection_lost();  // may destroy this transport: the last thing done
        return;
    }
    if (writable_ && get_write_buffer_size() != 0 && !flush_queued) {
        bool drained = flush();
        maybe_resume();  // before connection_lost, as CPython's _write_ready
        if (drained) after_drained();
    }
    if (readable_ && !paused_ && !closing_ && !read_eof_) read_once();
}

void SocketTransport::io_flush() noexcept {
    if (lost_due_ || lost_ || !writable_ || get_write_buffer_size() == 0) return;
    bool drained = flush();
    maybe_resume();  // before connection_lost, as CPython's _write_ready
    if (drained) after_drained();
}

// ---------------------------------------------------------------------------- reading

void SocketTransport::read_once() {
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
    ssize_t n = ::recv(sock_.fileno(), buf, size, 0);
    if (n < 0) {
        if (would_block(errno) || errno == EINTR) {
            if (errno != EINTR)
                readable_ = false;
            else
                schedule();
            return;
        }
        fatal(os_error(errno), "Fatal read error on socket transport");
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

void SocketTransport::read_eof() {
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
    if (!keep_open) close_internal();  // else: half-closed, still writable
}

void SocketTransport::set_protocol(std::unique_ptr<BaseProtocol> protocol) {
    if (!protocol) throw ValueError("set_protocol() needs a protocol");
    auto* stream = dynamic_cast<Protocol*>(protocol.get());
    auto* buffered = stream ? nullptr : dynamic_cast<BufferedProtocol*>(protocol.get());
    if (!stream && !buffered) throw ValueError("a stream transport needs a Protocol or a BufferedProtocol");
    if (protocol_calls_ > 0) retired_.push_back(std::move(protocol_));  // may throw: nothing changed yet
    protocol_ = std::move(protocol);                                    // an old one not retired is destroyed here
    stream_ = stream;
    buffered_ = buffered;
}

void SocketTransport::pause_reading() {
    if (closing_ || paused_) return;
    paused_ = true;  // no system call: the edges are still noted, reading just stops
}

void SocketTransport::resume_reading() {
    if (closing_ || !paused_) return;
    paused_ = false;
    if (readable_ && !read_eof_) schedule();
}

// ---------------------------------------------------------------------------- writing

void SocketTransport::check_writable() const {
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

void SocketTransport::write(std::string_view data) {
    check_writable();
    if (data.empty()) return;
    if (get_write_buffer_size() == 0 && writable_ && data.size() >= direct_write) {
        // Large and nothing ahead of it: straight to the kernel, no copy (CPython's "try
        // to send now").
        ssize_t n = ::send(sock_.fileno(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (!would_block(errno) && errno != EINTR) {
                fatal(os_error(errno), "Fatal write error on socket transport");
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
                fatal(std::current_exception(), "Fatal write error on socket transport");
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

bool SocketTransport::flush() {
    while (wpos_ < wbuf_.size()) {
        ssize_t n = ::send(sock_.fileno(), wbuf_.data() + wpos_, wbuf_.size() - wpos_, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (would_block(errno)) {
                writable_ = false;
                return false;
            }
            fatal(os_error(errno), "Fatal write error on socket transport");
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

void SocketTransport::after_drained() {
    if (closing_) {
        if (!lost_due_ && !lost_) lose(nullptr);
        return;
    }
    if (eof_ && !shut_wr_) {
        shut_wr_ = true;
        ::shutdown(sock_.fileno(), SHUT_WR);
    }
}

void SocketTransport::maybe_pause() {
    if (protocol_paused_ || get_write_buffer_size() <= high_water_) return;
    protocol_paused_ = true;
    try {
        ProtocolCall call(*this);
        protocol_->pause_writing();
    } catch (...) {
        report("protocol.pause_writing() failed", std::current_exception());
    }
}

void SocketTransport::maybe_resume() {
    if (!protocol_paused_ || get_write_buffer_size() > low_water_ || lost_ || lost_due_ || !loop_) return;
    protocol_paused_ = false;
    try {
        ProtocolCall call(*this);
        protocol_->resume_writing();
    } catch (...) {
        report("protocol.resume_writing() failed", std::current_exception());
    }
}

void SocketTransport::write_buffer_limits_changed() { maybe_pause(); }

void SocketTransport::write_eof() {
    if (closing_ || eof_) return;
    eof_ = true;
    if (get_write_buffer_size() == 0) {
        shut_wr_ = true;
        ::shutdown(sock_.fileno(), SHUT_WR);
    }
}

// ---------------------------------------------------------------------------- closing

void SocketTransport::close() {
    if (closing_) return;
    user_closed_ = true;
    close_internal();
}

void SocketTransport::close_internal() {
    if (closing_) return;
    closing_ = true;  // reading stops; what is buffered still leaves
    if (get_write_buffer_size() == 0) lose(nullptr);
}

void SocketTransport::abort() {
    user_closed_ = true;
    force_close(nullptr);
}

void SocketTransport::report(const char* message, std::exception_ptr exc) noexcept {
    if (!loop_) return;
    try {
        loop_->call_exception_handler({message, std::move(exc), {}});
    } catch (...) {
    }
}

void SocketTransport::fatal(std::exception_ptr exc, const char* message) noexcept {
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

void SocketTransport::force_close(std::exception_ptr exc) noexcept {
    if (lost_due_ || lost_) return;
    wbuf_.clear();
    wpos_ = 0;
    if (loop_) LoopAccess::cancel_flush(*loop_, this);
    closing_ = true;
    lose(std::move(exc));
}

void SocketTransport::lose(std::exception_ptr exc) noexcept {
    lost_due_ = true;
    lost_error_ = std::move(exc);
    schedule();
}

void SocketTransport::call_connection_lost() noexcept {
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
    std::shared_ptr<SocketTransport> last = std::move(self_);  // may be the last reference
}

void SocketTransport::io_loop_closed() noexcept {
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
