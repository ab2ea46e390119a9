// src/futures.cpp: out-of-line parts of the state shared by Future and Task
// (Lib/asyncio/futures.py).
#include <asyncio/futures.hpp>
#include <asyncio/graph.hpp>

#include "loop_internal.hpp"

#include <mutex>
#include <new>
#include <unordered_map>

namespace asyncio::detail {

bool FutureCore::cancel(const std::string& msg) {
    if (state_ != State::pending) return false;
    set_cancel_message(msg);
    finish_cancelled();
    return true;
}

std::size_t FutureCore::remove_user_callback(std::uint64_t id) noexcept {
    if (id == 0) return 0;
    for (DoneNode* n = head_; n; n = n->next) {
        if (n->callback_id() == id) {
            remove_node(n);
            n->discard();
            return 1;
        }
    }
    return 0;
}

void FutureCore::discard_callbacks() noexcept {
    while (DoneNode* n = head_) {
        remove_node(n);
        n->discard();
    }
}

// The extras of the futures that have some: one table per loop, touched only on the loop's
// thread (futures belong to it), so no lock. A future that outlives its loop takes its
// extras to the orphans' table, which is shared by every thread and locked; only futures
// kept past their loop's destruction use it.
struct ExtrasTable {
    std::unordered_map<const FutureCore*, FutureExtras> map;
};

namespace {

struct OrphanTable {
    std::mutex mutex;
    ExtrasTable table;
};
OrphanTable& orphans() {
    static OrphanTable* t = new OrphanTable;  // never destroyed: futures may outlive statics
    return *t;
}

// Calls f(table) with the table that holds (or will hold) `c`'s extras. References into a
// table stay valid until their entry is erased (unordered_map never moves its nodes).
template <class F>
decltype(auto) with_table(EventLoop* loop, F&& f) {
    if (loop) {
        ExtrasTable*& t = LoopAccess::extras(*loop);
        if (!t) t = new ExtrasTable;
        return f(*t);
    }
    OrphanTable& o = orphans();
    std::lock_guard lock(o.mutex);
    return f(o.table);
}

}  // namespace

FutureCore::Extras& FutureCore::extras() {
    Extras& e = with_table(loop_, [this](ExtrasTable& t) -> Extras& { return t.map[this]; });
    future_flags_ |= has_extras_bit;
    return e;
}

FutureCore::Extras* FutureCore::find_extras() const {
    return with_table(loop_, [this](ExtrasTable& t) -> Extras* {
        auto it = t.map.find(this);
        return it == t.map.end() ? nullptr : &it->second;
    });
}

void FutureCore::drop_extras() noexcept {
    with_table(loop_, [this](ExtrasTable& t) { t.map.erase(this); });
    future_flags_ &= static_cast<std::uint8_t>(~(has_extras_bit | has_exception_bit));
}

namespace {

// What a future holds when there was no memory to keep its exception (store_exception).
const std::exception_ptr& out_of_memory_error() noexcept {
    static const std::exception_ptr e = std::make_exception_ptr(std::bad_alloc());
    return e;
}

}  // namespace

// The exception stored; std::bad_alloc if it could not be kept. Precondition: has_exception().
std::exception_ptr FutureCore::stored_exception() const noexcept {
    Extras* x = has_extras() ? find_extras() : nullptr;
    return x && x->exception ? x->exception : out_of_memory_error();
}

std::exception_ptr FutureCore::exception() {
    if (state_ == State::pending) throw InvalidStateError("Exception is not set.");
    if (state_ != State::finished) throw_not_finished();
    future_flags_ |= retrieved_bit;
    return has_exception() ? stored_exception() : nullptr;
}

void FutureCore::rethrow_stored() {
    future_flags_ |= retrieved_bit;
    std::rethrow_exception(stored_exception());
}

// Never throws: a coroutine's unhandled_exception() and a task's end store exceptions where
// nothing could take a std::bad_alloc. Out of memory for the extras, the future fails with
// std::bad_alloc instead of `e` (CPython's MemoryError in its place).
void FutureCore::store_exception(std::exception_ptr e) noexcept {
    try {
        extras().exception = std::move(e);
    } catch (const std::bad_alloc&) {
        // No entry: stored_exception() answers std::bad_alloc.
    }
    future_flags_ |= has_exception_bit;
}

std::exception_ptr FutureCore::take_exception() noexcept {
    std::exception_ptr e = stored_exception();
    future_flags_ &= static_cast<std::uint8_t>(~has_exception_bit);
    if (Extras* x = has_extras() ? find_extras() : nullptr) x->exception = nullptr;
    return e;
}

void FutureCore::throw_not_finished() const {
    if (state_ == State::cancelled) throw CancelledError(cancel_message());
    throw InvalidStateError("Result is not set.");
}

void throw_different_loop(const TaskCore& task, const FutureCore& fut) {
    std::string what = fut.is_task() ? "Future <Task " + fut.report_name() + ">" : std::string("Future");
    throw RuntimeError("Task " + task.name() + " got " + what + " attached to a different loop");
}

void FutureCore::throw_loop_gone() { throw RuntimeError("Event loop is closed"); }

void FutureCore::detach_all(EventLoop& loop) noexcept {
    FutureCore*& head = LoopAccess::cores(loop);
    ExtrasTable* table = std::exchange(LoopAccess::extras(loop), nullptr);
    while (FutureCore* c = head) {
        head = c->next_in_loop;
        c->prev_in_loop = c->next_in_loop = nullptr;
        c->loop_ = nullptr;
        if (c->has_extras() && table) {
            auto node = table->map.extract(c);
            OrphanTable& o = orphans();
            std::lock_guard lock(o.mutex);
            try {
                o.table.map.insert(std::move(node));  // moves no element; may rehash
            } catch (...) {                           // out of memory: the extras are lost
                c->future_flags_ &= static_cast<std::uint8_t>(~(has_extras_bit | has_exception_bit));
            }
        }
    }
    delete table;
}

void FutureCore::note_origin(SourceSite where) noexcept {
    try {
        extras().origin = where;
    } catch (const std::bad_alloc&) {  // a debugging aid: the future goes on without it
    }
}

std::string FutureCore::origin_traceback() const {
    const Extras* x = has_extras() ? find_extras() : nullptr;
    if (!x || !x->origin.known()) return {};
    return "Object created at (most recent call last):\n  File \"" + std::string(x->origin.file()) + "\", line " + std::to_string(x->origin.line()) + ", in " +
           site_function(x->origin) + "\n";
}

void FutureCore::last_release() noexcept {
    if (state_ == State::finished && has_exception() && !(future_flags_ & retrieved_bit)) {
        try {
            std::string name = report_name();
            ExceptionContext ctx{name.empty() ? "Future exception was never retrieved" : "Task exception was never retrieved", stored_exception(), name,
                                 origin_traceback()};
            if (loop_)
                loop_->call_exception_handler(ctx);
            else
                print_exception_context(ctx);
        } catch (...) {  // out of memory for the report: the future goes without one
        }
    }
    delete this;
}

}  // namespace asyncio::detail
