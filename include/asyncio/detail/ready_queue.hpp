// asyncio/detail/ready_queue.hpp: Runnable and the loop's FIFO ready queue (CPython's
// `loop._ready` deque): a list of 1 KiB blocks of pointers from the frame pool. No allocation
// per push in steady state (an emptied block is kept for the next), and growing never copies
// or touches more memory than the items queued, as a doubling ring would (a million tasks
// spawned at once queue a million pointers: 8 MB here, 16 MB touched and 8 MB copied by a
// ring).
#pragma once

#include <asyncio/detail/frame_pool.hpp>

#include <cstddef>
#include <cstdint>

namespace asyncio::detail {

class TaskCore;

// Anything the loop can run in one step: a task's next step, a callback Handle, a done
// callback. Pushing does not transfer ownership unless the type says so in drop().
struct Runnable {
    virtual void run() = 0;
    // Called instead of run() when the loop is closed with the item still queued.
    virtual void drop() noexcept {}
    // The task whose step this is (null: a callback), for debug mode's reports.
    [[nodiscard]] virtual TaskCore* as_task() noexcept { return nullptr; }

protected:
    ~Runnable() = default;
};

// The queue never needs memory where a wake-up has no caller to throw to (Lock.release,
// Event.set, a task's end waking its awaiters, a due timer): every object that can be queued
// from such a place *reserves* its slot when it is made, where std::bad_alloc still reaches
// the caller (create_task, add_done_callback, a combinator or timeout starting), and gives it
// back when it can no longer be queued. Such an object is queued at most once at a time, so
// the queue holds at most `reserved + loose` entries, and it owns enough blocks for that many
// at all times:
//
//   reserved  tasks (created .. done), done callbacks (added .. run), the combinators'
//             nodes (armed .. destroyed): reserve() / unreserve();
//   loose     callback handles (call_soon, due call_later handles, fd callbacks, what
//             another thread posted): push_loose() makes their room as they are queued, from
//             places that may throw (call_soon, or the loop before it takes the item from
//             the timer heap, the reactor or the thread-safe queue), and loose_done() when
//             one leaves the queue.
//
// So push() (a reserved object) never allocates. Nothing is counted per entry: a reservation
// costs a counter and a compare in create_task and in a task's end.
class ReadyQueue {
public:
    ReadyQueue() = default;
    ReadyQueue(const ReadyQueue&) = delete;
    ReadyQueue& operator=(const ReadyQueue&) = delete;
    ~ReadyQueue() {
        while (Block* b = head_) {
            head_ = b->next;
            free_block(b);
        }
        while (Block* b = free_) {
            free_ = b->next;
            free_block(b);
        }
    }

    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

    // One more object that may be queued later from a place that cannot throw.
    // Throws: std::bad_alloc (nothing reserved then).
    void reserve() {
        if (--room_ < 0) [[unlikely]]
            grow_for_one();
    }
    // The object can no longer be queued (or its reservation dies with its loop).
    void unreserve() noexcept { ++room_; }

    // Queues an object that holds a reservation: never allocates.
    void push(Runnable* r) noexcept {
        if (tail_pos_ == block_items) [[unlikely]]
            add_block();
        tail_->items[tail_pos_++] = r;
        ++size_;
    }
    // Queues an object without a reservation (a callback handle), making its room first.
    // Throws: std::bad_alloc, with nothing queued. The item calls loose_done() as it leaves.
    void push_loose(Runnable* r) {
        reserve();
        push(r);
    }
    // Makes the next `n` push_loose() calls need no memory. Throws: std::bad_alloc.
    void make_room(std::size_t n) {
        if (room_ < static_cast<std::ptrdiff_t>(n)) [[unlikely]]
            grow_to(static_cast<std::ptrdiff_t>(n));
    }
    void loose_done() noexcept { ++room_; }

    // A deferred entry: when the loop reaches it, it queues `r` again at the back instead of
    // running it (pop_entry). This is CPython's second call_soon hop (a timer handle that
    // completes a future, whose done callback then wakes the task) at the cost of a push and
    // a pop, without touching r's memory on the first hop.
    void push_deferred(Runnable* r) noexcept { push(deferred(r)); }
    // The loop reached deferred `entry`: queue its item at the back (kept out of line so that
    // the loop's common path does not carry push's code).
    [[gnu::noinline]] void requeue_deferred(Runnable* entry) noexcept { push(undeferred(entry)); }
    // The entry push_deferred(r) queues, for remove().
    static Runnable* deferred(Runnable* r) noexcept {
        return reinterpret_cast<Runnable*>(reinterpret_cast<std::uintptr_t>(r) | std::uintptr_t{1});
    }
    static bool is_deferred(const Runnable* entry) noexcept { return (reinterpret_cast<std::uintptr_t>(entry) & 1) != 0; }
    static Runnable* undeferred(Runnable* entry) noexcept {
        return reinterpret_cast<Runnable*>(reinterpret_cast<std::uintptr_t>(entry) & ~std::uintptr_t{1});
    }

