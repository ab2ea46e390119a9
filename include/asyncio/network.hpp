// asyncio/network.hpp: the loop's stream connections and servers with transports and
// protocols: create_connection, create_unix_connection, connect_accepted_socket,
// create_server, create_unix_server (CPython's base_events.py and unix_events.py), and
// their options. The transport is asyncio/transports.hpp, the protocols
// asyncio/protocols.hpp, the server asyncio/server.hpp.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/protocol_factory.hpp>
#include <asyncio/events.hpp>
#include <asyncio/protocols.hpp>
#include <asyncio/server.hpp>
#include <asyncio/socket.hpp>
#include <asyncio/transports.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {

/// The keyword arguments of `loop.create_connection` that apply here.
///
/// Python: `family=0, proto=0, flags=0, local_addr=None, happy_eyeballs_delay=None,
///   interleave=None, all_errors=False`
struct ConnectionOptions {
    int family = AF_UNSPEC;  ///< AF_INET or AF_INET6 to resolve to that family only
    int proto = 0;           ///< the protocol for getaddrinfo
    int flags = 0;           ///< AI_* flags for getaddrinfo
    /// Bind the socket to this (host, port) before connecting.
    std::optional<std::pair<std::string, int>> local_addr = std::nullopt;
    /// Happy Eyeballs (RFC 8305): start the next address's attempt when the previous one
    /// fails or after this delay, whichever is first, with several attempts in flight; the
    /// first to connect wins and the others are cancelled. Unset: one address at a time.
    /// RFC 8305 recommends 0.25 s.
    std::optional<Delay> happy_eyeballs_delay = std::nullopt;
    /// Reorder the resolved addresses, alternating their families, with this many of the
    /// first family first; 0 keeps getaddrinfo's order. Unset: 1 with happy_eyeballs_delay,
    /// else 0.
    std::optional<int> interleave = std::nullopt;
    /// When every address fails: an ExceptionGroup("create_connection failed") of all the
    /// errors instead of one OSError (3.12).
    bool all_errors = false;
};

/// The keyword arguments of `loop.create_server`.
///
/// Python: `family=AF_UNSPEC, flags=AI_PASSIVE, backlog=100, reuse_address=None,
///   reuse_port=None, keep_alive=None, start_serving=True`
struct ServerOptions {
    int family = AF_UNSPEC;  ///< AF_INET or AF_INET6 to bind that family only
    int flags = AI_PASSIVE;  ///< AI_* flags for getaddrinfo
    int backlog = 100;       ///< listen()'s backlog, and the most accepts per readiness event
    /// SO_REUSEADDR; unset: on, as CPython on Unix.
    std::optional<bool> reuse_address = std::nullopt;
    bool reuse_port = false;    ///< SO_REUSEPORT: several servers share the port
    bool keep_alive = false;    ///< SO_KEEPALIVE on each listening socket
    bool start_serving = true;  ///< accept at once; else on start_serving() or serve_forever()
};

/// The keyword arguments of `loop.create_unix_server`.
///
/// Python: `backlog=100, start_serving=True, cleanup_socket=True` (3.13)
struct UnixServerOptions {
    int backlog = 100;          ///< as ServerOptions::backlog
    bool start_serving = true;  ///< as ServerOptions::start_serving
    /// close() removes the socket file if it is still the one the server made.
    bool cleanup_socket = true;
};

namespace detail {

// The protocol type a factory makes: P for a callable returning std::unique_ptr<P> or P.
template <class F>
using factory_protocol_t = typename PointeeOr<std::decay_t<std::invoke_result_t<std::decay_t<F>&>>>::type;

template <class F>
ProtocolFactory make_protocol_factory(F&& f) {
    using P = factory_protocol_t<F>;
    static_assert(std::is_base_of_v<BaseProtocol, P>, "the protocol factory must return a Protocol or a BufferedProtocol (or a unique_ptr to one)");
    return [f = std::decay_t<F>(std::forward<F>(f))]() mutable -> std::unique_ptr<BaseProtocol> {
        if constexpr (std::is_same_v<std::decay_t<std::invoke_result_t<std::decay_t<F>&>>, std::unique_ptr<P>>)
            return f();
        else
            return std::make_unique<P>(f());
    };
}

// The socket halves (src/connect.cpp, src/network.cpp).
Coro<Socket> connect_tcp(EventLoop& loop, std::string host, int port, ConnectionOptions options);
// connect_tcp after the resolution: `infos` tried as `options` say, bound to one of `local`
// when options.local_addr is set.
Coro<Socket> connect_addrinfos(EventLoop& loop, std::vector<AddrInfo> infos, std::vector<AddrInfo> local, ConnectionOptions options);
// CPython's _interleave_addrinfos: the addresses grouped by family in order of first
// appearance, `first_family_count` of the first family first, then one of each in turn.
std::vector<AddrInfo> interleave_addrinfos(std::vector<AddrInfo> infos, int first_family_count);
Coro<Socket> connect_unix(EventLoop& loop, std::string path);
Coro<std::shared_ptr<Server>> start_tcp_server(EventLoop& loop, ProtocolFactory factory, std::vector<std::string> hosts, int port, ServerOptions options);
Coro<std::shared_ptr<Server>> start_socket_server(EventLoop& loop, ProtocolFactory factory, Socket sock, ServerOptions options);
Coro<std::shared_ptr<Server>> start_unix_server(EventLoop& loop, ProtocolFactory factory, std::string path, UnixServerOptions options);
Coro<std::shared_ptr<Server>> start_unix_socket_server(EventLoop& loop, ProtocolFactory factory, Socket sock, UnixServerOptions options);
// A transport over `sock` driving `protocol` (connection_made already called).
std::shared_ptr<Transport> make_stream_transport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol);

