// src/unix_events.cpp: add_signal_handler and remove_signal_handler (CPython's
// unix_events.py), and the Runner's Ctrl-C on the same path. A process-wide table says which
// loop's mailbox each signal goes to; the C handler only records the delivery there and
// wakes the loop (async-signal-safe), and the loop runs the callback as a normal callback in
// its next iteration (docs/design/threads.md).
#include <asyncio/events.hpp>

#include "loop_internal.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace asyncio {
namespace detail {
namespace {

// The mailbox of the loop that handles each signal (null: none). Atomics: read by the C
// handler, on any thread.
std::atomic<Mailbox*> g_signal_mailbox[Mailbox::max_signal];
// C handlers running now, on any thread: a loop that stops handling a signal waits for them
// to finish before its mailbox may go.
std::atomic<int> g_in_handler{0};
// Adding and removing handlers, across loops and threads.
std::mutex g_signal_mutex;
// The Runner's Ctrl-C (route_interrupt): SIGINT goes to this mailbox (one reference held
// here, so that it outlives the loop) as the loop's interrupt, unless the loop has a SIGINT
// handler of its own; a second SIGINT while the first is not picked up ends the process.
Mailbox* g_interrupt_mailbox = nullptr;
std::atomic<bool> g_interrupt_active{false};

extern "C" void on_signal(int sig) {
    g_in_handler.fetch_add(1, std::memory_order_seq_cst);
    if (sig > 0 && sig < Mailbox::max_signal) {
        if (Mailbox* mb = g_signal_mailbox[sig].load(std::memory_order_seq_cst)) {
            if (sig == SIGINT && g_interrupt_active.load(std::memory_order_seq_cst) && mb->signal_count(SIGINT) > 0) {
                // The loop has not picked up the one before: it is stuck in a callback or a
                // task step, and only this can end it. End the process as an unhandled
                // SIGINT would (CPython raises KeyboardInterrupt wherever the signal lands).
                ::signal(SIGINT, SIG_DFL);
                ::raise(SIGINT);
            } else {
                mb->raise_signal(sig);
            }
        }
    }
    g_in_handler.fetch_sub(1, std::memory_order_seq_cst);
}

void wait_for_handlers() noexcept {
    while (g_in_handler.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

// Puts `previous` back and forgets the mailbox; then no C handler can still be using it.
// SIGINT under the Runner's route goes back to the route instead.
void unroute(int sig, const struct sigaction& previous) noexcept {
    ::sigaction(sig, &previous, nullptr);
    if (sig == SIGINT && g_interrupt_mailbox && g_signal_mailbox[sig].load() == g_interrupt_mailbox) {
        g_interrupt_active.store(true, std::memory_order_seq_cst);
        return;
    }
    g_signal_mailbox[sig].store(nullptr, std::memory_order_seq_cst);
    wait_for_handlers();
}

bool on_main_thread() { return ::getpid() == static_cast<pid_t>(::syscall(SYS_gettid)); }

}  // namespace

bool route_interrupt(EventLoop& loop) noexcept {
    std::lock_guard lock(g_signal_mutex);
    struct sigaction current {};
    if (g_interrupt_mailbox || !on_main_thread() || ::sigaction(SIGINT, nullptr, &current) != 0 ||
        current.sa_handler != SIG_DFL || g_signal_mailbox[SIGINT].load() != nullptr)
        return false;
    Mailbox* mb = LoopAccess::mailbox(loop);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    mb->take_signal(SIGINT);  // nothing left from an earlier run
    g_signal_mailbox[SIGINT].store(mb, std::memory_order_seq_cst);
    g_interrupt_active.store(true, std::memory_order_seq_cst);
    if (::sigaction(SIGINT, &sa, nullptr) != 0) {
        g_signal_mailbox[SIGINT].store(nullptr, std::memory_order_seq_cst);
        g_interrupt_active.store(false, std::memory_order_seq_cst);
        return false;
    }
    mb->add_ref();
    g_interrupt_mailbox = mb;
    return true;
}

bool interrupt_pending() noexcept {
    std::lock_guard lock(g_signal_mutex);
    return g_interrupt_mailbox && g_interrupt_mailbox->signal_count(SIGINT) > 0;
}

void unroute_interrupt() noexcept {
    Mailbox* mb;
    {
        std::lock_guard lock(g_signal_mutex);
        mb = std::exchange(g_interrupt_mailbox, nullptr);
        if (!mb) return;
        g_interrupt_active.store(false, std::memory_order_seq_cst);
        // As CPython, put the default back only if the handler is still ours (a loop's own
        // SIGINT handler, still installed, keeps it).
        if (g_signal_mailbox[SIGINT].load() == mb) {
            struct sigaction current {};
            if (::sigaction(SIGINT, nullptr, &current) == 0 && current.sa_handler == on_signal) ::signal(SIGINT, SIG_DFL);
            g_signal_mailbox[SIGINT].store(nullptr, std::memory_order_seq_cst);
        }
        wait_for_handlers();
    }
    mb->release();
}

}  // namespace detail

void EventLoop::check_signal(int sig) {
    if (sig < 1 || sig >= detail::Mailbox::max_signal)
        throw ValueError("sig " + std::to_string(sig) + " out of range(1, " + std::to_string(detail::Mailbox::max_signal) + ")");
}

void EventLoop::set_signal_handle(int sig, detail::HandleCore* h) {
    detail::Ref<detail::HandleCore> handle(h, detail::adopt_ref);
    auto& table = io_->signals;
    std::lock_guard lock(detail::g_signal_mutex);
    auto it = table.find(sig);
    if (it != table.end()) {  // CPython replaces the handle; the C handler stays
        it->second.handle->cancel();
        it->second.handle->release();
        it->second.handle = handle.detach();
        return;
    }
    detail::Mailbox* mine = io_->mailbox.get();
    detail::Mailbox* routed = detail::g_signal_mailbox[sig].load();
    // The Runner's Ctrl-C on this loop gives way to the loop's own SIGINT handler.
    bool over_interrupt = sig == SIGINT && routed == mine && detail::g_interrupt_mailbox == mine;
    if (routed != nullptr && !over_interrupt)
        throw RuntimeError("sig " + std::to_string(sig) + " is handled by another event loop");
    auto entry = table.emplace(sig, detail::LoopIo::SignalEntry{nullptr, {}}).first;  // std::bad_alloc first
    struct sigaction sa {};
    sa.sa_handler = detail::on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // CPython's siginterrupt(sig, False)
    if (over_interrupt) detail::g_interrupt_active.store(false, std::memory_order_seq_cst);
    detail::g_signal_mailbox[sig].store(mine, std::memory_order_seq_cst);
    if (::sigaction(sig, &sa, &entry->second.previous) != 0) {
        int err = errno;
        if (over_interrupt)
            detail::g_interrupt_active.store(true, std::memory_order_seq_cst);
        else
            detail::g_signal_mailbox[sig].store(nullptr, std::memory_order_seq_cst);
        table.erase(entry);
        if (err == EINVAL) throw RuntimeError("sig " + std::to_string(sig) + " cannot be caught");
        throw std::system_error(err, std::generic_category(), "sigaction");
    }
    entry->second.handle = handle.detach();
}

bool EventLoop::remove_signal_handler(int sig) {
    check_signal(sig);
    if (!io_) return false;
    auto& table = io_->signals;
    std::lock_guard lock(detail::g_signal_mutex);
    auto it = table.find(sig);
    if (it == table.end()) return false;
    detail::unroute(sig, it->second.previous);
    it->second.handle->cancel();  // a run already queued for this iteration must not happen
    it->second.handle->release();
    table.erase(it);
    return true;
}

void EventLoop::close_signals() noexcept {
    auto& table = io_->signals;
    std::lock_guard lock(detail::g_signal_mutex);
    for (auto& [sig, entry] : table) {
        detail::unroute(sig, entry.previous);
        entry.handle->cancel();
        entry.handle->release();
    }
    table.clear();
}

// Each delivery since the last look runs the callback once (CPython writes one byte per
// signal to its wake-up fd and queues the handle for each). A SIGINT with no handler of the
// loop's own is the Runner's Ctrl-C: on_interrupt_ runs now (it may throw
// KeyboardInterrupt out of the loop), and taking the delivery is what "picked up" means.
void EventLoop::dispatch_signals() {
    detail::Mailbox& mb = *io_->mailbox;
    for (auto& [sig, entry] : io_->signals) {
        for (std::uint32_t n = mb.take_signal(sig); n > 0; --n) {
            ready_.push_loose(entry.handle);  // std::bad_alloc: the rest of the deliveries are lost
            entry.handle->add_ref();
        }
    }
    if (!io_->signals.contains(SIGINT) && mb.signal_count(SIGINT) > 0) {
        mb.take_signal(SIGINT);
        if (on_interrupt_) on_interrupt_();
    }
}

}  // namespace asyncio
