// src/server.cpp: Server (asyncio/server.hpp), CPython's base_events.Server: listening
// sockets registered once, edge-triggered; up to `backlog` accepts per readiness event;
// EMFILE and its kin back off for a second, as CPython does, and resume.
#include "stream_transport.hpp"

#include <asyncio/server.hpp>
#include <asyncio/tasks.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace asyncio {
namespace detail {

// One listening socket of a server.
// Told of loop.close() as a watcher (while it accepts) and as a close hook (always), so that
// a server closed or never started before the loop ends lets go of it too.
class ServerListener final : public IoWatcher, public Runnable, public LoopCloseHook {
public:
    ServerListener(Server& server, Socket listening) : sock(std::move(listening)), server_(&server) {
        LoopAccess::ready(server.get_loop()).reserve();
        LoopAccess::add_close_hook(server.get_loop(), this);
    }
    ServerListener(const ServerListener&) = delete;
    ServerListener& operator=(const ServerListener&) = delete;
    ~ServerListener() {
        if (loop_alive_) {
            retry.cancel();
            stop_watching();
            LoopAccess::remove_close_hook(server_->get_loop(), this);
            LoopAccess::ready(server_->get_loop()).unreserve();
        }
    }

    void start_watching() {
        if (watching_ || !sock) return;
        LoopAccess::watch_io(server_->get_loop(), sock.fileno(), this);
        watching_ = true;
    }
    void stop_watching() noexcept {
        if (!watching_) return;
        watching_ = false;
        LoopAccess::unwatch_io(server_->get_loop(), sock.fileno());
    }
    // Queues the accept step; the server (which owns this listener) is kept alive until it
    // has run, so that dropping the last Server handle meanwhile leaves nothing dangling in
    // the ready queue.
    void schedule() noexcept {
        if (queued_ || !loop_alive_) return;
        queued_ = true;
        pin_ = server_->weak_from_this().lock();
        LoopAccess::ready(server_->get_loop()).push(this);
    }

    Socket sock;
    bool readable = false;
    TimerHandle retry;  // the back-off after EMFILE

private:
    void io_ready(std::uint32_t events) noexcept override {
        if (!(events & io_readable)) return;
        readable = true;
        schedule();
    }
    void io_loop_closed() noexcept override { watching_ = false; }
    void loop_closed() noexcept override {
        loop_alive_ = false;  // the retry timer's handle died with the loop's timers
        watching_ = false;
        queued_ = false;
        sock.close();
    }
    void run() override {
        queued_ = false;
        std::shared_ptr<Server> pin = std::move(pin_);  // may be the last: released last
        if (readable && watching_) server_->accept_from(*this);
    }
    void drop() noexcept override {
        queued_ = false;
        std::shared_ptr<Server> pin = std::move(pin_);
    }

    Server* server_;
    std::shared_ptr<Server> pin_;  // while queued
    bool watching_ = false;
    bool queued_ = false;
    bool loop_alive_ = true;
};

void ServerAccess::add_socket(Server& s, Socket sock) { s.listeners_.push_back(std::make_unique<ServerListener>(s, std::move(sock))); }

}  // namespace detail

namespace {
constexpr double accept_retry_delay = 1.0;  // CPython's constants.ACCEPT_RETRY_DELAY
}

Server::Server(EventLoop& loop, ProtocolFactory factory, int backlog) : loop_(&loop), factory_(std::move(factory)), backlog_(backlog) {}

// The listening sockets close with their listeners; a Unix socket's file is removed by
// close() only, as CPython does.
Server::~Server() = default;

std::vector<const Socket*> Server::sockets() const {
    std::vector<const Socket*> out;
    if (closed_) return out;
    for (const auto& l : listeners_)
        if (l->sock) out.push_back(&l->sock);
    return out;
}

void Server::start_listening() {
    if (serving_ || closed_) return;
    for (auto& l : listeners_) {
        if (::listen(l->sock.fileno(), backlog_) < 0) throw_os_error(errno);
        l->start_watching();
    }
    serving_ = true;
}

