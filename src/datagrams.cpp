// src/datagrams.cpp: the datagram transport (CPython's _SelectorDatagramTransport) and
// create_datagram_endpoint (base_events.py). The socket is registered with epoll once,
// edge-triggered; each readable edge reads datagrams until EAGAIN (a batch per step, then
// the others get their turn); a sendto with nothing queued goes straight to the kernel, and
// only what it refuses with EAGAIN is queued, whole datagrams, for the writable edge.
#include <asyncio/datagrams.hpp>

#include "network_internal.hpp"

#include <asyncio/detail/io_watcher.hpp>
#include <asyncio/detail/ready_queue.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

namespace asyncio::detail {
namespace {

// Datagrams read in one step before the others get their turn.
constexpr int reads_per_step = 32;
// CPython counts this much per queued datagram on top of its bytes.
constexpr std::size_t header_size = 8;

bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK; }

class DatagramTransportImpl final : public DatagramTransport, IoWatcher, Runnable {
public:
    DatagramTransportImpl(EventLoop& loop, Socket sock, std::unique_ptr<DatagramProtocol> protocol, const std::optional<SocketAddress>& peer)
        : loop_(&loop), sock_(std::move(sock)), protocol_(std::move(protocol)), peer_(peer) {
        if (!protocol_) throw ValueError("protocol_factory returned no protocol");
        try {
            sockname_ = sock_.getsockname();
        } catch (const OSError&) {
        }
        LoopAccess::ready(loop).reserve();
    }
    ~DatagramTransportImpl() override {
        if (loop_) {
            if (sock_) LoopAccess::unwatch_io(*loop_, sock_.fileno());
            LoopAccess::ready(*loop_).unreserve();
        }
    }

    void start(std::shared_ptr<DatagramTransportImpl> self) {
        LoopAccess::watch_io(*loop_, sock_.fileno(), this);
        self_ = std::move(self);
        // CPython: call_soon(protocol.connection_made); here the caller is a task's step.
        try {
            protocol_->connection_made(*this);
        } catch (const KeyboardInterrupt&) {
            throw;
        } catch (...) {
            report("Exception in protocol.connection_made()", std::current_exception());
        }
    }

    void send_datagram(std::string_view data, const std::optional<SocketAddress>& addr) override {
        if (peer_ && addr && !(*addr == *peer_)) throw ValueError("Invalid address: must be None or " + peer_->str());
        if (!peer_ && !addr) throw ValueError("sendto() needs an address: the endpoint is not connected");
        if (closing_ || !loop_) throw RuntimeError(lost_ ? "Connection lost" : "Cannot call sendto() after close()");
        const SocketAddress* to = peer_ ? nullptr : &*addr;
        if (queue_.empty()) {
            ssize_t n = send_one(data, to);
            if (n >= 0) return;
            const int err = errno;
            if (!would_block(err) && err != EINTR) {
                error(err);
                return;
            }
        }
        queue_.push_back({std::string(data), to ? *to : SocketAddress()});
        queued_bytes_ += data.size() + header_size;
        maybe_pause();
    }

    void close() override {
        if (closing_) return;
        closing_ = true;
        if (queue_.empty()) lose(nullptr);
    }
    void abort() override { force_close(nullptr); }
    [[nodiscard]] bool is_closing() const noexcept override { return closing_; }
    [[nodiscard]] std::size_t get_write_buffer_size() const noexcept override { return queued_bytes_; }
    [[nodiscard]] DatagramProtocol* get_protocol() const noexcept override { return protocol_.get(); }
    [[nodiscard]] std::any extra_info(std::string_view name) const override {
        if (name == "sockname" && sockname_.family() != AF_UNSPEC) return sockname_;
        if (name == "peername" && peer_) return *peer_;
        if (name == "socket" && sock_) return const_cast<Socket*>(&sock_);  // NOLINT(cppcoreguidelines-pro-type-const-cast): CPython hands the socket out
        return {};
    }
    void set_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) override {
        std::size_t h = high ? *high : (low ? 4 * *low : std::size_t{64} * 1024);
        std::size_t l = low ? *low : h / 4;
        if (l > h) throw ValueError("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ") must be >= 0");
        high_ = h;
        low_ = l;
        maybe_pause();
    }

private:
    struct Queued {
        std::string data;
        SocketAddress to;  // AF_UNSPEC: the connected peer
    };

    ssize_t send_one(std::string_view data, const SocketAddress* to) const noexcept {
        if (!to) return ::send(sock_.fileno(), data.data(), data.size(), MSG_NOSIGNAL);
        return ::sendto(sock_.fileno(), data.data(), data.size(), MSG_NOSIGNAL, to->data(), to->size());
    }

    void io_ready(std::uint32_t events) noexcept override {
        if (events & io_readable) readable_ = true;
        if (events & io_writable) writable_ = true;
        if ((readable_ && !closing_) || (writable_ && !queue_.empty())) schedule();
    }
    void schedule() noexcept {
        if (queued_ || !loop_) return;
        queued_ = true;
        LoopAccess::ready(*loop_).push(this);
    }
    void drop() noexcept override { queued_ = false; }

