// asyncio/sock_ops.hpp: the loop's coroutine operations on non-blocking sockets
// (CPython's loop.sock_recv, sock_recv_into, sock_recvfrom, sock_recvfrom_into,
// sock_sendall, sock_sendto, sock_connect, sock_accept). Each is an awaiter that tries its
// system call when awaited and, only if the kernel says EAGAIN, waits for the fd's
// readiness and tries again; cancelling it unregisters the fd at once.
#pragma once

#include <asyncio/detail/io_watcher.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/detail/waiter.hpp>
#include <asyncio/events.hpp>
#include <asyncio/socket.hpp>

#include <sys/types.h>

#include <coroutine>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace asyncio::detail {

// One socket operation that may have to wait for readiness: the suspension protocol of
// detail/waiter.hpp over a one-shot interest in one direction of the fd (LoopAccess::wait_io).
// A subclass gives attempt(), the system call.
class SockOp : public Waiter, public IoWatcher {
public:
    SockOp(EventLoop& loop, Socket& sock, bool write);
    // Movable until awaited (create_task and gather move what they are given).
    SockOp(SockOp&& o) noexcept;
    SockOp& operator=(SockOp&&) = delete;

    // Tries once: ready if the call finished (or failed) without waiting.
    bool await_ready();
    void await_suspend(std::coroutine_handle<> h, detail::SourceSite site = ASYNCIO_SOURCE_SITE);
    CancelOutcome cancel_wait(const std::string& msg) override;
    [[nodiscard]] std::string describe() const override;
    void io_ready(std::uint32_t events) noexcept override;

protected:
    ~SockOp();  // unregisters a wait still pending (the frame destroyed by loop.close())
    // One try of the system call: true when finished (error_ set if it failed), false if the
    // fd is not ready (EAGAIN, EINTR).
    virtual bool attempt() noexcept = 0;
    // One system call's result: true when finished (error_ set from errno if it failed),
    // false if the fd is not ready (EAGAIN, EINTR).
    bool settle(ssize_t result) noexcept;
    // await_resume's first half: CancelledError if cancelled, the call's OSError if it failed.
    void check_result();
    // The OSError for error_ (subclasses with their own message override it).
    [[noreturn]] virtual void raise_error();

    EventLoop* loop_;
    Socket* sock_;
    int fd_;
    int error_ = 0;

private:
    TaskCore* task_ = nullptr;
    bool write_;
    bool waiting_ = false;
};

// loop.sock_recv: up to `n` bytes; empty at EOF.
class SockRecv final : public SockOp {
public:
    SockRecv(EventLoop& loop, Socket& sock, std::size_t n) : SockOp(loop, sock, false), n_(n) {}
    std::string await_resume() {
        check_result();
        return std::move(data_);
    }

private:
    bool attempt() noexcept override;
    std::size_t n_;
    std::string data_;
};

// loop.sock_recv_into: into `buf`; the count read, 0 at EOF.
class SockRecvInto final : public SockOp {
public:
    SockRecvInto(EventLoop& loop, Socket& sock, std::span<std::byte> buf) : SockOp(loop, sock, false), buf_(buf) {}
    std::size_t await_resume() {
        check_result();
        return got_;
    }

private:
    bool attempt() noexcept override;
    std::span<std::byte> buf_;
    std::size_t got_ = 0;
};

// loop.sock_recvfrom: a datagram of at most `n` bytes and its sender.
class SockRecvFrom final : public SockOp {
public:
    SockRecvFrom(EventLoop& loop, Socket& sock, std::size_t n) : SockOp(loop, sock, false), n_(n) {}
    std::pair<std::string, SocketAddress> await_resume() {
        check_result();
        return {std::move(data_), from_};
    }

private:
    bool attempt() noexcept override;
    std::size_t n_;
    std::string data_;
    SocketAddress from_;
};

// loop.sock_recvfrom_into: a datagram into `buf` (at most `n` bytes of it, 0: all), its
// size and its sender.
class SockRecvFromInto final : public SockOp {
public:
    SockRecvFromInto(EventLoop& loop, Socket& sock, std::span<std::byte> buf) : SockOp(loop, sock, false), buf_(buf) {}
    std::pair<std::size_t, SocketAddress> await_resume() {
        check_result();
        return {got_, from_};
    }

private:
    bool attempt() noexcept override;
    std::span<std::byte> buf_;
    std::size_t got_ = 0;
    SocketAddress from_;
};

// loop.sock_sendall: every byte of `data`, in as many sends as it takes.
class SockSendAll final : public SockOp {
public:
    SockSendAll(EventLoop& loop, Socket& sock, std::string_view data) : SockOp(loop, sock, true), data_(data) {}
    void await_resume() { check_result(); }

private:
    bool attempt() noexcept override;
    std::string_view data_;
    std::size_t sent_ = 0;
};

// loop.sock_sendto: one datagram to `to`; the count sent.
class SockSendTo final : public SockOp {
public:
    SockSendTo(EventLoop& loop, Socket& sock, std::string_view data, const SocketAddress& to)
        : SockOp(loop, sock, true), data_(data), to_(to) {}
    std::size_t await_resume() {
        check_result();
        return sent_;
    }

private:
    bool attempt() noexcept override;
    std::string_view data_;
    SocketAddress to_;
    std::size_t sent_ = 0;
};

// loop.sock_connect: connects to `to`; waits for writability while the connection is in
// progress, then reads SO_ERROR.
class SockConnect final : public SockOp {
public:
    SockConnect(EventLoop& loop, Socket& sock, const SocketAddress& to) : SockOp(loop, sock, true), to_(to) {}
    void await_resume() { check_result(); }

private:
    bool attempt() noexcept override;
    [[noreturn]] void raise_error() override;
    SocketAddress to_;
    bool started_ = false;
    bool immediate_ = false;  // connect() itself failed
};

// loop.sock_accept: the next connection, non-blocking, and its peer's address.
class SockAccept final : public SockOp {
public:
    SockAccept(EventLoop& loop, Socket& sock) : SockOp(loop, sock, false) {}
    std::pair<Socket, SocketAddress> await_resume() {
        check_result();
        return {std::move(conn_), peer_};
    }

private:
    bool attempt() noexcept override;
    Socket conn_;
    SocketAddress peer_;
};

}  // namespace asyncio::detail

namespace asyncio {

inline detail::SockRecv EventLoop::sock_recv(Socket& sock, std::size_t nbytes) { return {*this, sock, nbytes}; }
inline detail::SockRecvInto EventLoop::sock_recv_into(Socket& sock, std::span<std::byte> buf) { return {*this, sock, buf}; }
inline detail::SockRecvFrom EventLoop::sock_recvfrom(Socket& sock, std::size_t bufsize) { return {*this, sock, bufsize}; }
inline detail::SockRecvFromInto EventLoop::sock_recvfrom_into(Socket& sock, std::span<std::byte> buf, std::size_t nbytes) {
    return {*this, sock, nbytes == 0 || nbytes >= buf.size() ? buf : buf.first(nbytes)};
}
inline detail::SockSendAll EventLoop::sock_sendall(Socket& sock, std::string_view data) { return {*this, sock, data}; }
inline detail::SockSendTo EventLoop::sock_sendto(Socket& sock, std::string_view data, const SocketAddress& address) {
    return {*this, sock, data, address};
}
inline detail::SockConnect EventLoop::sock_connect(Socket& sock, const SocketAddress& address) { return {*this, sock, address}; }
inline detail::SockAccept EventLoop::sock_accept(Socket& sock) { return {*this, sock}; }

}  // namespace asyncio
