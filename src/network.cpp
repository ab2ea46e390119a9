// src/network.cpp: the socket halves of create_unix_connection, create_server and
// create_unix_server (asyncio/network.hpp), as CPython's base_events.py and unix_events.py
// do them: resolve, bind every address (create_connection's are in src/connect.cpp).
#include "network_internal.hpp"
#include "stream_transport.hpp"

#include <asyncio/network.hpp>
#include <asyncio/sock_ops.hpp>
#include <asyncio/tasks.hpp>

#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>

namespace asyncio::detail {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

void throw_bind_error(const OSError& e, const SocketAddress& address) {
    throw_os_error(e.errno_value(), "error while attempting to bind on address " + address.str() + ": " + lower(e.strerror()));
}

std::shared_ptr<Transport> make_stream_transport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol) {
    return StreamTransport::create(loop, std::move(sock), std::move(protocol));
}

Coro<Socket> connect_unix(EventLoop& loop, std::string path) {
    Socket sock(AF_UNIX, SOCK_STREAM);
    co_await loop.sock_connect(sock, SocketAddress::unix_path(path));
    co_return sock;
}

Coro<std::shared_ptr<Server>> start_tcp_server(EventLoop& loop, ProtocolFactory factory, std::vector<std::string> hosts, int port, ServerOptions options) {
    if (hosts.empty()) hosts.emplace_back();  // None: every interface
    std::vector<AddrInfo> infos;
    std::set<std::pair<int, std::string>> seen;  // CPython binds each distinct address once
    for (const std::string& host : hosts) {
        std::vector<AddrInfo> got = co_await loop.getaddrinfo(host, port, options.family, SOCK_STREAM, 0, options.flags);
        for (AddrInfo& ai : got) {
            std::string key(reinterpret_cast<const char*>(ai.address.data()), ai.address.size());
            if (seen.emplace(ai.family, key).second) infos.push_back(std::move(ai));
        }
    }
    std::shared_ptr<Server> server = ServerAccess::make(loop, std::move(factory), options.backlog);
    for (const AddrInfo& ai : infos) {
        std::optional<Socket> sock;
        try {
            sock.emplace(ai.family, ai.type, ai.proto);
        } catch (const OSError&) {
            continue;  // CPython: a family this system lacks (no IPv6) is skipped
        }
        if (options.reuse_address.value_or(true)) sock->setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
        if (options.reuse_port) sock->setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
        if (options.keep_alive) sock->setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
        // IPv6 listens on IPv6 only: the IPv4 address of the same host is bound on its own.
        if (ai.family == AF_INET6) sock->setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
        try {
            sock->bind(ai.address);
        } catch (const OSError& e) {
            throw_bind_error(e, ai.address);
        }
        ServerAccess::add_socket(*server, std::move(*sock));
    }
    if (options.start_serving) {
        ServerAccess::start(*server);
        co_await sleep(0);  // CPython: one iteration so that the registrations go through
    }
    co_return server;
}

Coro<std::shared_ptr<Server>> start_socket_server(EventLoop& loop, ProtocolFactory factory, Socket sock, ServerOptions options) {
    if (sock.type() != SOCK_STREAM) throw ValueError("A Stream Socket was expected");
    sock.setblocking(false);  // as CPython's create_server
    std::shared_ptr<Server> server = ServerAccess::make(loop, std::move(factory), options.backlog);
    ServerAccess::add_socket(*server, std::move(sock));
    if (options.start_serving) {
        ServerAccess::start(*server);
        co_await sleep(0);
    }
    co_return server;
}

Coro<std::shared_ptr<Server>> start_unix_server(EventLoop& loop, ProtocolFactory factory, std::string path, UnixServerOptions options) {
    const bool abstract = !path.empty() && path.front() == '\0';
    if (!abstract) {
        // A socket file left by an earlier server is removed, as CPython does.
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
    }
    Socket sock(AF_UNIX, SOCK_STREAM);
    try {
        sock.bind(SocketAddress::unix_path(path));
    } catch (const OSError& e) {
        if (e.errno_value() == EADDRINUSE) throw_os_error(EADDRINUSE, "Address '" + path + "' is already in use");
        throw;
    }
    std::shared_ptr<Server> server = ServerAccess::make(loop, std::move(factory), options.backlog);
    if (!abstract && options.cleanup_socket) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0) ServerAccess::set_unix_path(*server, path, st.st_dev, st.st_ino);
    }
    ServerAccess::add_socket(*server, std::move(sock));
    if (options.start_serving) {
        ServerAccess::start(*server);
        co_await sleep(0);
    }
    co_return server;
}

Coro<std::shared_ptr<Server>> start_unix_socket_server(EventLoop& loop, ProtocolFactory factory, Socket sock, UnixServerOptions options) {
    if (sock.family() != AF_UNIX || sock.type() != SOCK_STREAM) throw ValueError("A UNIX Domain Stream Socket was expected");
    sock.setblocking(false);
    std::shared_ptr<Server> server = ServerAccess::make(loop, std::move(factory), options.backlog);
    if (options.cleanup_socket) {
        std::string path = sock.getsockname().path();
        struct stat st {};
        if (!path.empty() && path.front() != '\0' && ::stat(path.c_str(), &st) == 0) ServerAccess::set_unix_path(*server, path, st.st_dev, st.st_ino);
    }
    ServerAccess::add_socket(*server, std::move(sock));
    if (options.start_serving) {
        ServerAccess::start(*server);
        co_await sleep(0);
    }
    co_return server;
}

}  // namespace asyncio::detail
