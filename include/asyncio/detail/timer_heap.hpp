// asyncio/detail/timer_heap.hpp: the loop's timers (CPython's `loop._scheduled`), an
// intrusive binary heap ordered by (deadline, insertion order) with O(log n) removal, so a
// cancelled timer leaves the heap at once instead of lingering as CPython's do.
#pragma once

#include <asyncio/detail/waiter.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace asyncio::detail {

using TimePoint = std::chrono::steady_clock::time_point;

// A Waiter too, so that a sleep (a timer that a task waits on) has a single vtable pointer:
// timers that no task waits on keep the default cancel_wait().
struct TimerNode : Waiter {
    static constexpr std::uint32_t not_queued = static_cast<std::uint32_t>(-1);

    TimePoint when{};
    std::uint64_t seq = 0;  // ties at the same deadline run in the order they were scheduled
    std::uint32_t heap_index = not_queued;  // the tail padding after it is free for subclasses

    // Called by the loop when the deadline is reached; the node is already out of the heap.
    virtual void fire() = 0;
    // Called when the loop closes with the node still queued (already out of the heap).
    virtual void on_loop_close() noexcept {}
    [[nodiscard]] bool queued() const noexcept { return heap_index != not_queued; }
    bool cancel_wait(const std::string&) override { return false; }

protected:
    ~TimerNode() = default;
};

class TimerHeap {
public:
    [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
    [[nodiscard]] TimerNode* top() const noexcept { return heap_.front(); }

    void push(TimerNode* n) {
        n->seq = next_seq_++;
        n->heap_index = static_cast<std::uint32_t>(heap_.size());
        heap_.push_back(n);
        sift_up(n->heap_index);
    }

    TimerNode* pop() noexcept {
        TimerNode* n = heap_.front();
        erase(n);
        return n;
    }

    void erase(TimerNode* n) noexcept {
        std::size_t i = n->heap_index;
        TimerNode* last = heap_.back();
        heap_.pop_back();
        n->heap_index = TimerNode::not_queued;
        if (last == n) return;
        heap_[i] = last;
        last->heap_index = static_cast<std::uint32_t>(i);
        if (i > 0 && less(last, heap_[(i - 1) / 2]))
            sift_up(i);
        else
            sift_down(i);
    }

private:
    static bool less(const TimerNode* a, const TimerNode* b) noexcept {
        return a->when < b->when || (a->when == b->when && a->seq < b->seq);
    }

    void place(std::size_t i, TimerNode* n) noexcept {
        heap_[i] = n;
        n->heap_index = static_cast<std::uint32_t>(i);
    }

    void sift_up(std::size_t i) noexcept {
        TimerNode* n = heap_[i];
        while (i > 0) {
            std::size_t parent = (i - 1) / 2;
            if (!less(n, heap_[parent])) break;
            place(i, heap_[parent]);
            i = parent;
        }
        place(i, n);
    }

    void sift_down(std::size_t i) noexcept {
        TimerNode* n = heap_[i];
        std::size_t size = heap_.size();
        for (;;) {
            std::size_t child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && less(heap_[child + 1], heap_[child])) ++child;
            if (!less(heap_[child], n)) break;
            place(i, heap_[child]);
            i = child;
        }
        place(i, n);
    }

    std::vector<TimerNode*> heap_;
    std::uint64_t next_seq_ = 0;
};

}  // namespace asyncio::detail
