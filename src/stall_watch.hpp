// src/stall_watch.hpp: what a stall detector (debug::StallDetector, src/stall_detector.cpp)
// and the loop it watches share. The loop counts its steps (one relaxed store each, in
// EventLoop::run_step_watched) and says when it waits in the poll; the watchdog thread
// looks once a threshold period: the same count, not waiting, means one step has run for
// at least that long.
#pragma once

#include <atomic>
#include <cstdint>

namespace asyncio::detail {

struct StallWatch {
    std::atomic<std::uint64_t> steps{0};  // steps begun
    std::atomic<bool> idle{false};        // the loop waits in its poll
    std::atomic<bool> reported{false};    // the step running now was reported as a stall
    std::uint64_t steps_begun = 0;        // the loop thread's copy of `steps`

    // Loop thread, before each step.
    void step_begins() noexcept { steps.store(++steps_begun, std::memory_order_relaxed); }
};

// The loop thread, after a step that was reported (reported is set): says how it ended.
void stall_step_ended(StallWatch& w) noexcept;

}  // namespace asyncio::detail
