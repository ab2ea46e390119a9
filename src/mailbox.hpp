// src/mailbox.hpp: the loop's door for other threads and for signal handlers: the queue of
// call_soon_threadsafe, the signals caught for the loop, and the eventfd that wakes its poll.
// Never installed.
//
// Reference counted (atomically) apart from the loop, so that what another thread holds (a
// worker finishing a to_thread call, a signal handler) can still knock after the loop has
// closed or is gone: post() then says no, and nothing of the loop is touched
// (docs/design/threads.md).
#pragma once

#include <asyncio/detail/ready_queue.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "spin.hpp"

namespace asyncio::detail {

class HandleCore;

class Mailbox {
public:
    // Throws std::system_error if no eventfd can be made.
    Mailbox();
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // The fd the reactor polls (it reads it when woken; the mailbox owns and closes it).
    [[nodiscard]] int wake_fd() const noexcept { return fd_; }

    // Any thread: queues `h`, taking a reference to it, and wakes the loop if it is the first
    // of a batch (one eventfd write per batch, as libuv's uv_async_send). False, with nothing
    // taken, once the loop has closed. Never allocates: the queue is linked through the
    // handles (HandleCore::mailbox_next), so that a worker thread can always send its result
    // home.
    bool post(HandleCore* h) noexcept;
    // Any thread, or a signal handler: records one delivery of `sig` and wakes the loop.
    void raise_signal(int sig) noexcept;
    // Deliveries of `sig` recorded and not yet taken.
    [[nodiscard]] std::uint32_t signal_count(int sig) const noexcept {
        return signals_[static_cast<std::size_t>(sig)].load(std::memory_order_relaxed);
    }
    // Async-signal-safe.
    void wake() noexcept;

    // The loop's thread. Whether anything was posted or raised since the last take().
    [[nodiscard]] bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }
    // The loop's thread, about to sleep while a call on another thread is on its way home:
    // waits up to `limit` for a post, spinning (src/spin.hpp); posts meanwhile skip the
    // eventfd write. True if something came.
    bool spin_for_post(std::chrono::nanoseconds limit) noexcept;
    // Moves what was posted into `ready`, in order; room is made first, under the lock, so
    // that out of memory the batch stays queued for the next try (std::bad_alloc).
    void take(ReadyQueue& ready);
    // The deliveries of `sig` since the last call, reset to none.
    std::uint32_t take_signal(int sig) noexcept {
        return signals_[static_cast<std::size_t>(sig)].exchange(0, std::memory_order_acquire);
    }
    // Whether some signal was raised since the flag was last cleared (cleared here).
    bool take_any_signal() noexcept { return any_signal_.exchange(false, std::memory_order_acquire); }
    // Refuses every later post(); returns what was posted and not taken, linked through
    // mailbox_next, each with the reference post() took.
    HandleCore* close() noexcept;

    [[nodiscard]] std::size_t syscalls() const noexcept { return syscalls_.load(std::memory_order_relaxed); }

    static constexpr int max_signal = 65;  // signals_ holds 1..64 (NSIG on Linux)

private:
    ~Mailbox();

    std::atomic<std::uint32_t> refs_{1};
    int fd_ = -1;
    SpinLock mutex_;              // a few stores under it (src/spin.hpp)
    HandleCore* head_ = nullptr;  // oldest first
    HandleCore* tail_ = nullptr;
    std::size_t count_ = 0;
    bool closed_ = false;
    // release/acquire: the loop that sees `pending_` also sees what was queued or raised.
    std::atomic<bool> pending_{false};
    std::atomic<bool> any_signal_{false};
    // The loop spins in spin_for_post(): no wake-up is needed. seq_cst with pending_ (the
    // loop clears this then reads pending_; a poster sets pending_ then reads this).
    std::atomic<bool> loop_spinning_{false};
    std::atomic<std::uint32_t> signals_[max_signal] = {};
    std::atomic<std::size_t> syscalls_{0};
};

}  // namespace asyncio::detail
