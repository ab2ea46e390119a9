// src/connect.cpp: create_connection's socket half (asyncio/network.hpp), as CPython's
// base_events.py: resolve, then try the addresses one at a time, or staggered (Happy
// Eyeballs, CPython's staggered.staggered_race), and raise the errors as CPython does when
// none connects.
#include "network_internal.hpp"

#include <asyncio/locks.hpp>
#include <asyncio/network.hpp>
#include <asyncio/sock_ops.hpp>
#include <asyncio/taskgroups.hpp>
#include <asyncio/tasks.hpp>

#include <algorithm>
#include <memory>
#include <string>

namespace asyncio::detail {
namespace {

// CPython's _connect_sock: a socket for `ai`, bound to a local address of its family if
// asked, connected.
Coro<Socket> connect_one(EventLoop& loop, const AddrInfo& ai, const std::vector<AddrInfo>& local, bool bind_local) {
    Socket sock(ai.family, ai.type, ai.proto);
    if (bind_local) {
        // CPython: the last bind error if every local address of the family failed.
        bool bound = false;
        std::exception_ptr bind_error;
        for (const AddrInfo& la : local) {
            if (la.family != ai.family) continue;
            try {
                sock.bind(la.address);
                bound = true;
                break;
            } catch (const OSError& e) {
                try {
                    throw_bind_error(e, la.address);
                } catch (...) {
                    bind_error = std::current_exception();
                }
            }
        }
        if (bind_error && !bound) std::rethrow_exception(bind_error);
        if (!bound) throw OSError("no matching local address with family=" + std::to_string(ai.family) + " found");
    }
    co_await loop.sock_connect(sock, ai.address);
    co_return sock;
}

// What the attempts of one staggered race share; it lives in connect_staggered's frame,
// which outlives the group of attempts.
struct Race {
    std::optional<Socket> winner;
    std::vector<std::exception_ptr> errors;  // by attempt; null for one cancelled or not made
    std::unique_ptr<Event[]> failed;         // set when attempt i has failed
};

Coro<void> run_attempt(EventLoop& loop, const AddrInfo& ai, const std::vector<AddrInfo>& local, bool bind_local, Race& race, std::size_t i, TaskGroup& group) {
    try {
        Socket sock = co_await connect_one(loop, ai, local, bind_local);
        if (!race.winner) {
            race.winner.emplace(std::move(sock));
            group.cancel();  // the other attempts, and the body waiting to start the next
        }
        // else: two connected in one step; this one's socket closes here, as CPython's.
    } catch (const std::exception&) {  // CancelledError and KeyboardInterrupt go through
        race.errors[i] = std::current_exception();
        race.failed[i].set();
    }
}

Coro<bool> wait_event(Event& e) { co_return co_await e.wait(); }

// CPython's staggered_race over the addresses: attempt i + 1 starts when attempt i fails
// or `delay` after it started, whichever is first.
Coro<std::optional<Socket>> connect_staggered(EventLoop& loop, const std::vector<AddrInfo>& infos, const std::vector<AddrInfo>& local, bool bind_local, Delay delay,
                                              std::vector<std::exception_ptr>& errors) {
    Race race;
    race.errors.resize(infos.size());
    race.failed = std::make_unique<Event[]>(infos.size());
    co_await TaskGroup::run([&](TaskGroup& group) -> Coro<> {
        for (std::size_t i = 0; i < infos.size() && !race.winner; ++i) {
            group.create_task(run_attempt(loop, infos[i], local, bind_local, race, i, group));
            if (i + 1 == infos.size()) break;
            try {
                co_await wait_for(wait_event(race.failed[i]), delay);
            } catch (const TimeoutError&) {
            }
        }
    });
    for (auto& e : race.errors)
        if (e) errors.push_back(std::move(e));
    co_return std::move(race.winner);
}

// No address connected: CPython's rules for what is raised.
[[noreturn]] void raise_connect_errors(std::vector<std::exception_ptr> errors, bool all_errors) {
    // An error that is not an OSError (no memory, say) is raised as it is.
    for (const auto& e : errors) {
        try {
            std::rethrow_exception(e);
        } catch (const OSError&) {
        } catch (...) {
            throw;
        }
    }
    if (all_errors) throw ExceptionGroup("create_connection failed", std::move(errors));
    // CPython: one error, or all alike, is raised as it is; else they are listed.
    if (errors.size() == 1) std::rethrow_exception(errors.front());
    std::vector<std::string> texts;
    for (const auto& e : errors) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            texts.emplace_back(x.what());
        }
    }
    if (std::all_of(texts.begin(), texts.end(), [&](const std::string& t) { return t == texts.front(); })) std::rethrow_exception(errors.front());
    std::string joined;
    for (const std::string& t : texts) joined += (joined.empty() ? "" : ", ") + t;
    throw OSError("Multiple exceptions: " + joined);
}

}  // namespace

