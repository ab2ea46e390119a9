// asyncio/socket.hpp: Socket, an owning non-blocking socket (CPython's `socket.socket` as
// asyncio uses it), SocketAddress (the address tuples of Python's socket module), AddrInfo
// (one answer of getaddrinfo) and socketpair(). The loop's coroutine operations on sockets
// (sock_recv, sock_accept ...) are in asyncio/sock_ops.hpp; name resolution is
// loop.getaddrinfo (events.hpp, src/resolve.cpp).
#pragma once

#include <asyncio/exceptions.hpp>

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace asyncio {

class Socket;
namespace detail {
struct SocketAccess;
}

/// A socket address: an IPv4 or IPv6 address and port, or a Unix socket's path (an abstract
/// one if it starts with a NUL byte), or nothing (`family() == AF_UNSPEC`).
///
/// Python: the address tuples of the socket module: ``('127.0.0.1', 8888)``,
///   ``('::1', 8888, flowinfo, scope_id)``, or a path string.
/// Differs from CPython: a value type instead of a tuple; `str()` gives the tuple's repr.
class SocketAddress {
public:
    /// No address (AF_UNSPEC).
    SocketAddress() noexcept;
    /// Copies `len` bytes of `sa` (at most sizeof(sockaddr_storage)).
    SocketAddress(const sockaddr* sa, socklen_t len) noexcept;
    /// `host` a numeric IPv4 or IPv6 address (a link-local one with its scope after a percent
    /// sign) and `port`, as Python's (host, port) tuple. Throws `GaiError` (EAI_NONAME) if
    /// `host` is not numeric: names are resolved with `loop.getaddrinfo`.
    static SocketAddress inet(std::string_view host, std::uint16_t port);
    /// A Unix socket's path; an abstract address if it starts with '\0'. Throws `ValueError`
    /// if it is too long for sockaddr_un ("AF_UNIX path too long", as CPython's OSError).
    static SocketAddress unix_path(std::string_view path);

    /// AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC.
    [[nodiscard]] int family() const noexcept { return storage_.ss_family; }
    /// The numeric host ("127.0.0.1", "::1"); empty for other families.
    [[nodiscard]] std::string host() const;
    /// The port; 0 for other families.
    [[nodiscard]] std::uint16_t port() const noexcept;
    /// A Unix socket's path (abstract ones start with '\0'); empty for other families.
    [[nodiscard]] std::string path() const;
    /// Python's repr of the address: "('127.0.0.1', 8888)", "('::1', 8888, 0, 0)",
    /// "'/tmp/sock'", "None".
    [[nodiscard]] std::string str() const;

    /// The raw address, for system calls.
    [[nodiscard]] const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    /// Its length in bytes.
    [[nodiscard]] socklen_t size() const noexcept { return len_; }

    /// Same family, bytes and length.
    friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

private:
    sockaddr_storage storage_;
    socklen_t len_ = 0;
};

/// An owning socket, closed when destroyed. Made non-blocking and close-on-exec, ready for
/// the loop's operations.
///
/// Python: `socket.socket(family, type, proto)` followed by `sock.setblocking(False)`
/// Differs from CPython: non-blocking from the start (CPython's socket blocks until
///   `setblocking(False)`, and asyncio then requires it); move-only; the loop's operations
///   raise ValueError on a blocking one always, where CPython checks only in debug mode.
class Socket {
public:
    /// No socket: `fileno() == -1`.
    Socket() noexcept = default;
    /// A new socket. Throws `OSError` (EAFNOSUPPORT, EMFILE, ...).
    ///
    /// Python: `socket.socket(family, type, proto)`
    Socket(int family, int type, int proto = 0);
    /// Takes ownership of an open socket `fd` (it is closed with this object); reads its
    /// family, type, protocol and blocking flag from the system. Throws `OSError` if `fd` is
    /// not a socket.
    ///
    /// Python: `socket.socket(fileno=fd)`
    static Socket from_fd(int fd);
    /// Moves the socket; `other` is left with none.
    Socket(Socket&& other) noexcept;
    /// Closes this socket and takes `other`'s.
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    /// Closes the socket (errors are ignored, as CPython's finalizer does).
    ~Socket();

    /// The file descriptor, or -1 once closed or detached.
    ///
    /// Python: `sock.fileno()`
    [[nodiscard]] int fileno() const noexcept { return fd_; }
    /// Python: `sock.family`
    [[nodiscard]] int family() const noexcept { return family_; }
    /// SOCK_STREAM, SOCK_DGRAM ... (without SOCK_NONBLOCK or SOCK_CLOEXEC).
    ///
    /// Python: `sock.type`
    [[nodiscard]] int type() const noexcept { return type_; }
    /// Python: `sock.proto`
    [[nodiscard]] int proto() const noexcept { return proto_; }
    /// Closes the socket now; a second call does nothing.
    ///
    /// Python: `sock.close()`
    void close() noexcept;
    /// Gives up the fd without closing it: the caller owns it; `fileno()` is -1 after.
    ///
    /// Python: `sock.detach()`
    [[nodiscard]] int detach() noexcept;

    /// Python: `sock.bind(address)`. Throws `OSError` (EADDRINUSE ...).
    void bind(const SocketAddress& address) const;
    /// Python: `sock.listen(backlog)`
    void listen(int backlog = 128) const;
    /// Python: `sock.getsockname()`
    [[nodiscard]] SocketAddress getsockname() const;
    /// Python: `sock.getpeername()`. Throws `OSError` (ENOTCONN).
    [[nodiscard]] SocketAddress getpeername() const;
    /// An integer option. Python: `sock.setsockopt(level, optname, value)`
    void setsockopt(int level, int optname, int value) const;
    /// An integer option. Python: `sock.getsockopt(level, optname)`
    [[nodiscard]] int getsockopt(int level, int optname) const;
    /// Python: `sock.setblocking(flag)`
    void setblocking(bool flag);
    /// Python: `sock.getblocking()`
    [[nodiscard]] bool getblocking() const noexcept { return blocking_; }
    /// Shuts down one or both halves (SHUT_RD, SHUT_WR, SHUT_RDWR).
    ///
    /// Python: `sock.shutdown(how)`
    void shutdown(int how) const;

    /// A socket is true while it holds an fd.
    explicit operator bool() const noexcept { return fd_ >= 0; }

private:
    Socket(int fd, int family, int type, int proto, bool blocking) noexcept
        : fd_(fd), family_(family), type_(type), proto_(proto), blocking_(blocking) {}
    friend std::pair<Socket, Socket> socketpair(int, int, int);
    friend struct detail::SocketAccess;

    int fd_ = -1;
    int family_ = AF_UNSPEC;
    int type_ = 0;
    int proto_ = 0;
    bool blocking_ = false;
};

/// A pair of connected sockets, non-blocking.
///
/// Python: `socket.socketpair(family=AF_UNIX, type=SOCK_STREAM, proto=0)`
[[nodiscard]] std::pair<Socket, Socket> socketpair(int family = AF_UNIX, int type = SOCK_STREAM, int proto = 0);

/// One answer of `getaddrinfo`: what to create a socket with, and the address.
///
/// Python: the 5-tuple `(family, type, proto, canonname, sockaddr)`
struct AddrInfo {
    int family = AF_UNSPEC;  ///< AF_INET, AF_INET6 ...
    int type = 0;            ///< SOCK_STREAM, SOCK_DGRAM ...
    int proto = 0;           ///< IPPROTO_TCP ...
    std::string canonname;   ///< the canonical name, with AI_CANONNAME, in the first answer
    SocketAddress address;   ///< where to connect or bind
};

namespace detail {
// The library's way to build a Socket around an fd it got from the system (accept4).
struct SocketAccess {
    static Socket adopt(int fd, int family, int type, int proto, bool blocking) noexcept { return {fd, family, type, proto, blocking}; }
};
}  // namespace detail

}  // namespace asyncio
