// src/socket.cpp: Socket, SocketAddress and socketpair (asyncio/socket.hpp): thin, owning
// wrappers of the system calls, errors raised as CPython's socket module raises them.
#include <asyncio/socket.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace asyncio {
namespace {

[[noreturn]] void throw_errno() { throw_os_error(errno); }

}  // namespace

SocketAddress::SocketAddress() noexcept : storage_{} { storage_.ss_family = AF_UNSPEC; }

SocketAddress::SocketAddress(const sockaddr* sa, socklen_t len) noexcept : storage_{} {
    storage_.ss_family = AF_UNSPEC;
    if (!sa || len == 0) return;
    len_ = len > sizeof storage_ ? static_cast<socklen_t>(sizeof storage_) : len;
    std::memcpy(&storage_, sa, len_);
}

SocketAddress SocketAddress::inet(std::string_view host, std::uint16_t port) {
    std::string h(host);
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string p = std::to_string(port);
    int rc = ::getaddrinfo(h.c_str(), p.c_str(), &hints, &res);
    if (rc != 0) throw GaiError(rc, ::gai_strerror(rc));
    SocketAddress a(res->ai_addr, res->ai_addrlen);
    ::freeaddrinfo(res);
    return a;
}

SocketAddress SocketAddress::unix_path(std::string_view path) {
    sockaddr_un un{};
    if (path.size() >= sizeof un.sun_path && !(path.size() == sizeof un.sun_path && path.front() == '\0'))
        throw ValueError("AF_UNIX path too long");
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    // An abstract name has no terminating NUL: its length is exactly what was given.
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path.empty() || path.front() != '\0' ? 1 : 0));
    return {reinterpret_cast<const sockaddr*>(&un), len};
}

std::string SocketAddress::host() const {
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
    if (family() == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&storage_);
        ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
        return buf;
    }
    if (family() == AF_INET6) {
        // getnameinfo, not inet_ntop: it appends the %scope of a link-local address.
        ::getnameinfo(data(), len_, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST);
        return buf;
    }
    return {};
}

std::uint16_t SocketAddress::port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

std::string SocketAddress::path() const {
    if (family() != AF_UNIX || len_ <= offsetof(sockaddr_un, sun_path)) return {};
    const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
    std::size_t n = len_ - offsetof(sockaddr_un, sun_path);
    if (un->sun_path[0] != '\0') n = ::strnlen(un->sun_path, n);
    return {un->sun_path, n};
}

std::string SocketAddress::str() const {
    switch (family()) {
        case AF_INET:
            return "('" + host() + "', " + std::to_string(port()) + ")";
        case AF_INET6: {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
            return "('" + host() + "', " + std::to_string(port()) + ", " + std::to_string(ntohl(in6->sin6_flowinfo)) + ", " +
                   std::to_string(in6->sin6_scope_id) + ")";
        }
        case AF_UNIX: {
            std::string p = path();
            if (!p.empty() && p.front() == '\0') {  // Python shows an abstract name as bytes
                std::string out = "b'";
                for (char c : p) {
                    if (c == '\0')
                        out += "\\x00";
                    else
                        out += c;
                }
                return out + "'";
            }
            return "'" + p + "'";
        }
        default:
            return "None";
    }
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
    return a.len_ == b.len_ && a.family() == b.family() && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

Socket::Socket(int family, int type, int proto) : family_(family), type_(type), proto_(proto) {
    fd_ = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (fd_ < 0) throw_errno();
    if (proto_ == 0) {
        int v = 0;
        socklen_t len = sizeof v;
        if (::getsockopt(fd_, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0) proto_ = v;
    }
}

Socket Socket::from_fd(int fd) {
    int family = 0, type = 0, proto = 0;
    socklen_t len = sizeof family;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0) throw_errno();
    len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) throw_errno();
    len = sizeof proto;
    if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0) throw_errno();
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0) throw_errno();
    return {fd, family, type, proto, (fl & O_NONBLOCK) == 0};
}

Socket::Socket(Socket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), family_(o.family_), type_(o.type_), proto_(o.proto_), blocking_(o.blocking_) {}

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        family_ = o.family_;
        type_ = o.type_;
        proto_ = o.proto_;
        blocking_ = o.blocking_;
    }
    return *this;
}

Socket::~Socket() { close(); }

void Socket::close() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

int Socket::detach() noexcept { return std::exchange(fd_, -1); }

void Socket::bind(const SocketAddress& address) const {
    if (::bind(fd_, address.data(), address.size()) < 0) throw_errno();
}

void Socket::listen(int backlog) const {
    if (::listen(fd_, backlog) < 0) throw_errno();
}

SocketAddress Socket::getsockname() const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) < 0) throw_errno();
    return {reinterpret_cast<const sockaddr*>(&ss), len};
}

SocketAddress Socket::getpeername() const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) < 0) throw_errno();
    return {reinterpret_cast<const sockaddr*>(&ss), len};
}

void Socket::setsockopt(int level, int optname, int value) const {
    if (::setsockopt(fd_, level, optname, &value, sizeof value) < 0) throw_errno();
}

int Socket::getsockopt(int level, int optname) const {
    int v = 0;
    socklen_t len = sizeof v;
    if (::getsockopt(fd_, level, optname, &v, &len) < 0) throw_errno();
    return v;
}

void Socket::setblocking(bool flag) {
    int fl = ::fcntl(fd_, F_GETFL);
    if (fl < 0) throw_errno();
    int nfl = flag ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK);
    if (nfl != fl && ::fcntl(fd_, F_SETFL, nfl) < 0) throw_errno();
    blocking_ = flag;
}

void Socket::shutdown(int how) const {
    if (::shutdown(fd_, how) < 0) throw_errno();
}

std::pair<Socket, Socket> socketpair(int family, int type, int proto) {
    int fds[2];
    if (::socketpair(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto, fds) < 0) throw_errno();
    return {Socket(fds[0], family, type, proto, false), Socket(fds[1], family, type, proto, false)};
}

}  // namespace asyncio
