// asyncio/detail/io_watcher.hpp: the loop's door for I/O objects (transports, streams,
// pipes): an object registered once for an fd and told of its readiness, edge-triggered, so
// that each I/O type is a file of its own and the loop needs no edit for it.
#pragma once

#include <cstdint>

namespace asyncio::detail {

inline constexpr std::uint32_t io_readable = 1;
inline constexpr std::uint32_t io_writable = 2;
// With io_readable: the peer hung up or the socket has an error (EPOLLRDHUP, EPOLLHUP,
// EPOLLERR). A reader must then read until EOF or the error: no further edge will come.
inline constexpr std::uint32_t io_hangup = 8;

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
    // loop.close() with the fd still watched: let go of the fd and of the loop (the watcher
    // must not touch the loop after this). No user callback may run.
    virtual void io_loop_closed() noexcept {}

protected:
    ~IoWatcher() = default;
};

// An object told when its loop closes, whether or not it watches an fd then (a server's
// listening socket that was closed or never started): it must let go of the loop. Linked in
// with LoopAccess::add_close_hook, out with remove_close_hook (or by close() itself).
struct LoopCloseHook {
    virtual void loop_closed() noexcept = 0;
    LoopCloseHook* hook_prev = nullptr;
    LoopCloseHook* hook_next = nullptr;
    bool hooked = false;

protected:
    ~LoopCloseHook() = default;
};

// What has bytes to send at the end of the loop iteration (a transport's small writes,
// coalesced into one system call): queued with LoopAccess::queue_flush, at most once at a
// time, and told once with io_flush() after the iteration's ready callbacks have run (or at
// the start of the next iteration, for writes made while the loop was not running). It may
// run user code there (resume_writing ...), as a ready callback would; it must not throw.
struct IoFlusher {
    virtual void io_flush() noexcept = 0;
    IoFlusher* flush_prev = nullptr;  // the queue is doubly linked: cancel_flush is O(1)
    IoFlusher* flush_next = nullptr;
    bool flush_queued = false;

protected:
    ~IoFlusher() = default;
};

}  // namespace asyncio::detail
