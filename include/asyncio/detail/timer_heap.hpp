// asyncio/detail/timer_heap.hpp: the loop's timers (CPython's `loop._scheduled`), ordered by
// (deadline, insertion order), with O(1) or O(log n) removal so that a cancelled timer leaves
// at once instead of lingering as CPython's do.
//
// Two stores behind one interface: a timer whose deadline is not earlier than that of the
// last timer appended to the run goes to the back of a FIFO run (O(1) in and out); any other
// goes into a binary heap (O(log n)). Programs mostly schedule timers in deadline order (the
// same timeout for every request, a million sleep(1s) started one after another), so the run
// takes nearly all of them; the earliest timer is the earlier of the run's front and the
// heap's top.
#pragma once

#include <asyncio/detail/waiter.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace asyncio::detail {

using TimePoint = std::chrono::steady_clock::time_point;

// A Waiter too, so that a sleep (a timer that a task waits on) has a single vtable pointer:
// timers that no task waits on keep the default cancel_wait().
struct TimerNode : Waiter {
    static constexpr std::uint32_t not_queued = static_cast<std::uint32_t>(-1);
    static constexpr std::uint32_t in_run = std::uint32_t{1} << 31;  // `position` tag

    TimePoint when{};
    std::uint64_t seq = 0;  // ties at the same deadline run in the order they were scheduled
    // Where the node is: its index in the heap, or its slot in the run tagged with `in_run`.
    std::uint32_t position = not_queued;  // the tail padding after it is free for subclasses

    // Called by the loop when the deadline is reached, before it takes the node out of the
    // timers (so that a fire() that throws leaves it there); must not touch the timers.
    virtual void fire() = 0;
    // Called when the loop closes with the node still queued (already out of the timers).
    virtual void on_loop_close() noexcept {}
    [[nodiscard]] bool queued() const noexcept { return position != not_queued; }
    CancelOutcome cancel_wait(const std::string&) override { return CancelOutcome::too_late; }

protected:
    ~TimerNode() = default;
};

class TimerHeap {
public:
    TimerHeap() = default;
    TimerHeap(const TimerHeap&) = delete;
    TimerHeap& operator=(const TimerHeap&) = delete;

    [[nodiscard]] bool empty() const noexcept { return heap_.empty() && run_live_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size() + run_live_; }
    // The earliest timer. Precondition: !empty().
    [[nodiscard]] TimerNode* top() const noexcept {
        TimerNode* r = run_live_ ? run_[run_head_ & run_mask()] : nullptr;  // the head is live
        if (heap_.empty()) return r;
        TimerNode* h = heap_.front();
        return r && !less(h, r) ? r : h;
    }

    void push(TimerNode* n) {
        n->seq = next_seq_++;
        if (run_live_ == 0 || n->when >= run_last_when_)
            run_push(n);
        else
            heap_push(n);
    }

    TimerNode* pop() noexcept {
        TimerNode* n = top();
        erase(n);
        return n;
    }

    void erase(TimerNode* n) noexcept {
        if (n->position & TimerNode::in_run)
            run_erase(n);
        else
            heap_erase(n);
    }
    // Takes `n` out if it is queued (a timer disarmed before it fired); true if it was.
    bool disarm(TimerNode* n) noexcept {
        if (!n->queued()) return false;
        erase(n);
        return true;
    }

private:
    static bool less(const TimerNode* a, const TimerNode* b) noexcept {
        return a->when < b->when || (a->when == b->when && a->seq < b->seq);
    }

    // --- the run: a ring of slots in deadline order; a removed node leaves a null slot ---

    [[nodiscard]] std::size_t run_mask() const noexcept { return run_capacity_ - 1; }

    void run_push(TimerNode* n) {
        if (run_tail_ - run_head_ == run_capacity_) run_regrow();
        std::size_t slot = run_tail_++ & run_mask();
        run_[slot] = n;
        n->position = static_cast<std::uint32_t>(slot) | TimerNode::in_run;
        run_last_when_ = n->when;
        ++run_live_;
    }

    void run_erase(TimerNode* n) noexcept {
        run_[n->position & ~TimerNode::in_run] = nullptr;
        n->position = TimerNode::not_queued;
        if (--run_live_ == 0) {
            run_head_ = run_tail_ = 0;
            return;
        }
        while (run_[run_head_ & run_mask()] == nullptr) ++run_head_;  // keep the head live
        while (run_[(run_tail_ - 1) & run_mask()] == nullptr) --run_tail_;
    }

    // Full: move the live nodes, in order, to a ring with room for half as many again (the
    // same size if removed nodes left enough holes, twice the size if none).
    void run_regrow() {
        std::size_t capacity = 16;
        while (capacity < run_live_ + run_live_ / 2 + 1) capacity *= 2;
        auto fresh = std::make_unique_for_overwrite<TimerNode*[]>(capacity);  // slots past the tail are written before read
        std::size_t j = 0;
        for (std::size_t i = run_head_; i != run_tail_; ++i) {
            if (TimerNode* n = run_[i & run_mask()]) {
                fresh[j] = n;
                n->position = static_cast<std::uint32_t>(j) | TimerNode::in_run;
                ++j;
            }
        }
        run_ = std::move(fresh);
        run_capacity_ = capacity;
        run_head_ = 0;
        run_tail_ = j;
    }

    // --- the heap ---

    void heap_push(TimerNode* n) {
        heap_.push_back(n);  // may throw std::bad_alloc: the node is then still not queued
        n->position = static_cast<std::uint32_t>(heap_.size() - 1);
        sift_up(n->position);
    }

    void heap_erase(TimerNode* n) noexcept {
        std::size_t i = n->position;
        TimerNode* last = heap_.back();
        heap_.pop_back();
        n->position = TimerNode::not_queued;
        if (last == n) return;
        heap_[i] = last;
        last->position = static_cast<std::uint32_t>(i);
        if (i > 0 && less(last, heap_[(i - 1) / 2]))
            sift_up(i);
        else
            sift_down(i);
    }

    void place(std::size_t i, TimerNode* n) noexcept {
        heap_[i] = n;
        n->position = static_cast<std::uint32_t>(i);
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
    std::unique_ptr<TimerNode*[]> run_;
    std::size_t run_capacity_ = 0;  // a power of two
    std::size_t run_head_ = 0;      // free-running indices, masked on access
    std::size_t run_tail_ = 0;
    std::size_t run_live_ = 0;   // non-null slots between head and tail
    TimePoint run_last_when_{};  // deadline of the last node appended to the run
    std::uint64_t next_seq_ = 0;
};

}  // namespace asyncio::detail
