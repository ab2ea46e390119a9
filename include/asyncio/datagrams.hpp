// asyncio/datagrams.hpp: UDP and Unix datagram endpoints with transports and protocols:
// loop.create_datagram_endpoint, DatagramProtocol, DatagramTransport (CPython's
// base_events.py, selector_events.py's _SelectorDatagramTransport, protocols.py). The
// coroutine style is the loop's sock_recvfrom / sock_sendto (sock_ops.hpp).
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/protocol_factory.hpp>
#include <asyncio/events.hpp>
#include <asyncio/socket.hpp>

#include <sys/socket.h>

#include <any>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace asyncio {

class DatagramTransport;

/// What a datagram endpoint tells: each datagram with its sender, and errors the socket
/// reported (a peer's ICMP "port unreachable" as ConnectionRefusedError). Each default does
/// nothing; every method runs on the loop's thread.
///
/// Python: `asyncio.DatagramProtocol`
/// Differs from CPython: not a BaseProtocol (its connection_made takes the
///   DatagramTransport); the transport owns it.
class DatagramProtocol {
public:
    virtual ~DatagramProtocol() = default;
    /// Python: `connection_made(transport)`
    virtual void connection_made(DatagramTransport& transport) { (void)transport; }
    /// A datagram arrived (possibly empty); `data` is valid during the call only.
    ///
    /// Python: `datagram_received(data, addr)`
    virtual void datagram_received(std::string_view data, const SocketAddress& addr) {
        (void)data;
        (void)addr;
    }
    /// A send or receive failed (ECONNREFUSED after sending to a port nobody listens on, a
    /// datagram too large ...); the endpoint stays open.
    ///
    /// Python: `error_received(exc)`
    virtual void error_received(std::exception_ptr exc) { (void)exc; }  // NOLINT(performance-unnecessary-value-param): by value, for overriders to keep
    /// Python: `connection_lost(exc)`
    virtual void connection_lost(std::exception_ptr exc) { (void)exc; }  // NOLINT(performance-unnecessary-value-param): by value, for overriders to keep
    /// The send buffer went over its high-water mark.
    ///
    /// Python: `pause_writing()`
    virtual void pause_writing() {}
    /// Python: `resume_writing()`
    virtual void resume_writing() {}
};

/// A datagram socket driven by the loop: `sendto` without blocking (what the kernel does
/// not take at once is queued, whole datagrams only), datagrams delivered to the protocol.
///
/// Python: `asyncio.DatagramTransport`
class DatagramTransport {
public:
    virtual ~DatagramTransport() = default;
    DatagramTransport() = default;
    DatagramTransport(const DatagramTransport&) = delete;
    DatagramTransport& operator=(const DatagramTransport&) = delete;

    /// Sends `data` to `addr`, or to the connected peer if `addr` is unset.
    ///
    /// Python: `transport.sendto(data, addr=None)`
    /// Throws: ``ValueError("Invalid address: must be None or ('127.0.0.1', 9)")`` for an
    ///   address other than the connected one; `RuntimeError` after close().
    /// Differs from CPython: after close() it raises (CPython ignores the call).
    void sendto(std::string_view data, std::optional<SocketAddress> addr = std::nullopt) { send_datagram(data, addr); }
    /// Closes after the queued datagrams are sent; connection_lost(nullptr) follows.
    ///
    /// Python: `transport.close()`
    virtual void close() = 0;
    /// Closes at once, dropping the queue.
    ///
    /// Python: `transport.abort()`
    virtual void abort() = 0;
    /// Python: `transport.is_closing()`
    [[nodiscard]] virtual bool is_closing() const noexcept = 0;
    /// Bytes queued and not yet sent (CPython counts 8 more per datagram, its header).
    ///
    /// Python: `transport.get_write_buffer_size()`
    [[nodiscard]] virtual std::size_t get_write_buffer_size() const noexcept = 0;
    /// "sockname", "peername" (SocketAddress), "socket" (Socket*), or `default_value`.
    ///
    /// Python: `transport.get_extra_info(name, default=None)`
    [[nodiscard]] std::any get_extra_info(std::string_view name, std::any default_value = {}) const {
        std::any v = extra_info(name);
        return v.has_value() ? v : std::move(default_value);
    }
    /// Python: `transport.get_protocol()`
    [[nodiscard]] virtual DatagramProtocol* get_protocol() const noexcept = 0;
    /// Python: `transport.set_write_buffer_limits(high=None, low=None)`
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt, std::optional<std::size_t> low = std::nullopt) { set_limits(high, low); }

