// asyncio/detail/timer_queue.hpp: the loop's timers (CPython's `loop._scheduled`), ordered by
// (deadline, scheduling order), with O(1) removal from most places (O(log n) from the rest) so
// that a cancelled timer leaves at once instead of lingering as CPython's do.
//
// Four stores behind one interface (docs/design/timers.md):
// - the run: a timer whose deadline is not earlier than that of the last timer appended to
//   it goes to the back of a FIFO ring, O(1) in and out. Programs mostly schedule timers in
//   deadline order (the same timeout for every request, a million sleep(1 s) started one
//   after another), so the run takes nearly all of them when they are.
// - the wheel: any other timer, unless it is due within the current tick, goes into a
//   hierarchical timing wheel (Tokio's and the Linux kernel's design): 8 levels of 64 slots,
//   the slots of level L 64^L ticks of 2^20 ns (about 1 ms) wide. In and out is O(1); as the
//   clock reaches a slot, its timers move down a level (a timer 1 s away moves twice).
// - the batch: when the clock reaches a tick, the wheel's timers due in it are sorted, in one
//   go, and appended to a second FIFO: every timer of a later tick comes after them.
// - the soon heap: a binary heap for timers scheduled in the current tick or in the past
//   (a straggler the wheel and the batch cannot take in order). It stays small.
// The earliest timer is the earliest of the three fronts, once the wheel has given up every
// slot the clock has reached (due(), earliest()).
#pragma once

#include <asyncio/detail/waiter.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace asyncio {
class EventLoop;
}

namespace asyncio::detail {

using TimePoint = std::chrono::steady_clock::time_point;

// The loop's time() (src/base_events.cpp), for the wheel's first timer.
TimePoint loop_time_of(const EventLoop& loop) noexcept;

// A Waiter too, so that a sleep (a timer that a task waits on) has a single vtable pointer:
// timers that no task waits on keep the default cancel_wait().
struct TimerNode : Waiter {
    static constexpr std::uint32_t not_queued = static_cast<std::uint32_t>(-1);
    // `position`'s tag: where the node is. Neither bit: an index in the soon heap.
    static constexpr std::uint32_t in_run = std::uint32_t{1} << 31;    // a slot of the run
    static constexpr std::uint32_t in_wheel = std::uint32_t{1} << 30;  // an entry of the wheel
    static constexpr std::uint32_t in_batch = in_run | in_wheel;       // a slot of the batch
    static constexpr std::uint32_t index_mask = in_wheel - 1;          // (all ones: not_queued)

    TimePoint when{};
    std::uint64_t seq = 0;                // ties at the same deadline run in the order they were scheduled
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

class TimerQueue {
public:
    explicit TimerQueue(const EventLoop& loop) noexcept : loop_(&loop) {}
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    // One counter for the four stores (the loop asks empty() on every turn).
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

    // Queues `n` at n->when. Throws: std::bad_alloc, with `n` not queued.
    void push(TimerNode* n) {
        n->seq = next_seq_++;
        if (run_live_ == 0 || n->when >= run_last_when_)
            run_push(n);
        else
            push_out_of_order(n);
        ++size_;
    }

    // The earliest timer if it is due at `now`, else nullptr. First the wheel gives up every
    // slot `now` has reached (allocating nothing).
    TimerNode* due(TimePoint now) noexcept {
        if (wheel_) advance(tick_of(now));
        TimerNode* n = front();
        return n && n->when <= now ? n : nullptr;
    }

    // The earliest timer, exactly (nullptr if none): the wheel gives up slots until its
    // earliest is known. For a jump of the virtual clock, which goes there next.
    TimerNode* earliest() noexcept {
        for (;;) {
            TimerNode* n = front();
            if (wheel_count() == 0) return n;
            std::size_t slot = first_slot();
            // A wheel timer is never earlier than its slot's first instant.
            if (n && n->when < time_of_tick(slot_start(slot))) return n;
            empty_slot(slot);
        }
    }

    // When the earliest timer may be due: exact for the run and the heap, the first instant of
    // the wheel's earliest slot otherwise (the loop then wakes, due() moves the slot down, and
    // the next answer is nearer). For the poll timeout. Precondition: !empty().
    [[nodiscard]] TimePoint next_deadline() const noexcept {
        TimePoint best = TimePoint::max();
        if (TimerNode* n = front()) best = n->when;
        if (wheel_count() != 0) best = std::min(best, time_of_tick(slot_start(first_slot())));
        return best;
    }

