// asyncio/detail/ready_queue.hpp: Runnable and the loop's FIFO ready queue (CPython's
// `loop._ready` deque), a growable ring of pointers: no allocation per push in steady state.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace asyncio::detail {

// Anything the loop can run in one step: a task's next step, a callback Handle, a done
// callback. Pushing does not transfer ownership unless the type says so in drop().
struct Runnable {
    virtual void run() = 0;
    // Called instead of run() when the loop is closed with the item still queued.
    virtual void drop() noexcept {}

protected:
    ~Runnable() = default;
};

class ReadyQueue {
public:
    ReadyQueue() = default;
    ReadyQueue(const ReadyQueue&) = delete;
    ReadyQueue& operator=(const ReadyQueue&) = delete;

    [[nodiscard]] bool empty() const noexcept { return head_ == tail_; }
    [[nodiscard]] std::size_t size() const noexcept { return tail_ - head_; }

    void push(Runnable* r) {
        if (tail_ - head_ == capacity_) grow();
        buf_[tail_++ & (capacity_ - 1)] = r;
    }

    Runnable* pop() noexcept { return buf_[head_++ & (capacity_ - 1)]; }

private:
    void grow() {
        std::size_t cap = capacity_ ? capacity_ * 2 : 256;
        auto fresh = std::make_unique<Runnable*[]>(cap);
        std::size_t n = tail_ - head_;
        for (std::size_t i = 0; i < n; ++i) fresh[i] = buf_[(head_ + i) & (capacity_ - 1)];
        buf_ = std::move(fresh);
        capacity_ = cap;
        head_ = 0;
        tail_ = n;
    }

    std::unique_ptr<Runnable*[]> buf_;
    std::size_t capacity_ = 0;  // a power of two
    std::size_t head_ = 0;      // free-running indices, masked on access
    std::size_t tail_ = 0;
};

}  // namespace asyncio::detail
