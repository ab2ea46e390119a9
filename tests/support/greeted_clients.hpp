// tests/support/greeted_clients.hpp: many clients in a child process, for the tests that hold
// 10,000 connections in one server (both ends in one process would need 20,000 fds).
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace asyncio_test {

inline constexpr int max_greeted_clients = 10000;

// How many fds this process has open (/proc/self/fd, with its own and the "." entries).
inline std::size_t open_fds() {
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

// What this process's fds are ("3 -> socket:[123]", one per line), for a failure's message.
inline std::string open_fd_list() {
    std::string out;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;
            char target[256] = {};
            const std::string link = std::string("/proc/self/fd/") + e->d_name;
            const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
            out += std::string(e->d_name) + " -> " + (n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string("?")) + "\n";
        }
        ::closedir(d);
    }
    return out;
}

// Raises this process's soft RLIMIT_NOFILE to its hard limit, if that allows `needed` fds:
// the limits before and after, to put back and to hand to the child; nullopt if too low.
inline std::optional<std::pair<rlimit, rlimit>> raise_fd_limit(rlim_t needed) {
    rlimit old{};
    ::getrlimit(RLIMIT_NOFILE, &old);
    if (old.rlim_max < needed) return std::nullopt;
    rlimit raised = old;
    raised.rlim_cur = old.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &raised);
    return std::pair<rlimit, rlimit>(old, raised);
}

// Forks a child that makes `n` (<= max_greeted_clients) blocking connections to
// 127.0.0.1:`port`, reads "hi" on each, writes "k" on `report_fd`, then waits until that
// socket says anything or closes, and exits, which closes every connection. The child
// closes `parent_fd` (the parent's end), so that the parent's close() reaches it. Exit
// codes: 0 done, 2 connect failed, 3 a connection ended early, 4 not greeted, 5 no report.
// Returns the child's pid (the parent waits for it).
inline pid_t fork_greeted_clients(std::uint16_t port, int n, const rlimit& limit, int parent_fd, int report_fd) {
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    // The child: only system calls (no allocation in the child of a threaded process).
    ::setrlimit(RLIMIT_NOFILE, &limit);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static int fds[max_greeted_clients];
    if (n > max_greeted_clients) ::_exit(2);
    ::close(parent_fd);
    ::fcntl(report_fd, F_SETFL, 0);
    for (int i = 0; i < n; ++i) {
        fds[i] = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || ::connect(fds[i], reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) ::_exit(2);
    }
    for (int i = 0; i < n; ++i) {
        char hi[2];
        std::size_t got = 0;
        while (got < 2) {
            ssize_t r = ::read(fds[i], hi + got, 2 - got);
            if (r <= 0) ::_exit(3);
            got += static_cast<std::size_t>(r);
        }
        if (hi[0] != 'h' || hi[1] != 'i') ::_exit(4);
    }
    if (::write(report_fd, "k", 1) != 1) ::_exit(5);
    char c;
    (void)::read(report_fd, &c, 1);
    ::_exit(0);
}

}  // namespace asyncio_test
