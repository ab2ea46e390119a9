// asyncio/detail/io_watcher.hpp: the loop's door for I/O objects (transports, streams,
// pipes): an object registered once for an fd and told of its readiness, edge-triggered, so
// that each I/O type is a file of its own and the loop needs no edit for it.
#pragma once

#include <cstdint>

namespace asyncio::detail {

inline constexpr std::uint32_t io_readable = 1;
inline constexpr std::uint32_t io_writable = 2;

// Registered with LoopAccess::watch_io(loop, fd, watcher); told of readiness until
// LoopAccess::unwatch_io(loop, fd). Edge-triggered: after a call with io_readable, the
// watcher reads until the kernel says EAGAIN, and is called again only once new data
// arrives (the same for io_writable). An error or a hang-up reports both bits.
//
// io_ready() runs in the loop's poll phase, before this iteration's ready callbacks, and
// must not run user code there: it schedules it (wakes a task, pushes a Runnable). It may
// unwatch any fd, its own included; it must not throw.
struct IoWatcher {
    virtual void io_ready(std::uint32_t events) noexcept = 0;

protected:
    ~IoWatcher() = default;
};

}  // namespace asyncio::detail
