// src/unix_events.cpp: add_signal_handler and remove_signal_handler (CPython's
// unix_events.py). A process-wide table says which loop's mailbox each signal goes to; the
// C handler only records the delivery there and wakes the loop (async-signal-safe), and the
// loop runs the callback as a normal callback in its next iteration.
#include <asyncio/events.hpp>

#include "loop_internal.hpp"

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstring>
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

extern "C" void on_signal(int sig) {
    g_in_handler.fetch_add(1, std::memory_order_seq_cst);
    if (sig > 0 && sig < Mailbox::max_signal) {
        if (Mailbox* mb = g_signal_mailbox[sig].load(std::memory_order_seq_cst)) mb->raise_signal(sig);
    }
    g_in_handler.fetch_sub(1, std::memory_order_seq_cst);
}

// Puts `previous` back and waits until no C handler can still be using the mailbox.
void unroute(int sig, const struct sigaction& previous) noexcept {
    ::sigaction(sig, &previous, nullptr);
    g_signal_mailbox[sig].store(nullptr, std::memory_order_seq_cst);
    while (g_in_handler.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

}  // namespace
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
    if (detail::g_signal_mailbox[sig].load() != nullptr)
        throw RuntimeError("sig " + std::to_string(sig) + " is handled by another event loop");
    auto entry = table.emplace(sig, detail::LoopIo::SignalEntry{nullptr, {}}).first;  // std::bad_alloc first
    struct sigaction sa {};
    sa.sa_handler = detail::on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // CPython's siginterrupt(sig, False)
    detail::g_signal_mailbox[sig].store(mine, std::memory_order_seq_cst);
    if (::sigaction(sig, &sa, &entry->second.previous) != 0) {
        int err = errno;
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

// Each delivery since the last iteration runs the callback once (CPython writes one byte per
// signal to its wake-up fd and queues the handle for each). SIGINT with no handler of ours
// is the Runner's Ctrl-C (interrupt_from_signal), handled at the start of run_once.
void EventLoop::dispatch_signals() {
    detail::Mailbox& mb = *io_->mailbox;
    for (auto& [sig, entry] : io_->signals) {
        for (std::uint32_t n = mb.take_signal(sig); n > 0; --n) {
            ready_.push_loose(entry.handle);  // std::bad_alloc: the rest of the deliveries are lost
            entry.handle->add_ref();
        }
    }
}

}  // namespace asyncio
