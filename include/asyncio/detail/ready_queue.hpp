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

// Anything the loop can run in one step: a task's next step, a callback Handle, a done
// callback. Pushing does not transfer ownership unless the type says so in drop().
struct Runnable {
    virtual void run() = 0;
    // Called instead of run() when the loop is closed with the item still queued.
    virtual void drop() noexcept {}

protected:
    ~Runnable() = default;
};

// What a replaced entry runs: nothing.
struct NoopRunnable final : Runnable {
    void run() override {}
};
inline NoopRunnable noop_runnable;

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
        if (spare_) free_block(spare_);
    }

    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

    void push(Runnable* r) {
        if (tail_pos_ == block_items) [[unlikely]]
            add_block();
        tail_->items[tail_pos_++] = r;
        ++size_;
    }

    // A deferred entry: when the loop reaches it, it queues `r` again at the back instead of
    // running it (pop_entry). This is CPython's second call_soon hop (a timer handle that
    // completes a future, whose done callback then wakes the task) at the cost of a push and
    // a pop, without touching r's memory on the first hop.
    void push_deferred(Runnable* r) { push(deferred(r)); }
    // The loop reached deferred `entry`: queue its item at the back (kept out of line so that
    // the loop's common path does not carry push's code).
    [[gnu::noinline]] void requeue_deferred(Runnable* entry) { push(undeferred(entry)); }
    // The entry push_deferred(r) queues, for replace().
    static Runnable* deferred(Runnable* r) noexcept {
        return reinterpret_cast<Runnable*>(reinterpret_cast<std::uintptr_t>(r) | std::uintptr_t{1});
    }
    static bool is_deferred(const Runnable* entry) noexcept { return (reinterpret_cast<std::uintptr_t>(entry) & 1) != 0; }
    static Runnable* undeferred(Runnable* entry) noexcept {
        return reinterpret_cast<Runnable*>(reinterpret_cast<std::uintptr_t>(entry) & ~std::uintptr_t{1});
    }

    // Replaces every queued entry `from` by `to` and returns how many there were: for a node
    // in a coroutine frame that ends while it is still queued (a combinator's completion
    // callback), or a deferred entry withdrawn. O(items queued), and only on those rare
    // paths: nothing on push or pop pays for it.
    std::size_t replace(Runnable* from, Runnable* to) noexcept {
        std::size_t n = 0;
        std::size_t pos = head_pos_;
        for (Block* b = head_; b; b = b->next, pos = 0) {
            std::size_t end = b == tail_ ? tail_pos_ : block_items;
            for (std::size_t i = pos; i < end; ++i)
                if (b->items[i] == from) {
                    b->items[i] = to;
                    ++n;
                }
        }
        return n;
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

private:
    static constexpr std::size_t block_items = 127;  // with the link: one 1 KiB block
    struct Block {
        Runnable* items[block_items];
        Block* next;
    };
    static_assert(sizeof(Block) <= frame_pool_max);
    static void free_block(Block* b) noexcept { pool_deallocate(b, sizeof(Block)); }

    void add_block() {
        Block* b = spare_ ? spare_ : static_cast<Block*>(pool_allocate(sizeof(Block)));
        spare_ = nullptr;
        b->next = nullptr;
        if (tail_)
            tail_->next = b;
        else
            head_ = b;
        tail_ = b;
        tail_pos_ = 0;
    }
    void drop_head_block() noexcept {
        Block* b = head_;
        head_ = b->next;
        head_pos_ = 0;
        if (spare_)
            free_block(b);
        else
            spare_ = b;
    }

    Block* head_ = nullptr;
    Block* tail_ = nullptr;
    Block* spare_ = nullptr;
    std::size_t head_pos_ = 0;
    std::size_t tail_pos_ = block_items;  // no block yet: the first push adds one
    std::size_t size_ = 0;
};

}  // namespace asyncio::detail
