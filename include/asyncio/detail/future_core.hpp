// asyncio/detail/future_core.hpp: the state shared by Future and Task (CPython's Task is a
// Future subclass): pending/cancelled/finished, the exception, and the done-callback list.
#pragma once

#include <asyncio/detail/frame_pool.hpp>
#include <asyncio/detail/ref.hpp>
#include <asyncio/detail/source_site.hpp>
#include <asyncio/detail/visibility.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace asyncio::detail {

class FutureCore;

// The state behind a Task, AnyTask or Future handle, and a new handle to a state (for done
// callbacks and all_tasks()): kept out of the handles' public surface.
struct FutureCoreAccess {
    template <class H>
    static FutureCore* core(const H& h) noexcept {
        return h.core_.get();
    }
    template <class H>
    static H share(FutureCore* core) noexcept {
        return H::from_core(core);
    }
};

// One entry of a future's done-callback list, in registration order: a task awaiting the
// future (no allocation: the node lives in the awaiting frame) or a user callback.
struct DoneNode {
    DoneNode* prev = nullptr;
    DoneNode* next = nullptr;
    bool linked = false;

    // Called once, in registration order, when the future completes; already unlinked.
    virtual void on_done(FutureCore& f) = 0;
    // The future is being destroyed (or its loop closed) with the node still registered.
    virtual void discard() noexcept {}
    // A user callback's DoneCallbackId (0 for the library's own nodes). Ids are never reused
    // on a thread, so a stale id cannot remove another callback (an address could).
    [[nodiscard]] virtual std::uint64_t callback_id() const noexcept { return 0; }
    // The task that waits through this node for the future to complete (the await graph's
    // "awaited by" edge, CPython's future._asyncio_awaited_by): the task awaiting it, the
    // task in gather()/wait()/shield(), a TaskGroup's parent task; null for callbacks.
    [[nodiscard]] virtual const FutureCore* awaiter() const noexcept { return nullptr; }

    ASYNCIO_SHARED_STATE static inline thread_local std::uint64_t t_last_callback_id = 0;

protected:
    ~DoneNode() = default;
};

// What few futures carry, kept aside (src/futures.cpp) from the first use until the future
// is destroyed, so that the common task, which succeeds unnamed and uncancelled, pays nothing
// for them: 16 bytes less per task than a pointer and an exception_ptr.
struct FutureExtras {
    std::exception_ptr exception;  // what the future or task failed with
    std::string cancel_msg;
    std::string name;           // tasks only; empty: "Task-<id>"
    std::uint32_t cancels = 0;  // tasks only: Task.cancelling()
    // Where the task or future was created, recorded in debug mode only (CPython's
    // _source_traceback): the call of create_task() or create_future().
    SourceSite origin;
};

// A Runnable only so that Task (which is one) shares this class's vtable pointer; a plain
// future is never queued.
class FutureCore : public PoolAllocated, public Runnable {
public:
    enum class State : std::uint8_t {
        pending,
        cancelled,
        finished
    };

    // Joins `loop`'s list of futures and tasks (see prev_in_loop).
    explicit FutureCore(EventLoop* loop) noexcept : loop_(loop) {
        FutureCore*& head = LoopAccess::cores(*loop);
        next_in_loop = head;
        if (head) head->prev_in_loop = this;
        head = this;
    }
    FutureCore(const FutureCore&) = delete;
    FutureCore& operator=(const FutureCore&) = delete;
    virtual ~FutureCore() {
        if (head_) discard_callbacks();
        if (has_extras()) drop_extras();
        if (loop_) unlink_from_loop();
    }

