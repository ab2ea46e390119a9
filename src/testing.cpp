// src/testing.cpp: asyncio::testing, the virtual-clock loop and the loop probes for tests.
#include <asyncio/testing.hpp>

namespace asyncio::testing {

std::unique_ptr<EventLoop> new_event_loop() {
    auto loop = std::make_unique<EventLoop>();
    detail::LoopAccess::set_virtual_time(*loop);
    return loop;
}

std::size_t scheduled_timers(EventLoop& loop) noexcept { return detail::LoopAccess::timers(loop).size(); }
std::size_t registered_fds(EventLoop& loop) noexcept { return detail::LoopAccess::registered_fds(loop); }
std::size_t reactor_syscalls(EventLoop& loop) noexcept { return detail::LoopAccess::reactor_syscalls(loop); }

}  // namespace asyncio::testing
