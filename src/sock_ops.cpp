// src/sock_ops.cpp: the loop's socket operations (asyncio/sock_ops.hpp), as CPython's
// selector_events.py does them: the system call first, and only on EAGAIN a wait for the
// fd's readiness, after which the call is tried again from the poll phase.
#include <asyncio/sock_ops.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace asyncio::detail {
namespace {

bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

}  // namespace

SockOp::SockOp(EventLoop& loop, Socket& sock, bool write) : loop_(&loop), sock_(&sock), fd_(sock.fileno()), write_(write) {
    if (sock.fileno() >= 0 && sock.getblocking()) throw ValueError("the socket must be non-blocking");
}

SockOp::SockOp(SockOp&& o) noexcept : loop_(o.loop_), sock_(o.sock_), fd_(o.fd_), error_(o.error_), write_(o.write_) {}

SockOp::~SockOp() {
    if (waiting_) LoopAccess::unwait_io(*loop_, fd_, write_);
}

bool SockOp::await_ready() {
    // A transport reads and writes this fd itself: a call here would take its bytes.
    if (fd_ >= 0 && LoopAccess::watcher_of(*loop_, fd_))
        throw RuntimeError("File descriptor " + std::to_string(fd_) + " is used by transport");
    return attempt();
}

void SockOp::await_suspend(std::coroutine_handle<> h, detail::SourceSite site) {
    TaskCore* task = TaskCore::running();
    if (!task || task->loop() != loop_) throw RuntimeError("The socket operation was awaited outside a task of its loop");
    LoopAccess::wait_io(*loop_, fd_, write_, this);
    waiting_ = true;
    task_ = task;
    task->suspend(h, this, site);
}

void SockOp::io_ready(std::uint32_t) noexcept {
    if (!attempt()) return;  // woken for nothing (another reader took it): wait on
    LoopAccess::unwait_io(*loop_, fd_, write_);
    waiting_ = false;
    task_->wake();
}

std::string SockOp::describe() const {
    return std::string(write_ ? "a socket becoming writable" : "a socket becoming readable") + " (fd " + std::to_string(fd_) + ")";
}

CancelOutcome SockOp::cancel_wait(const std::string&) {
    if (!waiting_) return CancelOutcome::too_late;
    LoopAccess::unwait_io(*loop_, fd_, write_);
    waiting_ = false;
    return CancelOutcome::cancelled;
}

void SockOp::check_result() {
    if (task_) task_->throw_if_cancelled();
    if (error_ != 0) raise_error();
}

void SockOp::raise_error() { throw_os_error(error_); }

bool SockOp::settle(ssize_t result) noexcept {
    if (result >= 0) return true;
    if (would_block(errno)) return false;
    error_ = errno;
    return true;
}

namespace {

// The string a receive fills, sized once for every try (ENOMEM if it cannot be).
bool sized(std::string& data, std::size_t n, int& error) noexcept {
    if (data.size() == n) return true;
    try {
        data.resize(n);
        return true;
    } catch (...) {
        error = ENOMEM;
        return false;
    }
}

// recvfrom(2) with the sender's address.
ssize_t receive_from(int fd, void* buf, std::size_t n, SocketAddress& from) noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ssize_t got = ::recvfrom(fd, buf, n, 0, reinterpret_cast<sockaddr*>(&ss), &len);
    if (got >= 0) from = SocketAddress(reinterpret_cast<const sockaddr*>(&ss), len);
    return got;
}

}  // namespace

bool SockRecv::attempt() noexcept {
    if (!sized(data_, n_, error_)) return true;
    ssize_t got = ::recv(fd_, data_.data(), n_, 0);
    if (!settle(got)) return false;
    data_.resize(got < 0 ? 0 : static_cast<std::size_t>(got));
    return true;
}

bool SockRecvInto::attempt() noexcept {
    ssize_t got = ::recv(fd_, buf_.data(), buf_.size(), 0);
    if (!settle(got)) return false;
    if (got >= 0) got_ = static_cast<std::size_t>(got);
    return true;
}

bool SockRecvFrom::attempt() noexcept {
    if (!sized(data_, n_, error_)) return true;
    ssize_t got = receive_from(fd_, data_.data(), n_, from_);
    if (!settle(got)) return false;
    data_.resize(got < 0 ? 0 : static_cast<std::size_t>(got));
    return true;
}

bool SockRecvFromInto::attempt() noexcept {
    ssize_t got = receive_from(fd_, buf_.data(), buf_.size(), from_);
    if (!settle(got)) return false;
    if (got >= 0) got_ = static_cast<std::size_t>(got);
    return true;
}

bool SockSendAll::attempt() noexcept {
    while (sent_ < data_.size()) {
        ssize_t n = ::send(fd_, data_.data() + sent_, data_.size() - sent_, MSG_NOSIGNAL);
        if (n < 0) return settle(n);
        sent_ += static_cast<std::size_t>(n);
    }
    return true;
}

bool SockSendTo::attempt() noexcept {
    ssize_t n = ::sendto(fd_, data_.data(), data_.size(), MSG_NOSIGNAL, to_.data(), to_.size());
    if (!settle(n)) return false;
    if (n >= 0) sent_ = static_cast<std::size_t>(n);
    return true;
}

bool SockConnect::attempt() noexcept {
    if (!started_) {
        started_ = true;
        if (::connect(fd_, to_.data(), to_.size()) == 0) return true;
        if (errno == EINPROGRESS || errno == EINTR) return false;
        error_ = errno;
        immediate_ = true;  // CPython raises connect()'s own error then, without "Connect call failed"
        return true;
    }
    // Writable: the connection is made or failed; SO_ERROR says which.
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err == EINPROGRESS || err == EINTR) return false;
    error_ = err;
    return true;
}

void SockConnect::raise_error() {
    if (immediate_) throw_os_error(error_);
    throw_os_error(error_, "Connect call failed " + to_.str());
}

bool SockAccept::attempt() noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (would_block(errno)) return false;  // (ECONNABORTED is raised, as CPython does)
        error_ = errno;
        return true;
    }
    conn_ = SocketAccess::adopt(fd, sock_->family(), sock_->type(), sock_->proto(), false);
    peer_ = SocketAddress(reinterpret_cast<const sockaddr*>(&ss), len);
    return true;
}

}  // namespace asyncio::detail