    void erase(TimerNode* n) noexcept {
        --size_;
        switch (n->position & TimerNode::in_batch) {
            case TimerNode::in_run:
                run_erase(n);
                break;
            case TimerNode::in_wheel:
                wheel_erase(n);
                break;
            case TimerNode::in_batch:
                batch_erase(n);
                break;
            default:
                heap_erase(n);
        }
    }
    // Takes `n` out if it is queued (a timer disarmed before it fired); true if it was.
    bool disarm(TimerNode* n) noexcept {
        if (!n->queued()) return false;
        erase(n);
        return true;
    }

    // Any queued timer, taken out (nullptr if none), in no particular order: for the loop's
    // close, which needs no order and must not fail.
    TimerNode* pop_any() noexcept {
        TimerNode* n = nullptr;
        if (!heap_.empty()) {
            n = heap_.back();
        } else if (batch_live_ != 0) {
            n = batch_[batch_head_].node;
        } else if (run_live_ != 0) {
            n = run_[run_head_ & run_mask()];
        } else if (wheel_count() != 0) {
            n = wheel_->entries[wheel_->head[first_slot()]].node;
        }
        if (n) erase(n);
        return n;
    }

private:
    static bool less(const TimerNode* a, const TimerNode* b) noexcept {
        return a->when < b->when || (a->when == b->when && a->seq < b->seq);
    }

    // The earliest of the run's front, the batch's front and the heap's top (on a tie of
    // deadlines, seq decides: the stores' order is one total order).
    [[nodiscard]] TimerNode* front() const noexcept {
        TimerNode* best = run_live_ ? run_[run_head_ & run_mask()] : nullptr;  // the head is live
        if (batch_live_) {
            TimerNode* b = batch_[batch_head_].node;  // the head is live
            if (!best || less(b, best)) best = b;
        }
        if (!heap_.empty()) {
            TimerNode* h = heap_.front();
            if (!best || less(h, best)) best = h;
        }
        return best;
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
        run_[n->position & TimerNode::index_mask] = nullptr;
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

    // --- the wheel ---
    //
    // Ticks count 2^20 ns from the clock's epoch. `elapsed_` is the tick the wheel stands at:
    // every timer in it is due at a later tick; it sits at the level of the highest 6-bit
    // group in which its tick differs from elapsed_, in the slot of its tick's digit there.
    // While elapsed_ moves towards a timer's slot, that group stays the highest that differs,
    // so the slot is where the wheel left it until the slot's turn comes (empty_slot()).
    //
    // A slot is a doubly linked list of entries, in one array for the whole wheel (a node's
    // `position` is its entry's index), each with its timer's deadline: moving a timer
    // between slots reads and relinks entries, never the timer itself, and never allocates.
    // A push makes room for its entry, and in the batch for the day the timer moves there:
    // the loop's turn of the wheel needs no memory.

    static constexpr int tick_shift = 20;
    static constexpr int level_bits = 6;
    static constexpr std::size_t slots_per_level = std::size_t{1} << level_bits;
    static constexpr int levels = 8;  // 8 x 6 bits cover the 43 bits of a tick
    static constexpr std::uint32_t none = static_cast<std::uint32_t>(-1);
    static constexpr std::size_t keep_entries = 4096;  // a larger array is freed when the wheel empties

    struct Entry {
        TimePoint when;
        TimerNode* node;
        std::uint32_t next;  // in the slot's list, or in the free list
        std::uint32_t prev;  // none at a list's head
    };
    struct Wheel {
        Wheel() { head.fill(none); }
        std::size_t count = 0;                         // timers in the slots
        std::array<std::uint64_t, levels> occupied{};  // a bit per non-empty slot
        std::array<std::uint32_t, levels * slots_per_level> head{};
        std::vector<Entry> entries;
        std::uint32_t free = none;
    };

    static std::int64_t tick_of(TimePoint t) noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() >> tick_shift;
    }
    static TimePoint time_of_tick(std::int64_t tick) noexcept {
        return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(tick << tick_shift)));
    }

    [[nodiscard]] std::size_t wheel_count() const noexcept { return wheel_ ? wheel_->count : 0; }