    // Not atomic: futures and tasks belong to their loop's thread.
    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) last_release();
    }

    // Null once the loop was destroyed (EventLoop's destructor detaches what outlives it).
    [[nodiscard]] EventLoop* loop() const noexcept { return loop_; }
    // The loop, or RuntimeError("Event loop is closed") if it was destroyed.
    [[nodiscard]] EventLoop& live_loop() const {
        if (!loop_) throw_loop_gone();
        return *loop_;
    }
    [[nodiscard]] bool is_task() const noexcept { return (future_flags_ & is_task_bit) != 0; }
    [[nodiscard]] bool done() const noexcept { return state_ != State::pending; }
    [[nodiscard]] bool cancelled() const noexcept { return state_ == State::cancelled; }

    // Future.cancel(msg); Task overrides it with Task.cancel(msg).
    virtual bool cancel(const std::string& msg);

    // Appends in registration order. The list has no tail pointer (8 bytes less in every
    // task): a future rarely has more than a couple of callbacks.
    void add_node(DoneNode* n) noexcept {
        n->next = nullptr;
        n->linked = true;
        DoneNode** link = &head_;
        DoneNode* prev = nullptr;
        while (*link) {
            prev = *link;
            link = &prev->next;
        }
        n->prev = prev;
        *link = n;
    }
    void remove_node(DoneNode* n) noexcept {
        if (!n->linked) return;
        (n->prev ? n->prev->next : head_) = n->next;
        if (n->next) n->next->prev = n->prev;
        n->prev = n->next = nullptr;
        n->linked = false;
    }
    // The first done-callback node (for the await graph, which follows awaiter()).
    [[nodiscard]] const DoneNode* first_node() const noexcept { return head_; }
    // Removes the user callback registered under `id`; returns how many were removed.
    std::size_t remove_user_callback(std::uint64_t id) noexcept;

    // Throws what result() throws when there is no value to return: InvalidStateError if
    // pending, CancelledError if cancelled, the stored exception if any (marking it retrieved).
    void check_result() {
        if (state_ != State::finished) throw_not_finished();
        if (has_exception()) rethrow_stored();
    }
    // Future.exception(): the stored exception or null; throws like result() otherwise.
    std::exception_ptr exception();
    [[nodiscard]] std::string cancel_message() const { return has_extras() ? find_extras()->cancel_msg : std::string(); }
    void set_cancel_message(const std::string& msg) {
        if (!msg.empty() || has_extras()) extras().cancel_msg = msg;
    }

    // Completion. The caller checked the state is pending.
    void finish_with_exception(std::exception_ptr e) {
        store_exception(std::move(e));
        state_ = State::finished;
        schedule_callbacks();
    }
    void finish_ok() {
        state_ = State::finished;
        schedule_callbacks();
    }
    void finish_cancelled() {
        state_ = State::cancelled;
        schedule_callbacks();
    }
    void check_pending(const char* what) const {
        if (state_ != State::pending) throw InvalidStateError(std::string(what) + ": invalid state (already done)");
    }
    // Whether a value was stored: finished, and not with an exception (see ResultSlot).
    [[nodiscard]] bool has_value() const noexcept { return state_ == State::finished && !has_exception(); }
    // Unlinks every node without running it (loop teardown).
    void discard_callbacks() noexcept;

    // For reports: "Task-3", or empty for a plain future.
    [[nodiscard]] virtual std::string report_name() const { return {}; }
    // Debug mode's record of where this future or task was created (EventLoop::create_task,
    // create_future); out of memory, nothing is recorded.
    void note_origin(SourceSite where) noexcept;
    // For reports: CPython's "Object created at (most recent call last):" and the place of
    // creation, or empty if none was recorded.
    [[nodiscard]] std::string origin_traceback() const;

    // The loop's list of every future and task alive on it, pending or done (CPython's
    // _all_tasks holds every task too, and all_tasks() filters the pending ones). What it
    // buys: a future or task handle kept after its loop was destroyed finds loop() null
    // (EventLoop's destructor walks the list) instead of a dangling pointer. Linked at
    // construction, unlinked at destruction: no list work when a task finishes.
    FutureCore* prev_in_loop = nullptr;
    FutureCore* next_in_loop = nullptr;
    // EventLoop's destructor: every future and task still alive forgets the loop.
    static void detach_all(EventLoop& loop) noexcept;

protected:
    [[noreturn]] void throw_not_finished() const;
    [[noreturn]] static void throw_loop_gone();
    void unlink_from_loop() noexcept {
        FutureCore*& head = LoopAccess::cores(*loop_);
        (prev_in_loop ? prev_in_loop->next_in_loop : head) = next_in_loop;
        if (next_in_loop) next_in_loop->prev_in_loop = prev_in_loop;
        prev_in_loop = next_in_loop = nullptr;
    }
    [[noreturn]] void rethrow_stored();  // the exception; marks it retrieved
    // The exception lives with the extras; the flag says whether there is one.
    [[nodiscard]] bool has_exception() const noexcept { return (future_flags_ & has_exception_bit) != 0; }
    void store_exception(std::exception_ptr e) noexcept;  // out of memory: keeps std::bad_alloc
    std::exception_ptr take_exception() noexcept;         // and forget it
    [[nodiscard]] std::exception_ptr stored_exception() const noexcept;
    using Extras = FutureExtras;
    Extras& extras();                           // creates them on first use
    [[nodiscard]] Extras* find_extras() const;  // null if there are none
    void drop_extras() noexcept;
    void run() override {}  // a plain future is never queued
    void schedule_callbacks() {
        while (DoneNode* n = head_) {
            remove_node(n);
            n->on_done(*this);
        }
    }

    // retrieved: the exception was looked at (CPython's inverse __log_traceback).
    // is_task: this is a TaskCore (all_tasks() filters the loop's list with it).
    // has_context: a TaskCore whose id went to a TaskContextLink (detail/task_core.hpp).
    enum : std::uint8_t {
        retrieved_bit = 1,
        has_extras_bit = 2,
        has_exception_bit = 4,
        is_task_bit = 8,
        has_context_bit = 16
    };
    [[nodiscard]] bool has_extras() const noexcept { return (future_flags_ & has_extras_bit) != 0; }

    EventLoop* loop_;
    std::uint32_t refs_ = 1;
    State state_ = State::pending;
    std::uint8_t future_flags_ = 0;
    // TaskCore's flags, kept here where they fill what would be padding.
    std::uint8_t task_flags_ = 0;
    DoneNode* head_ = nullptr;