void Server::accept_from(detail::ServerListener& l) noexcept {
    // Up to `backlog` connections per readiness report, as CPython's _accept_connection.
    for (int i = 0; i < std::max(backlog_, 1) && serving_ && l.sock; ++i) {
        int fd = ::accept4(l.sock.fileno(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                l.readable = false;
                return;
            }
            if (err == EINTR || err == ECONNABORTED) continue;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                // Out of fds: stop accepting for a while; the connections wait in the backlog.
                loop_->call_exception_handler({"socket.accept() out of system resource", os_error(err), {}});
                l.stop_watching();
                detail::ServerListener* lp = &l;
                std::weak_ptr<Server> weak = weak_from_this();
                try {
                    l.retry = loop_->call_later(accept_retry_delay, [weak, lp] {
                        if (auto s = weak.lock(); s && s->serving_) {
                            try {
                                lp->start_watching();  // epoll reports the waiting connections again
                            } catch (...) {
                                s->loop_->call_exception_handler({"Error restarting the server's accept", std::current_exception(), {}});
                            }
                        }
                    });
                } catch (...) {
                    // No memory for the back-off timer: watch again at once rather than stop
                    // serving for good.
                    try {
                        l.start_watching();
                    } catch (...) {
                        loop_->call_exception_handler({"Error restarting the server's accept", std::current_exception(), {}});
                    }
                }
                return;
            }
            loop_->call_exception_handler({"Error on accepting a connection", os_error(err), {}});
            return;
        }
        Socket conn = detail::SocketAccess::adopt(fd, l.sock.family(), l.sock.type(), l.sock.proto(), false);
        try {
            std::unique_ptr<BaseProtocol> protocol = factory_();
            detail::StreamTransport::create(*loop_, std::move(conn), std::move(protocol), shared_from_this());
        } catch (...) {
            loop_->call_exception_handler({"Error on transport creation for incoming connection", std::current_exception(), {}});
        }
    }
    if (l.readable && serving_) l.schedule();  // more may wait: next iteration, after the others
}

void Server::attach(detail::StreamTransport* t) noexcept {
    ++active_;
    t->server_prev = nullptr;
    t->server_next = clients_;
    if (clients_) clients_->server_prev = t;
    clients_ = t;
}

void Server::detach(detail::StreamTransport* t) noexcept {
    if (t->server_prev)
        t->server_prev->server_next = t->server_next;
    else if (clients_ == t)
        clients_ = t->server_next;
    if (t->server_next) t->server_next->server_prev = t->server_prev;
    t->server_prev = t->server_next = nullptr;
    --active_;
    try {
        wake_up_if_done();
    } catch (...) {
    }
}

void Server::wake_up_if_done() {
    if (!closed_ || active_ != 0 || woken_) return;
    woken_ = true;
    if (detail::LoopAccess::closing(*loop_)) {  // loop.close(): whoever waited is gone
        waiters_.clear();
        return;
    }
    std::vector<Future<void>> waiters = std::move(waiters_);
    waiters_.clear();
    for (Future<void>& w : waiters)
        if (!w.done()) w.set_result();
}

void Server::close() {
    if (closed_) return;
    closed_ = true;
    serving_ = false;
    for (auto& l : listeners_) {
        l->retry.cancel();
        l->stop_watching();
        l->sock.close();
    }
    if (!unix_path_.empty()) {
        // 3.13's cleanup_socket: only if the file is still the socket this server made.
        struct stat st {};
        if (::stat(unix_path_.c_str(), &st) == 0 && st.st_dev == unix_device_ && st.st_ino == unix_inode_) ::unlink(unix_path_.c_str());
        unix_path_.clear();
    }
    if (serving_forever_ && !serving_forever_->done()) serving_forever_->cancel();
    wake_up_if_done();
}

void Server::close_clients() {
    for (detail::StreamTransport* t = clients_; t;) {
        detail::StreamTransport* next = t->server_next;
        t->close();
        t = next;
    }
}

void Server::abort_clients() {
    for (detail::StreamTransport* t = clients_; t;) {
        detail::StreamTransport* next = t->server_next;
        t->abort();
        t = next;
    }
}

Coro<void> Server::start_serving() {
    start_listening();
    co_await sleep(0);  // CPython: one iteration so that the registrations go through
}

Coro<void> Server::serve_forever() {
    if (serving_forever_) throw RuntimeError("server is already being awaited on serve_forever()");
    if (closed_) throw RuntimeError("server is closed");
    std::shared_ptr<Server> self = shared_from_this();
    start_listening();
    serving_forever_ = loop_->create_future<void>();
    Future<void> fut = *serving_forever_;
    std::exception_ptr cancelled;
    try {
        co_await fut;
    } catch (const CancelledError&) {
        cancelled = std::current_exception();
    }
    serving_forever_.reset();
    if (cancelled) {
        close();
        co_await wait_closed();
        std::rethrow_exception(cancelled);
    }
}

Coro<void> Server::wait_closed() {
    if (woken_) co_return;
    std::shared_ptr<Server> self = shared_from_this();
    Future<void> waiter = loop_->create_future<void>();
    waiters_.push_back(waiter);
    co_await waiter;
}

}  // namespace asyncio
