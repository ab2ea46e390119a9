// src/resolve.cpp: loop.getaddrinfo and loop.getnameinfo. CPython runs both on the default
// executor, always; here a numeric address (which needs no lookup) is answered at once,
// and only names go to a thread.
#include <asyncio/coroutines.hpp>
#include <asyncio/events.hpp>
#include <asyncio/futures.hpp>
#include <asyncio/socket.hpp>
#include <asyncio/threads.hpp>

#include <netdb.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

namespace asyncio {
namespace {

// getaddrinfo(3), its answers appended to `out`; 0 or the EAI_ code (EAI_NONAME when
// `flags` asked for numeric answers and the host or port is a name). `sys_errno`: errno of
// an EAI_SYSTEM failure.
int resolve(const std::string& host, const std::string& port, int family, int type, int proto, int flags, std::vector<AddrInfo>& out,
            int& sys_errno) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = type;
    hints.ai_protocol = proto;
    hints.ai_flags = flags;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.empty() ? nullptr : port.c_str(), &hints, &res);
    sys_errno = errno;
    if (rc != 0) return rc;
    try {
        for (addrinfo* ai = res; ai; ai = ai->ai_next)
            out.push_back({ai->ai_family, ai->ai_socktype, ai->ai_protocol, ai->ai_canonname ? ai->ai_canonname : "", SocketAddress(ai->ai_addr, ai->ai_addrlen)});
    } catch (...) {
        ::freeaddrinfo(res);
        throw;
    }
    ::freeaddrinfo(res);
    return 0;
}

// CPython's errors: socket.gaierror, or the OSError behind EAI_SYSTEM.
[[noreturn]] void throw_gai(int rc, int sys_errno) {
    if (rc == EAI_SYSTEM && sys_errno != 0) throw_os_error(sys_errno);
    throw GaiError(rc, ::gai_strerror(rc));
}

bool numeric_port(const std::string& port) {
    for (char c : port)
        if (c < '0' || c > '9') return false;
    return true;
}

// The lookup as a call of the default executor. The call owns its arguments: a cancelled
// await leaves it to finish on its own. Made here, outside the coroutine: built inside the
// coroutine's co_await expression with g++ 12, the lambda's strings were found copied
// bitwise (valgrind: an invalid free of a short string's inline buffer).
Future<std::vector<AddrInfo>> lookup_on_executor(EventLoop& loop, std::string host, std::string port, int family, int type, int proto, int flags) {
    return loop.run_in_executor(nullptr, [host = std::move(host), port = std::move(port), family, type, proto, flags] {
        std::vector<AddrInfo> found;
        int err = 0;
        int rc = resolve(host, port, family, type, proto, flags, found, err);
        if (rc != 0) throw_gai(rc, err);
        return found;
    });
}

}  // namespace

Coro<std::vector<AddrInfo>> EventLoop::getaddrinfo(std::string host, std::string port, int family, int type, int proto, int flags) {
    std::vector<AddrInfo> out;
    int sys_errno = 0;
    if (numeric_port(port)) {
        int rc = resolve(host, port, family, type, proto, flags | AI_NUMERICHOST | AI_NUMERICSERV, out, sys_errno);
        if (rc == 0) co_return out;
        if (rc != EAI_NONAME || (flags & AI_NUMERICHOST)) throw_gai(rc, sys_errno);
    }
    // A name: the lookup may block (DNS, NSS), so it runs on the default executor.
    co_return co_await lookup_on_executor(*this, std::move(host), std::move(port), family, type, proto, flags);
}

Coro<std::vector<AddrInfo>> EventLoop::getaddrinfo(std::string host, int port, int family, int type, int proto, int flags) {
    return getaddrinfo(std::move(host), std::to_string(port), family, type, proto, flags);
}

Coro<std::pair<std::string, std::string>> EventLoop::getnameinfo(const SocketAddress& address, int flags) {
    auto lookup = [address, flags]() -> std::pair<std::string, std::string> {
        char host[NI_MAXHOST];
        char serv[NI_MAXSERV];
        int rc = ::getnameinfo(address.data(), address.size(), host, sizeof host, serv, sizeof serv, flags);
        if (rc != 0) throw_gai(rc, errno);
        return {host, serv};
    };
    if ((flags & NI_NUMERICHOST) && (flags & NI_NUMERICSERV)) co_return lookup();
    co_return co_await run_in_executor(nullptr, lookup);
}

}  // namespace asyncio