    void run() override {
        queued_ = false;
        if (lost_due_) {
            call_connection_lost();
            return;
        }
        if (writable_ && !queue_.empty()) flush();
        if (readable_ && !closing_) read_some();
    }

    void read_some() {
        const std::span<std::byte> buf = thread_read_buffer();
        for (int i = 0; i < reads_per_step && readable_ && !closing_; ++i) {
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            ssize_t n = ::recvfrom(sock_.fileno(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (would_block(errno)) {
                    readable_ = false;
                    return;
                }
                error(errno);  // ECONNREFUSED from an earlier send ...: the endpoint stays open
                continue;
            }
            const SocketAddress from = len > 0 ? SocketAddress(reinterpret_cast<const sockaddr*>(&ss), len) : (peer_ ? *peer_ : SocketAddress());
            try {
                protocol_->datagram_received(std::string_view(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n)), from);
            } catch (const KeyboardInterrupt&) {
                throw;
            } catch (...) {
                report("Fatal error: protocol.datagram_received() call failed.", std::current_exception());
                force_close(std::current_exception());
                return;
            }
        }
        if (readable_ && !closing_) schedule();  // more may wait: next iteration
    }

    void flush() {
        while (!queue_.empty()) {
            Queued& q = queue_.front();
            ssize_t n = send_one(q.data, q.to.family() == AF_UNSPEC ? nullptr : &q.to);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (would_block(errno)) {
                    writable_ = false;
                    return;
                }
                const int err = errno;
                pop_front();
                error(err);  // CPython: error_received, and on with the next
                if (lost_due_) return;
                continue;
            }
            pop_front();
        }
        maybe_resume();
        if (closing_ && !lost_due_) lose(nullptr);
    }

    void pop_front() {
        queued_bytes_ -= queue_.front().data.size() + header_size;
        queue_.pop_front();
    }

    void error(int err) {
        try {
            protocol_->error_received(os_error(err));
        } catch (const KeyboardInterrupt&) {
            throw;
        } catch (...) {
            report("Fatal error: protocol.error_received() call failed.", std::current_exception());
            force_close(std::current_exception());
        }
    }

    void maybe_pause() {
        if (protocol_paused_ || queued_bytes_ <= high_) return;
        protocol_paused_ = true;
        try {
            protocol_->pause_writing();
        } catch (...) {
            report("protocol.pause_writing() failed", std::current_exception());
        }
    }
    void maybe_resume() {
        if (!protocol_paused_ || queued_bytes_ > low_) return;
        protocol_paused_ = false;
        try {
            protocol_->resume_writing();
        } catch (...) {
            report("protocol.resume_writing() failed", std::current_exception());
        }
    }

    void report(const char* message, std::exception_ptr exc) noexcept {
        if (!loop_) return;
        try {
            loop_->call_exception_handler({message, std::move(exc), {}});
        } catch (...) {
        }
    }

    void force_close(std::exception_ptr exc) noexcept {
        if (lost_due_ || lost_) return;
        queue_.clear();
        queued_bytes_ = 0;
        closing_ = true;
        lose(std::move(exc));
    }
    void lose(std::exception_ptr exc) noexcept {
        lost_due_ = true;
        lost_error_ = std::move(exc);
        schedule();
    }
    void call_connection_lost() noexcept {
        lost_due_ = false;
        lost_ = true;
        try {
            protocol_->connection_lost(lost_error_);
        } catch (...) {
            report("Exception in protocol.connection_lost()", std::current_exception());
        }
        if (loop_) {
            LoopAccess::unwatch_io(*loop_, sock_.fileno());
            LoopAccess::ready(*loop_).unreserve();
            loop_ = nullptr;
        }
        sock_.close();
        std::shared_ptr<DatagramTransportImpl> last = std::move(self_);
    }
    void io_loop_closed() noexcept override {
        EventLoop& loop = *loop_;
        loop_ = nullptr;
        closing_ = true;
        lost_ = true;
        queued_ = false;
        sock_.close();
        LoopAccess::bury(loop, std::move(self_));
    }

    EventLoop* loop_;
    Socket sock_;
    std::unique_ptr<DatagramProtocol> protocol_;
    std::optional<SocketAddress> peer_;  // connected to
    SocketAddress sockname_;
    std::shared_ptr<DatagramTransportImpl> self_;
    std::deque<Queued> queue_;
    std::size_t queued_bytes_ = 0;
    std::size_t high_ = std::size_t{64} * 1024;
    std::size_t low_ = std::size_t{16} * 1024;
    std::exception_ptr lost_error_;
    bool readable_ = false;
    bool writable_ = true;
    bool queued_ = false;
    bool closing_ = false;
    bool protocol_paused_ = false;
    bool lost_due_ = false;
    bool lost_ = false;
};

