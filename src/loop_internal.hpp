// src/loop_internal.hpp: helpers shared by the loop's translation units. Never installed.
#pragma once

#include <asyncio/events.hpp>

#include "mailbox.hpp"
#include "reactor.hpp"

#include <signal.h>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace asyncio::detail {

// What the loop knows of one fd: the add_reader/add_writer callbacks and the one-shot waits
// of the socket operations (sock_recv ..., LoopAccess::wait_io), level-triggered, at most one
// of them in each direction; or one IoWatcher (a transport: edge-triggered, both directions),
// alone.
struct FdEntry {
    HandleCore* reader = nullptr;
    HandleCore* writer = nullptr;
    IoWatcher* watcher = nullptr;
    IoWatcher* read_waiter = nullptr;
    IoWatcher* write_waiter = nullptr;
    [[nodiscard]] std::uint32_t events() const noexcept {
        if (watcher) return io_readable | io_writable | io_edge;
        return (reader || read_waiter ? io_readable : 0u) | (writer || write_waiter ? io_writable : 0u);
    }
};

struct LoopIo {
    // What other threads and signal handlers reach (call_soon_threadsafe, results of worker
    // threads, signals): it outlives the loop while they hold it.
    Ref<Mailbox> mailbox{new Mailbox, adopt_ref};
    std::unique_ptr<Reactor> reactor = make_epoll_reactor(mailbox->wake_fd());
    std::vector<FdEntry> fds;  // indexed by fd
    std::size_t registered = 0;
    std::vector<IoEvent> events;
    // Transports with small writes to send at the end of this iteration (IoFlusher).
    IoFlusher* flush_head = nullptr;
    IoFlusher* flush_tail = nullptr;
    LoopCloseHook* close_hooks = nullptr;          // LoopAccess::add_close_hook
    std::vector<std::shared_ptr<void>> graveyard;  // close(): dropped after every watcher was told
    unsigned spin_skip = 0;                        // run_once: chances to spin for a thread's answer left to skip
    // add_signal_handler: the callback of each signal handled, and the disposition it had
    // before (src/unix_events.cpp).
    struct SignalEntry {
        HandleCore* handle;
        struct sigaction previous;
    };
    std::map<int, SignalEntry> signals;
};

// The Runner's Ctrl-C (src/unix_events.cpp): SIGINT to `loop` as its interrupt (on_interrupt_),
// if this is the main thread, SIGINT has its default action and no loop handles it; false
// otherwise. interrupt_pending: a SIGINT came that no loop iteration picked up (the route
// holds the mailbox, so this works after the loop is gone). unroute_interrupt puts SIG_DFL
// back if the handler is still ours.
bool route_interrupt(EventLoop& loop) noexcept;
bool interrupt_pending() noexcept;
void unroute_interrupt() noexcept;

// DeadlockError's text: the loop cannot wake, and what each pending task waits on
// (src/debug.cpp).
std::string deadlock_report(EventLoop& loop);

// Every EventLoop alive in the process, newest first (EventLoop::next_loop_): what a
// debugger reads to find the loops of a stopped process or a core dump
// (tools/gdb/asyncio.py looks it up by this name). Locked by loops made or destroyed.
struct LoopRegistry {
    std::mutex mutex;
    EventLoop* head = nullptr;
};
extern LoopRegistry loop_registry;

// What the default exception handler prints, usable without a loop.
void print_exception_context(const ExceptionContext& context) noexcept;

}  // namespace asyncio::detail