private:
    void last_release() noexcept;  // reports an unretrieved exception, then deletes
};

// How a finished future or task hands out its value: a copy when the type allows it (several
// awaiters may read one task), else the value itself, moved out.
template <class T>
T copy_or_move(T& v) {
    if constexpr (std::is_copy_constructible_v<T>)
        return v;
    else
        return std::move(v);
}

// The value a Future<T> or Task<T> finished with. Raw storage, no "engaged" flag (8 bytes
// less than std::optional for most T): the value exists exactly when the owner finished
// without an exception, and the owner destroys it then (FutureCore::has_value()).
template <class T>
struct ResultSlot {
    union {
        T value;
    };
    ResultSlot() noexcept {}
    ResultSlot(const ResultSlot&) = delete;
    ResultSlot& operator=(const ResultSlot&) = delete;
    ~ResultSlot() {}

    template <class U>
    void set(U&& v) {
        std::construct_at(&value, std::forward<U>(v));
    }
    T get() { return copy_or_move(value); }
    void destroy() noexcept { std::destroy_at(&value); }
};
template <>
struct ResultSlot<void> {
    void get() noexcept {}
    void destroy() noexcept {}
};

// A future's done-callback: the callable gets a handle of type H to the future.
template <class H, class F>
class CallbackNode : public DoneNode, public Runnable {
public:
    // A callback for `fut`. It holds a ready-queue slot of fut's loop while it lives, so
    // that the future's completion, wherever it comes from, queues it without allocating.
    CallbackNode(FutureCore* fut, F f) : f_(std::move(f)), fut_(fut), id_(++t_last_callback_id) {
        if (EventLoop* loop = fut->loop()) LoopAccess::ready(*loop).reserve();
    }
    CallbackNode(const CallbackNode&) = delete;
    CallbackNode& operator=(const CallbackNode&) = delete;
    // The slot dies with the loop if the loop went first (the future's loop() is null then).
    virtual ~CallbackNode() {
        if (EventLoop* loop = fut_->loop()) LoopAccess::ready(*loop).unreserve();
    }

    // CPython's __schedule_callbacks goes through loop.call_soon, which raises once the loop
    // is closed: so does this (the node is gone, as CPython's list is emptied first).
    void on_done(FutureCore& fut) override {
        EventLoop* loop = fut.loop();
        if (!loop || loop->is_closed()) {
            delete this;
            throw RuntimeError("Event loop is closed");
        }
        fut.add_ref();
        LoopAccess::ready(*loop).push(this);
    }
    void run() override {
        try {
            f_(FutureCoreAccess::share<H>(fut_));
        } catch (...) {
            fut_->loop()->call_exception_handler({"Exception in callback", std::current_exception(), fut_->report_name()});
        }
        drop();
    }
    void drop() noexcept override {
        FutureCore* f = fut_;
        delete this;
        f->release();
    }
    void discard() noexcept override { delete this; }
    [[nodiscard]] std::uint64_t callback_id() const noexcept override { return id_; }

protected:
    FutureCore* future() const noexcept { return fut_; }

private:
    F f_;
    FutureCore* fut_;
    std::uint64_t id_;
};

// A done callback that runs in a context (CPython's add_done_callback keeps the context of
// the registration, a copy, or the one given): entered around all of the run, so that the
// exception handler sees it too. Entered elsewhere: the callback does not run, and the
// handler gets CPython's RuntimeError.
template <class H, class F>
class ContextCallbackNode final : public CallbackNode<H, F> {
public:
    ContextCallbackNode(FutureCore* fut, F f, Ref<ContextImpl> context) : CallbackNode<H, F>(fut, std::move(f)), context_(std::move(context)) {}
    void run() override {
        Ref<ContextImpl> context = context_;  // the node goes before the scope ends
        ContextScope scope(context.get(), std::nothrow);
        if (scope.entered()) return CallbackNode<H, F>::run();
        FutureCore* fut = this->future();
        fut->loop()->call_exception_handler({"Exception in callback", already_entered_error(context.get()), fut->report_name()});
        this->drop();
    }

private:
    Ref<ContextImpl> context_;
};

// A done callback for `fut`: in a copy of the current context if that holds variables, in
// `context` if one is given, else plain.
template <class H, class F>
CallbackNode<H, F>* new_callback_node(FutureCore* fut, F f, ContextImpl* context = nullptr) {
    if (context) return new ContextCallbackNode<H, F>(fut, std::move(f), Ref<ContextImpl>(context));
    if (Ref<ContextImpl> copy = capture_context()) [[unlikely]]
        return new ContextCallbackNode<H, F>(fut, std::move(f), std::move(copy));
    return new CallbackNode<H, F>(fut, std::move(f));
}

// For reports (src/debug.cpp): what awaiting `f` is, in words ("Task-3", "a
// Future"); and the name of the running loop's task numbered `id` ("Task-<id>" if it is gone).
[[nodiscard]] std::string describe_awaited(const FutureCore& f);
[[nodiscard]] std::string task_name_by_id(std::uint64_t id);

}  // namespace asyncio::detail
