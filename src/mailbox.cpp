// src/mailbox.cpp: the loop's door for other threads and signal handlers (mailbox.hpp).
#include "mailbox.hpp"
#include "spin.hpp"

#include <asyncio/events.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace asyncio::detail {

Mailbox::Mailbox() {
    fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Mailbox::~Mailbox() { ::close(fd_); }

bool Mailbox::post(HandleCore* h) noexcept {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    bool was_empty = head_ == nullptr;
    h->mailbox_next = nullptr;
    if (tail_)
        tail_->mailbox_next = h;
    else
        head_ = h;
    tail_ = h;
    ++count_;
    h->add_ref();
    pending_.store(true, std::memory_order_seq_cst);
    // One wake-up per batch: the loop empties the whole queue when it wakes; none while it
    // spins for this very post.
    if (was_empty && !loop_spinning_.load(std::memory_order_seq_cst)) wake();
    return true;
}

bool Mailbox::spin_for_post(std::chrono::nanoseconds limit) noexcept {
    loop_spinning_.store(true, std::memory_order_seq_cst);
    spin_until([this] { return pending_.load(std::memory_order_acquire); }, limit);
    loop_spinning_.store(false, std::memory_order_seq_cst);
    return pending_.load(std::memory_order_seq_cst);
}

void Mailbox::raise_signal(int sig) noexcept {
    if (sig <= 0 || sig >= max_signal) return;
    signals_[static_cast<std::size_t>(sig)].fetch_add(1, std::memory_order_relaxed);
    any_signal_.store(true, std::memory_order_release);
    pending_.store(true, std::memory_order_release);
    wake();
}

void Mailbox::wake() noexcept {
    int saved = errno;  // a signal handler must leave errno as it found it
    std::uint64_t one = 1;
    syscalls_.fetch_add(1, std::memory_order_relaxed);
    [[maybe_unused]] auto r = ::write(fd_, &one, sizeof one);
    errno = saved;
}

void Mailbox::take(ReadyQueue& ready) {
    HandleCore* batch;
    {
        std::lock_guard lock(mutex_);
        ready.make_room(count_);
        batch = std::exchange(head_, nullptr);
        tail_ = nullptr;
        count_ = 0;
        pending_.store(false, std::memory_order_relaxed);
    }
    while (batch) {
        HandleCore* next = batch->mailbox_next;
        ready.push_loose(batch);  // with the reference post() took
        batch = next;
    }
}

HandleCore* Mailbox::close() noexcept {
    std::lock_guard lock(mutex_);
    closed_ = true;
    tail_ = nullptr;
    count_ = 0;
    return std::exchange(head_, nullptr);
}

}  // namespace asyncio::detail