    // Takes every queued entry `e` out, keeping the others in order, and returns how many
    // there were: for a node in a coroutine frame that ends while it is still queued (a
    // combinator's completion callback), or a deferred entry withdrawn. O(items queued), and
    // only on those rare paths: nothing on push or pop pays for it.
    std::size_t remove(Runnable* e) noexcept {
        Block* wb = head_;
        std::size_t wpos = head_pos_;
        std::size_t pos = head_pos_;
        std::size_t kept = 0;
        for (Block* b = head_; b; b = b->next, pos = 0) {
            const std::size_t end = b == tail_ ? tail_pos_ : block_items;
            for (std::size_t i = pos; i < end; ++i) {
                Runnable* item = b->items[i];
                if (item == e) continue;
                if (wpos == block_items) {
                    wb = wb->next;
                    wpos = 0;
                }
                wb->items[wpos++] = item;
                ++kept;
            }
        }
        const std::size_t removed = size_ - kept;
        if (removed == 0) return 0;
        size_ = kept;
        if (kept == 0) {
            wb = head_;
            wpos = head_pos_ = 0;
        }
        // The blocks after the new tail go back to the free list.
        for (Block* b = wb->next; b;) {
            Block* next = b->next;
            b->next = free_;
            free_ = b;
            b = next;
        }
        wb->next = nullptr;
        tail_ = wb;
        tail_pos_ = wpos;
        return removed;
    }

    // The next entry as queued: possibly deferred (see push_deferred). Precondition: !empty().
    Runnable* pop_entry() noexcept {
        if (head_pos_ == block_items) [[unlikely]]
            drop_head_block();
        Runnable* r = head_->items[head_pos_++];
        if (--size_ == 0) head_pos_ = tail_pos_ = 0;  // empty: start the one block over
        return r;
    }
    // The next item, a deferred entry's as well (for teardown). Precondition: !empty().
    Runnable* pop() noexcept { return undeferred(pop_entry()); }

    // Gives back the blocks the reservations no longer need (after a burst), keeping one
    // spare; called by the loop when it is about to wait.
    void trim() noexcept {
        while (free_ && room_ >= static_cast<std::ptrdiff_t>(2 * block_items)) {
            Block* b = free_;
            free_ = b->next;
            free_block(b);
            release_capacity();
        }
    }

    // For tests: the slots the queue can hold without allocating, and the reservations.
    [[nodiscard]] std::size_t capacity() const noexcept { return usable(); }
    [[nodiscard]] std::size_t reservations() const noexcept { return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(usable()) - room_); }

private:
    static constexpr std::size_t block_items = 127;  // with the link: one 1 KiB block
    struct Block {
        Runnable* items[block_items];
        Block* next;
    };
    static_assert(sizeof(Block) <= frame_pool_max);
    static void free_block(Block* b) noexcept { pool_deallocate(b, sizeof(Block)); }

    // Owned blocks (in the queue and free) cover `usable() + 2 * block_items` slots: a queue
    // of n entries spans at most n / block_items + 2 blocks (a consumed head block is kept
    // until the next pop, and the tail may be about to take a new one).
    // Adds blocks until the room is at least `room`.
    void grow_to(std::ptrdiff_t room) {
        while (room_ < room) {
            auto* b = static_cast<Block*>(pool_allocate(sizeof(Block)));
            b->next = free_;
            free_ = b;
            add_capacity();
        }
    }
    [[gnu::noinline]] void grow_for_one() {
        try {
            grow_to(0);
        } catch (...) {
            ++room_;  // nothing reserved
            throw;
        }
    }
    // The slots the owned blocks guarantee (see above).
    [[nodiscard]] std::size_t usable() const noexcept { return owned_ > 2 ? (owned_ - 2) * block_items : 0; }
    void add_capacity() noexcept {
        if (++owned_ > 2) room_ += static_cast<std::ptrdiff_t>(block_items);
    }
    void release_capacity() noexcept {
        if (owned_-- > 2) room_ -= static_cast<std::ptrdiff_t>(block_items);
    }
    void add_block() noexcept {
        Block* b = free_;
        if (!b) [[unlikely]]
            b = spill_block();
        else
            free_ = b->next;
        b->next = nullptr;
        if (tail_)
            tail_->next = b;
        else
            head_ = b;
        tail_ = b;
        tail_pos_ = 0;
    }
    // More entries than reservations (an object queued twice): allocate after all, and
    // terminate only if that fails, as a lost wake-up would corrupt the program silently.
    [[gnu::noinline]] Block* spill_block() noexcept {
        auto* b = static_cast<Block*>(pool_allocate(sizeof(Block)));
        add_capacity();
        return b;
    }
    void drop_head_block() noexcept {
        Block* b = head_;
        head_ = b->next;
        head_pos_ = 0;
        b->next = free_;
        free_ = b;
    }

    Block* head_ = nullptr;
    Block* tail_ = nullptr;
    Block* free_ = nullptr;
    std::size_t head_pos_ = 0;
    std::size_t tail_pos_ = block_items;  // no block yet: the first push adds one
    std::size_t size_ = 0;
    // usable() - (reservations + loose entries): below zero only inside reserve() failing.
    std::ptrdiff_t room_ = 0;
    std::size_t owned_ = 0;  // blocks in the queue and on the free list
};

}  // namespace asyncio::detail