template <class P>
Coro<std::pair<std::shared_ptr<Transport>, P*>> finish_connection(EventLoop& loop, Coro<Socket> connecting, ProtocolFactory factory) {
    Socket sock = co_await std::move(connecting);
    std::unique_ptr<BaseProtocol> protocol = factory();
    auto* p = static_cast<P*>(protocol.get());
    std::shared_ptr<Transport> t = make_stream_transport(loop, std::move(sock), std::move(protocol));
    co_return std::pair<std::shared_ptr<Transport>, P*>(std::move(t), p);
}

template <class P>
Coro<std::pair<std::shared_ptr<Transport>, P*>> adopt_connection(EventLoop& loop, Socket sock, ProtocolFactory factory) {
    if (sock.type() != SOCK_STREAM) throw ValueError("A Stream Socket was expected");
    sock.setblocking(false);  // as CPython's _create_connection_transport
    std::unique_ptr<BaseProtocol> protocol = factory();
    auto* p = static_cast<P*>(protocol.get());
    std::shared_ptr<Transport> t = make_stream_transport(loop, std::move(sock), std::move(protocol));
    co_return std::pair<std::shared_ptr<Transport>, P*>(std::move(t), p);
}

}  // namespace detail

template <class F>
auto EventLoop::create_connection(F&& protocol_factory, std::string host, int port, const ConnectionOptions& options) {
    using P = detail::factory_protocol_t<F>;
    return detail::finish_connection<P>(*this, detail::connect_tcp(*this, std::move(host), port, options),
                                        detail::make_protocol_factory(std::forward<F>(protocol_factory)));
}

template <class F>
auto EventLoop::create_connection(F&& protocol_factory, std::string host, int port) {
    return create_connection(std::forward<F>(protocol_factory), std::move(host), port, ConnectionOptions{});
}

template <class F>
auto EventLoop::create_connection(F&& protocol_factory, Socket sock) {
    using P = detail::factory_protocol_t<F>;
    return detail::adopt_connection<P>(*this, std::move(sock), detail::make_protocol_factory(std::forward<F>(protocol_factory)));
}

template <class F>
auto EventLoop::create_unix_connection(F&& protocol_factory, std::string path) {
    using P = detail::factory_protocol_t<F>;
    return detail::finish_connection<P>(*this, detail::connect_unix(*this, std::move(path)), detail::make_protocol_factory(std::forward<F>(protocol_factory)));
}

template <class F>
auto EventLoop::connect_accepted_socket(F&& protocol_factory, Socket sock) {
    using P = detail::factory_protocol_t<F>;
    return detail::adopt_connection<P>(*this, std::move(sock), detail::make_protocol_factory(std::forward<F>(protocol_factory)));
}

template <class F>
Coro<std::shared_ptr<Server>> EventLoop::create_server(F&& protocol_factory, std::string host, int port, const ServerOptions& options) {
    std::vector<std::string> hosts;
    hosts.push_back(std::move(host));
    return detail::start_tcp_server(*this, detail::make_protocol_factory(std::forward<F>(protocol_factory)), std::move(hosts), port, options);
}

template <class F>
Coro<std::shared_ptr<Server>> EventLoop::create_server(F&& protocol_factory, std::string host, int port) {
    return create_server(std::forward<F>(protocol_factory), std::move(host), port, ServerOptions{});
}

template <class F>
// NOLINTNEXTLINE(performance-unnecessary-value-param): moved on; clang-tidy 14 misreads the dependent call
Coro<std::shared_ptr<Server>> EventLoop::create_server(F&& protocol_factory, std::vector<std::string> hosts, int port, const ServerOptions& options) {
    return detail::start_tcp_server(*this, detail::make_protocol_factory(std::forward<F>(protocol_factory)), std::move(hosts), port, options);
}

template <class F>
Coro<std::shared_ptr<Server>> EventLoop::create_server(F&& protocol_factory, Socket sock, const ServerOptions& options) {
    return detail::start_socket_server(*this, detail::make_protocol_factory(std::forward<F>(protocol_factory)), std::move(sock), options);
}

template <class F>
// NOLINTNEXTLINE(performance-unnecessary-value-param): moved on; clang-tidy 14 misreads the dependent call
Coro<std::shared_ptr<Server>> EventLoop::create_unix_server(F&& protocol_factory, std::string path, const UnixServerOptions& options) {
    return detail::start_unix_server(*this, detail::make_protocol_factory(std::forward<F>(protocol_factory)), std::move(path), options);
}

template <class F>
Coro<std::shared_ptr<Server>> EventLoop::create_unix_server(F&& protocol_factory, Socket sock, const UnixServerOptions& options) {
    return detail::start_unix_socket_server(*this, detail::make_protocol_factory(std::forward<F>(protocol_factory)), std::move(sock), options);
}

template <class F>
Coro<std::shared_ptr<Server>> EventLoop::create_unix_server(F&& protocol_factory, std::string path) {
    return create_unix_server(std::forward<F>(protocol_factory), std::move(path), UnixServerOptions{});
}

}  // namespace asyncio