std::pair<std::shared_ptr<DatagramTransport>, DatagramProtocol*> make_endpoint(EventLoop& loop, DatagramProtocolFactory& factory, Socket sock, const std::optional<SocketAddress>& peer) {
    std::unique_ptr<DatagramProtocol> protocol = factory();
    DatagramProtocol* p = protocol.get();
    auto t = std::make_shared<DatagramTransportImpl>(loop, std::move(sock), std::move(protocol), peer);
    t->start(t);
    return {std::move(t), p};
}

void connect_now(const Socket& sock, const SocketAddress& to) {
    // A datagram socket's connect() only records the peer: it never blocks.
    if (::connect(sock.fileno(), to.data(), to.size()) != 0) throw_os_error(errno);
}

}  // namespace

Coro<std::pair<std::shared_ptr<DatagramTransport>, DatagramProtocol*>> adopt_datagram_socket(EventLoop& loop, DatagramProtocolFactory factory, Socket sock) {
    if (sock.type() != SOCK_DGRAM) throw ValueError("A datagram socket was expected, got " + std::to_string(sock.type()));
    sock.setblocking(false);
    std::optional<SocketAddress> peer;
    try {
        peer = sock.getpeername();
    } catch (const OSError&) {  // not connected
    }
    co_return make_endpoint(loop, factory, std::move(sock), peer);
}

Coro<std::pair<std::shared_ptr<DatagramTransport>, DatagramProtocol*>> open_unix_datagram_endpoint(EventLoop& loop, DatagramProtocolFactory factory, std::optional<std::string> local_path,
                                                                                                   std::optional<std::string> remote_path) {
    Socket sock(AF_UNIX, SOCK_DGRAM);
    if (local_path) {
        // CPython removes a stale socket file at the path first (never another kind of file).
        struct stat st {};
        if (!local_path->empty() && (*local_path)[0] != '\0' && ::stat(local_path->c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(local_path->c_str());
        sock.bind(SocketAddress::unix_path(*local_path));
    }
    std::optional<SocketAddress> peer;
    if (remote_path) {
        peer = SocketAddress::unix_path(*remote_path);
        connect_now(sock, *peer);
    }
    co_return make_endpoint(loop, factory, std::move(sock), peer);
}

Coro<std::pair<std::shared_ptr<DatagramTransport>, DatagramProtocol*>> open_datagram_endpoint(EventLoop& loop, DatagramProtocolFactory factory, DatagramEndpointOptions options) {
    LoopAccess::check_open(loop);
    if (!options.local_addr && !options.remote_addr) {
        // CPython: a family is needed to make the socket.
        if (options.family == AF_UNSPEC) throw ValueError("unexpected address family");
        Socket sock(options.family, SOCK_DGRAM, options.proto);
        if (options.reuse_port) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
        if (options.allow_broadcast) sock.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
        co_return make_endpoint(loop, factory, std::move(sock), std::nullopt);
    }
    // CPython's pairing: per family, the local and remote addresses resolved; each
    // (local, remote) of one family tried in turn, the first that binds and connects wins.
    std::vector<AddrInfo> locals;
    std::vector<AddrInfo> remotes;
    if (options.local_addr)
        locals = co_await loop.getaddrinfo(options.local_addr->first, options.local_addr->second, options.family, SOCK_DGRAM, options.proto, options.flags);
    if (options.remote_addr)
        remotes = co_await loop.getaddrinfo(options.remote_addr->first, options.remote_addr->second, options.family, SOCK_DGRAM, options.proto, options.flags);
    if ((options.local_addr && locals.empty()) || (options.remote_addr && remotes.empty())) throw ValueError("can not get address information");
    struct Pair {
        int family;
        int proto;
        std::optional<SocketAddress> local;
        std::optional<SocketAddress> remote;
    };
    std::vector<Pair> pairs;
    if (options.local_addr && options.remote_addr) {
        for (const AddrInfo& l : locals)
            for (const AddrInfo& r : remotes)
                if (l.family == r.family) pairs.push_back({l.family, l.proto, l.address, r.address});
    } else {
        for (const AddrInfo& a : options.local_addr ? locals : remotes) {
            if (options.local_addr)
                pairs.push_back({a.family, a.proto, a.address, std::nullopt});
            else
                pairs.push_back({a.family, a.proto, std::nullopt, a.address});
        }
    }
    if (pairs.empty()) throw ValueError("can not get address information");
    std::exception_ptr last;
    for (const Pair& p : pairs) {
        try {
            Socket sock(p.family, SOCK_DGRAM, p.proto);
            if (options.reuse_port) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
            if (options.allow_broadcast) sock.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
            if (p.local) {
                try {
                    sock.bind(*p.local);
                } catch (const OSError& e) {
                    throw_bind_error(e, *p.local);
                }
            }
            if (p.remote) connect_now(sock, *p.remote);
            co_return make_endpoint(loop, factory, std::move(sock), p.remote);
        } catch (const OSError&) {
            last = std::current_exception();
        }
    }
    std::rethrow_exception(last);
}

}  // namespace asyncio::detail