std::vector<AddrInfo> interleave_addrinfos(std::vector<AddrInfo> infos, int first_family_count) {
    std::vector<std::vector<AddrInfo>> by_family;
    for (AddrInfo& ai : infos) {
        auto it = std::find_if(by_family.begin(), by_family.end(), [&](const std::vector<AddrInfo>& g) { return g.front().family == ai.family; });
        if (it == by_family.end()) {
            by_family.emplace_back().push_back(std::move(ai));
        } else {
            it->push_back(std::move(ai));
        }
    }
    std::vector<AddrInfo> out;
    out.reserve(infos.size());
    std::vector<std::size_t> next(by_family.size(), 0);
    if (!by_family.empty() && first_family_count > 1) {
        std::size_t n = std::min(static_cast<std::size_t>(first_family_count - 1), by_family.front().size());
        for (; next.front() < n; ++next.front()) out.push_back(std::move(by_family.front()[next.front()]));
    }
    for (bool any = true; any;) {
        any = false;
        for (std::size_t f = 0; f < by_family.size(); ++f) {
            if (next[f] == by_family[f].size()) continue;
            out.push_back(std::move(by_family[f][next[f]++]));
            any = true;
        }
    }
    return out;
}

Coro<Socket> connect_addrinfos(EventLoop& loop, std::vector<AddrInfo> infos, std::vector<AddrInfo> local, ConnectionOptions options) {
    const int interleave = options.interleave.value_or(options.happy_eyeballs_delay ? 1 : 0);
    if (interleave != 0) infos = interleave_addrinfos(std::move(infos), interleave);
    const bool bind_local = options.local_addr.has_value();
    std::vector<std::exception_ptr> errors;
    if (options.happy_eyeballs_delay && infos.size() > 1) {
        std::optional<Socket> sock = co_await connect_staggered(loop, infos, local, bind_local, *options.happy_eyeballs_delay, errors);
        if (sock) co_return std::move(*sock);
    } else {
        for (const AddrInfo& ai : infos) {
            try {
                co_return co_await connect_one(loop, ai, local, bind_local);
            } catch (const OSError&) {
                errors.push_back(std::current_exception());
            }
        }
    }
    raise_connect_errors(std::move(errors), options.all_errors);
}

Coro<Socket> connect_tcp(EventLoop& loop, std::string host, int port, ConnectionOptions options) {
    std::vector<AddrInfo> infos = co_await loop.getaddrinfo(host, port, options.family, SOCK_STREAM, options.proto, options.flags);
    if (infos.empty()) throw OSError("getaddrinfo() returned empty list");
    std::vector<AddrInfo> local;
    if (options.local_addr) {
        local = co_await loop.getaddrinfo(options.local_addr->first, options.local_addr->second, options.family, SOCK_STREAM, options.proto, options.flags);
        if (local.empty()) throw OSError("getaddrinfo() returned empty list");
    }
    co_return co_await connect_addrinfos(loop, std::move(infos), std::move(local), std::move(options));
}

}  // namespace asyncio::detail
