// src/testing.cpp: asyncio::testing, the virtual-clock loop and the loop probes for tests.
#include <asyncio/tasks.hpp>
#include <asyncio/testing.hpp>

#include "child_watcher.hpp"
#include "spawn.hpp"

namespace asyncio::testing {

std::unique_ptr<EventLoop> new_event_loop() {
    auto loop = std::make_unique<EventLoop>();
    detail::LoopAccess::set_virtual_time(*loop);
    return loop;
}

Coro<void> run_until_idle() {
    EventLoop& loop = get_running_loop();
    // When this task resumes from sleep(0), anything still or newly ready (queued before it
    // in this iteration, or by what ran before it) shows in the ready queue.
    auto busy = [&loop] {
        detail::TimerQueue& timers = detail::LoopAccess::timers(loop);
        return !detail::LoopAccess::ready(loop).empty() || (!timers.empty() && timers.due(loop.time()) != nullptr);
    };
    do {
        co_await asyncio::sleep(0);
    } while (busy());
}

std::size_t scheduled_timers(EventLoop& loop) noexcept { return detail::LoopAccess::timers(loop).size(); }
std::size_t registered_fds(EventLoop& loop) noexcept { return detail::LoopAccess::registered_fds(loop); }

void set_pidfd_refused(bool refused) noexcept { detail::set_pidfd_refused(refused); }
void set_fast_spawn_refused(bool refused) noexcept { detail::set_clone_refused(refused); }
std::size_t fast_spawns() noexcept { return detail::clone_spawns(); }

std::size_t orphaned_children() noexcept { return detail::orphan_count(); }
std::size_t reactor_syscalls(EventLoop& loop) noexcept { return detail::LoopAccess::reactor_syscalls(loop); }

}  // namespace asyncio::testing