    // The slot to empty next: the lowest set bit of the lowest non-empty level (every slot of
    // a level lies before every slot of the level above, and within a level the occupied
    // digits all follow elapsed_'s). Precondition: wheel_count() != 0.
    [[nodiscard]] std::size_t first_slot() const noexcept {
        for (std::size_t level = 0;; ++level) {
            if (std::uint64_t bits = wheel_->occupied[level])
                return level * slots_per_level + static_cast<std::size_t>(std::countr_zero(bits));
        }
    }

    // The first tick of a non-empty slot: elapsed_'s digits above its level, its own digit.
    [[nodiscard]] std::int64_t slot_start(std::size_t slot) const noexcept {
        int shift = level_bits * static_cast<int>(slot / slots_per_level);
        auto digit = static_cast<std::int64_t>(slot % slots_per_level);
        int above_shift = shift + level_bits;
        std::int64_t above = above_shift >= 63 ? 0 : (elapsed_ >> above_shift) << above_shift;
        return above | (digit << shift);
    }

    // Out of order: into the heap if due by the current tick, else into the wheel.
    void push_out_of_order(TimerNode* n) {
        if (wheel_count() == 0) {
            // The wheel stands wherever it was left; bring it to now, or the first timers
            // would sit far up and move down level by level.
            std::int64_t now = tick_of(loop_time_of(*loop_));
            if (now > elapsed_) elapsed_ = now;
        }
        std::int64_t tick = tick_of(n->when);
        if (tick <= elapsed_) {
            heap_push(n);
            return;
        }
        // Room first (each may throw std::bad_alloc, with nothing changed): the entry, and the
        // batch's room for every timer of the wheel, twice over (so that a full batch is half
        // holes, and compacting it is worth its cost).
        if (!wheel_) wheel_ = std::make_unique<Wheel>();
        Wheel& w = *wheel_;
        std::size_t needed = 2 * (batch_live_ + w.count + 1);
        if (needed > batch_.capacity()) batch_.reserve(std::max(needed, 2 * batch_.capacity()));
        std::uint32_t e = w.free;
        if (e == none) {
            w.entries.push_back({});
            e = static_cast<std::uint32_t>(w.entries.size() - 1);
        } else {
            w.free = w.entries[e].next;
        }
        w.entries[e].when = n->when;
        w.entries[e].node = n;
        n->position = e | TimerNode::in_wheel;
        link(e, tick);
        ++w.count;
    }

    // The slot of a timer due at `tick` > elapsed_ (see above): the level of the highest
    // differing 6-bit group, the tick's digit there. Not stored: an entry's slot follows
    // from its deadline whenever it is needed.
    [[nodiscard]] std::size_t slot_for(std::int64_t tick) const noexcept {
        auto differ = static_cast<std::uint64_t>(elapsed_ ^ tick);
        auto level = static_cast<std::size_t>((63 - std::countl_zero(differ)) / level_bits);
        return level * slots_per_level +
               (static_cast<std::size_t>(tick >> (level_bits * static_cast<int>(level))) & (slots_per_level - 1));
    }

    // Links entry `e` (due at `tick` > elapsed_) into its slot.
    void link(std::uint32_t e, std::int64_t tick) noexcept {
        Wheel& w = *wheel_;
        std::size_t slot = slot_for(tick);
        Entry& entry = w.entries[e];
        entry.prev = none;
        entry.next = w.head[slot];
        if (entry.next != none) w.entries[entry.next].prev = e;
        w.head[slot] = e;
        w.occupied[slot / slots_per_level] |= std::uint64_t{1} << (slot % slots_per_level);
    }

    void wheel_erase(TimerNode* n) noexcept {
        Wheel& w = *wheel_;
        std::uint32_t e = n->position & TimerNode::index_mask;
        Entry& entry = w.entries[e];
        if (entry.prev != none) {
            w.entries[entry.prev].next = entry.next;
        } else {
            std::size_t slot = slot_for(tick_of(entry.when));
            w.head[slot] = entry.next;
            if (entry.next == none) w.occupied[slot / slots_per_level] &= ~(std::uint64_t{1} << (slot % slots_per_level));
        }
        if (entry.next != none) w.entries[entry.next].prev = entry.prev;
        n->position = TimerNode::not_queued;
        release_entry(e);
    }

    void release_entry(std::uint32_t e) noexcept {
        Wheel& w = *wheel_;
        w.entries[e].next = w.free;
        w.free = e;
        if (--w.count == 0 && w.entries.capacity() > keep_entries) {
            std::vector<Entry>().swap(w.entries);  // after a burst: give the memory back
            w.free = none;
        }
    }