protected:
    virtual void send_datagram(std::string_view data, const std::optional<SocketAddress>& addr) = 0;
    // One fact by name; empty if unknown.
    [[nodiscard]] virtual std::any extra_info(std::string_view name) const = 0;
    virtual void set_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) = 0;
};

/// The keyword arguments of `loop.create_datagram_endpoint`.
///
/// Python: `local_addr=None, remote_addr=None, *, family=0, proto=0, flags=0,
///   reuse_port=None, allow_broadcast=None`
struct DatagramEndpointOptions {
    std::optional<std::pair<std::string, int>> local_addr = std::nullopt;   ///< bind here
    std::optional<std::pair<std::string, int>> remote_addr = std::nullopt;  ///< connect() here
    int family = AF_UNSPEC;                                                 ///< needed when neither address is given
    int proto = 0;                                                          ///< the protocol for getaddrinfo and the socket
    int flags = 0;                                                          ///< AI_* flags for getaddrinfo
    bool reuse_port = false;                                                ///< SO_REUSEPORT
    bool allow_broadcast = false;                                           ///< SO_BROADCAST
};

/// What create_datagram_endpoint makes each protocol with, once typed.
using DatagramProtocolFactory = std::function<std::unique_ptr<DatagramProtocol>()>;

namespace detail {

// src/datagrams.cpp
Coro<std::pair<std::shared_ptr<DatagramTransport>, DatagramProtocol*>> open_datagram_endpoint(EventLoop& loop, DatagramProtocolFactory factory, DatagramEndpointOptions options);
Coro<std::pair<std::shared_ptr<DatagramTransport>, DatagramProtocol*>> open_unix_datagram_endpoint(EventLoop& loop, DatagramProtocolFactory factory, std::optional<std::string> local_path,
                                                                                                   std::optional<std::string> remote_path);
Coro<std::pair<std::shared_ptr<DatagramTransport>, DatagramProtocol*>> adopt_datagram_socket(EventLoop& loop, DatagramProtocolFactory factory, Socket sock);

}  // namespace detail

template <class F>
auto EventLoop::create_datagram_endpoint(F&& protocol_factory, const DatagramEndpointOptions& options) {
    using P = typename detail::MadeProtocol<DatagramProtocol, F>::type;
    return detail::typed_pair<P>(detail::open_datagram_endpoint(*this, detail::make_factory_of<DatagramProtocol>(std::forward<F>(protocol_factory)), options));
}

template <class F>
auto EventLoop::create_datagram_endpoint(F&& protocol_factory, Socket sock) {
    using P = typename detail::MadeProtocol<DatagramProtocol, F>::type;
    return detail::typed_pair<P>(detail::adopt_datagram_socket(*this, detail::make_factory_of<DatagramProtocol>(std::forward<F>(protocol_factory)), std::move(sock)));
}

template <class F>
// NOLINTNEXTLINE(performance-unnecessary-value-param): moved on; clang-tidy 14 misreads the dependent call
auto EventLoop::create_unix_datagram_endpoint(F&& protocol_factory, std::optional<std::string> local_path, std::optional<std::string> remote_path) {
    using P = typename detail::MadeProtocol<DatagramProtocol, F>::type;
    return detail::typed_pair<P>(detail::open_unix_datagram_endpoint(*this, detail::make_factory_of<DatagramProtocol>(std::forward<F>(protocol_factory)),
                                                                     std::move(local_path), std::move(remote_path)));
}

}  // namespace asyncio
