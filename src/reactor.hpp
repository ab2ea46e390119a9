// src/reactor.hpp: the private interface between the loop and an I/O backend (epoll now,
// io_uring later, chosen at run time). Never installed.
#pragma once

#include <asyncio/detail/io_watcher.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace asyncio::detail {

// io_readable, io_writable: asyncio/detail/io_watcher.hpp.
// Interest flag for watch(): edge-triggered (an IoWatcher) instead of level-triggered (the
// add_reader/add_writer callbacks, as CPython's selectors).
inline constexpr std::uint32_t io_edge = 4;

struct IoEvent {
    int fd;
    std::uint32_t events;  // io_readable | io_writable; errors and hang-ups report both
};

class Reactor {
public:
    virtual ~Reactor() = default;
    // Changes the interest set of `fd` from `old_events` to `new_events` (0: forget it);
    // io_edge in new_events asks for edge-triggered reports.
    // Throws std::system_error when the kernel refuses.
    virtual void watch(int fd, std::uint32_t old_events, std::uint32_t new_events) = 0;
    // Waits up to `timeout_ms` (-1: forever, 0: not at all) and appends the ready fds. A
    // write to the wake fd (Mailbox::wake) ends the wait early and is not reported.
    virtual void poll(int timeout_ms, std::vector<IoEvent>& out) = 0;
    // System calls made so far, for the syscall-budget tests.
    [[nodiscard]] virtual std::size_t syscalls() const noexcept = 0;
};

// `wakefd`: the loop's mailbox eventfd (src/mailbox.hpp), polled, read, never closed here.
std::unique_ptr<Reactor> make_epoll_reactor(int wakefd);

}  // namespace asyncio::detail