    // The clock reached `slot`: the wheel moves to its first tick and its timers go a level
    // down, or, if due at that tick (all of a level-0 slot's are), to the batch, sorted.
    // Allocates nothing (the batch has room for every timer of the wheel).
    void empty_slot(std::size_t slot) noexcept {
        Wheel& w = *wheel_;
        elapsed_ = slot_start(slot);
        std::uint32_t e = w.head[slot];
        w.head[slot] = none;
        w.occupied[slot / slots_per_level] &= ~(std::uint64_t{1} << (slot % slots_per_level));
        std::size_t first_new = batch_.size();
        while (e != none) {
            Entry& entry = w.entries[e];
            std::uint32_t next = entry.next;
            std::int64_t tick = tick_of(entry.when);
            if (tick <= elapsed_) {
                if (batch_.size() == batch_.capacity()) first_new -= compact_batch();
                batch_.push_back({entry.when, entry.node});  // within capacity: cannot throw
                release_entry(e);
            } else {
                link(e, tick);  // a lower level: never this slot
            }
            e = next;
        }
        if (first_new == batch_.size()) return;
        // Every timer already in the batch is due at an earlier tick: sorting the new ones
        // keeps the whole batch in order.
        std::sort(batch_.begin() + static_cast<std::ptrdiff_t>(first_new), batch_.end(), [](const BatchSlot& a, const BatchSlot& b) {
            return a.when < b.when || (a.when == b.when && a.node->seq < b.node->seq);
        });
        for (std::size_t i = first_new; i < batch_.size(); ++i)
            batch_[i].node->position = static_cast<std::uint32_t>(i) | TimerNode::in_batch;
        batch_live_ += batch_.size() - first_new;
    }

    // Every slot that begins at or before `tick` is emptied; then the wheel stands at `tick`.
    void advance(std::int64_t tick) noexcept {
        while (wheel_->count != 0) {
            std::size_t slot = first_slot();
            if (slot_start(slot) > tick) break;
            empty_slot(slot);
        }
        if (tick > elapsed_) elapsed_ = tick;
    }

    // --- the batch: a wheel slot's timers, sorted, in a FIFO; a removed node leaves a hole ---

    struct BatchSlot {
        TimePoint when;
        TimerNode* node;  // nullptr: removed
    };

    void batch_erase(TimerNode* n) noexcept {
        batch_[n->position & TimerNode::index_mask].node = nullptr;
        n->position = TimerNode::not_queued;
        if (--batch_live_ == 0) {
            batch_.clear();
            batch_head_ = 0;
            return;
        }
        while (batch_[batch_head_].node == nullptr) ++batch_head_;  // keep the head live
        while (batch_.back().node == nullptr) batch_.pop_back();
    }

    // Moves the live slots to the front (the holes and the consumed head go); returns how
    // far they moved (every hole lies before the slots empty_slot() is appending).
    std::size_t compact_batch() noexcept {
        std::size_t j = 0;
        for (std::size_t i = batch_head_; i < batch_.size(); ++i) {
            if (TimerNode* n = batch_[i].node) {
                batch_[j] = batch_[i];
                n->position = static_cast<std::uint32_t>(j) | TimerNode::in_batch;
                ++j;
            }
        }
        std::size_t moved = batch_.size() - j;
        batch_.resize(j);  // shrinks: no allocation
        batch_head_ = 0;
        return moved;
    }

    // --- the soon heap ---

    void heap_push(TimerNode* n) {
        heap_.push_back(n);  // may throw std::bad_alloc: the node is then not queued
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

    const EventLoop* loop_;
    std::vector<TimerNode*> heap_;
    std::vector<BatchSlot> batch_;
    std::size_t batch_head_ = 0;
    std::size_t batch_live_ = 0;
    std::unique_ptr<TimerNode*[]> run_;
    std::size_t run_capacity_ = 0;  // a power of two
    std::size_t run_head_ = 0;      // free-running indices, masked on access
    std::size_t run_tail_ = 0;
    std::size_t run_live_ = 0;   // non-null slots between head and tail
    TimePoint run_last_when_{};  // deadline of the last node appended to the run
    std::uint64_t next_seq_ = 0;
    std::size_t size_ = 0;          // timers queued, in all four stores
    std::int64_t elapsed_ = 0;      // the wheel's tick (kept without a wheel, for the first)
    std::unique_ptr<Wheel> wheel_;  // made at the first out-of-order timer
};

}  // namespace asyncio::detail
