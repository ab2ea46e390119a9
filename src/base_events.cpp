// src/base_events.cpp: the event loop proper (CPython's base_events.py): run_once with its
// ready queue, timers and reactor poll; call_soon_threadsafe; close; exception handlers.
#include <asyncio/concurrent/thread_pool.hpp>
#include <asyncio/detail/remote_op.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/events.hpp>

#include "loop_internal.hpp"
#include "stall_watch.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

namespace asyncio {
namespace detail {

namespace {
thread_local EventLoop* t_running_loop = nullptr;
// How long a virtual-clock loop that nothing can wake waits for another thread before it
// raises DeadlockError (prepare_turn).
constexpr int deadlock_grace_ms = 1000;
}  // namespace

EventLoop* running_loop() noexcept { return t_running_loop; }

// Constant-initialised (a constexpr mutex constructor, a null pointer): usable by loops made
// during static initialisation. Never locked by a debugger, which reads it stopped.
LoopRegistry loop_registry;

void print_exception_context(const ExceptionContext& c) noexcept {
    try {
        std::cerr << c.message << '\n';
        if (!c.task_name.empty()) std::cerr << "task: " << c.task_name << '\n';
        if (c.exception) std::cerr << "exception: " << describe(c.exception) << '\n';
        std::cerr << c.source_traceback;
        std::cerr.flush();
    } catch (...) {  // nothing left to report it to
    }
}

TimePoint loop_time_of(const EventLoop& loop) noexcept { return loop.time(); }

void HandleCore::cancel() noexcept {
    cancelled_ = true;
    if (queued()) {  // (the loop may be gone otherwise: do not touch it)
        LoopAccess::timers(*loop_).erase(this);
        release();  // the timers' reference; may delete this
    }
}

void HandleCore::drop() noexcept {
    LoopAccess::ready(*loop_).loose_done();
    release();
}

void HandleCore::run() {
    LoopAccess::ready(*loop_).loose_done();
    if (!cancelled_) {
        try {
            invoke();
        } catch (const KeyboardInterrupt&) {
            release();
            throw;
        } catch (...) {
            loop_->call_exception_handler({"Exception in callback", std::current_exception(), {}});
        }
    }
    release();
}

void HandleCore::fire() { LoopAccess::ready(*loop_).push_loose(this); }

Mailbox* LoopAccess::mailbox(const EventLoop& l) noexcept { return l.io_->mailbox.get(); }

std::size_t LoopAccess::registered_fds(const EventLoop& l) noexcept { return l.io_ ? l.io_->registered : 0; }
std::size_t LoopAccess::reactor_syscalls(const EventLoop& l) noexcept {
    return l.io_ ? l.io_->reactor->syscalls() + l.io_->mailbox->syscalls() : 0;
}

}  // namespace detail

void Delay::throw_nan() { throw ValueError("delay must not be NaN"); }

EventLoop::EventLoop() : io_(std::make_unique<detail::LoopIo>()) {
    const char* env = std::getenv("ASYNCIO_DEBUG");  // NOLINT(concurrency-mt-unsafe): read only, as CPython reads PYTHONASYNCIODEBUG per loop
    debug_ = env && *env && std::strcmp(env, "0") != 0;
    creation_checks_ = debug_;
    std::lock_guard lock(detail::loop_registry.mutex);
    next_loop_ = detail::loop_registry.head;
    if (next_loop_) next_loop_->prev_loop_ = this;
    detail::loop_registry.head = this;
}

EventLoop::~EventLoop() {
    if (!closed_ && !running_) close();
    detail::FutureCore::detach_all(*this);  // what outlives the loop finds loop() null
    std::lock_guard lock(detail::loop_registry.mutex);
    if (prev_loop_)
        prev_loop_->next_loop_ = next_loop_;
    else
        detail::loop_registry.head = next_loop_;
    if (next_loop_) next_loop_->prev_loop_ = prev_loop_;
}

std::unique_ptr<EventLoop> new_event_loop() { return std::make_unique<EventLoop>(); }

EventLoop& get_running_loop() {
    if (!detail::t_running_loop) throw RuntimeError("no running event loop");
    return *detail::t_running_loop;
}

void EventLoop::check_open() const {
    if (closed_) throw RuntimeError("Event loop is closed");
}

void EventLoop::run_forever() {
    check_open();
    if (running_) throw RuntimeError("This event loop is already running");
    if (detail::t_running_loop) throw RuntimeError("Cannot run the event loop while another loop is running");
    struct Reset {
        EventLoop& loop;
        ~Reset() {
            loop.running_ = false;
            loop.stopping_ = false;
            detail::t_running_loop = nullptr;
        }
    } reset{*this};
    running_ = true;
    detail::t_running_loop = this;
    // Between the pieces of code it runs the loop keeps the null context current, whatever
    // context run_forever was called in (docs/design/contextvars.md): a task or callback
    // without a context of its own then runs with nothing to switch, and the caller's
    // context is current again on return.
    detail::ContextScope no_context(nullptr, std::nothrow);
    current_context_ = &detail::t_context;
    for (;;) {
        if (debug_ || stall_watch_) [[unlikely]]
            run_once<true>();
        else
            run_once<false>();
        if (stopping_) break;
    }
}

// Out of memory, what was posted stays in the mailbox, in order, for the next iteration
// (std::bad_alloc goes to run()'s caller).
void EventLoop::drain_threadsafe() {
    detail::Mailbox& mb = *io_->mailbox;
    mb.take(ready_);
    if (mb.take_any_signal()) dispatch_signals();
}

void EventLoop::enqueue_threadsafe(detail::HandleCore* h) {
    // The mailbox outlives the loop while a sender holds it; a sender that holds only the
    // loop must not call this after the loop is destroyed (CPython's loop object lives on).
    if (!io_->mailbox->post(h)) throw RuntimeError("Event loop is closed");
}

void EventLoop::poll_io(int timeout_ms) {
    auto& io = *io_;
    io.events.clear();
    io.reactor->poll(timeout_ms, io.events);
    for (const detail::IoEvent& ev : io.events) {
        if (static_cast<std::size_t>(ev.fd) >= io.fds.size()) continue;
        detail::FdEntry& e = io.fds[static_cast<std::size_t>(ev.fd)];
        if (e.watcher) {
            e.watcher->io_ready(ev.events);  // may (un)watch fds: `e` is not used after it
            detail::drop_stray_context();    // what a protocol callback set (contextvars.md)
            continue;
        }
        if (e.read_waiter || e.write_waiter) {
            // A socket operation's next try, here in the poll phase; it may unwait and the
            // table may grow meanwhile, so the entry is looked up again after each call.
            const auto fd = static_cast<std::size_t>(ev.fd);
            if ((ev.events & detail::io_readable) && e.read_waiter) e.read_waiter->io_ready(detail::io_readable);
            if ((ev.events & detail::io_writable) && io.fds[fd].write_waiter) io.fds[fd].write_waiter->io_ready(detail::io_writable);
            if (io.fds[fd].reader || io.fds[fd].writer) poll_callbacks(io.fds[fd], ev.events);
            continue;
        }
        poll_callbacks(e, ev.events);
    }
}

// The add_reader/add_writer callbacks of a ready fd, queued. Level-triggered: an event lost
// to std::bad_alloc here is reported again.
void EventLoop::poll_callbacks(detail::FdEntry& e, std::uint32_t events) {
    if ((events & detail::io_readable) && e.reader) {
        ready_.push_loose(e.reader);
        e.reader->add_ref();
    }
    if ((events & detail::io_writable) && e.writer) {
        ready_.push_loose(e.writer);
        e.writer->add_ref();
    }
}

// One iteration (CPython's _run_once): poll I/O for as long as nothing else can happen,
// move due timers to the ready queue, then run what was ready at that moment, in order.
// The common turn of a busy loop -- something ready, no fd to poll, nothing posted by
// another thread, nothing waiting to be flushed -- needs none of the waiting phase, which
// then stays out of line (prepare_turn) with its registers and branches.
template <bool Watched>
void EventLoop::run_once() {
    detail::LoopIo& io = *io_;
    if (ready_.empty() || io.registered > 0 || io.mailbox->pending() || io.flush_head) [[unlikely]]
        prepare_turn();

    if (!timers_.empty()) fire_due_timers();

    // Run only what is ready now; what these schedule waits for the next iteration. A
    // deferred entry (a sleep's timer: CPython's handle that completes the sleep's future)
    // queues its task for the next iteration instead (ReadyQueue::push_deferred).
    for (std::size_t n = ready_.size(); n > 0 && !ready_.empty(); --n) {
        detail::Runnable* r = ready_.pop_entry();
        if (detail::ReadyQueue::is_deferred(r)) [[unlikely]] {
            ready_.requeue_deferred(r);  // out of line: the common path stays a test and a call
        } else {
            if constexpr (Watched)
                run_step_watched(r);
            else
                r->run();
            // A task or callback without a context that set a ContextVar made one: it leaves
            // now (a task keeps it for its next step), and the null context is current again.
            // (Through the address run_forever took: a load less than the thread-local's.)
            if (*current_context_) [[unlikely]]
                detail::leave_materialized_context();
        }
    }
    // What this iteration wrote leaves now, one system call per transport.
    if (io.flush_head) run_flushes();
}
template void EventLoop::run_once<false>();
template void EventLoop::run_once<true>();

// Fired before it leaves the timers: a due handle that the ready queue cannot take
// (std::bad_alloc, thrown to run()'s caller) stays queued for the next try.
void EventLoop::fire_due_timers() {
    const time_point now = time();
    while (detail::TimerNode* t = timers_.due(now)) {
        t->fire();
        timers_.erase(t);
    }
}

// The waiting phase of an iteration: what other threads posted, what was written while the
// loop was not running, then a poll for as long as nothing else can happen (no wait at all
// if something is ready), and the virtual clock's jump to the next timer.
void EventLoop::prepare_turn() {
    using namespace std::chrono;
    detail::LoopIo& io = *io_;
    if (io.mailbox->pending()) drain_threadsafe();
    if (io.flush_head) run_flushes();  // written while the loop was not running

    const bool have_fds = io.registered > 0;
    int timeout_ms = -1;
    if (!ready_.empty() || stopping_) {
        timeout_ms = 0;
    } else if (!timers_.empty()) {
        if (virtual_time_) {
            // Virtual time passes only while nothing else can happen: not while a call on
            // another thread is on its way home (wait for it instead).
            timeout_ms = remote_ops_ ? -1 : 0;
        } else {
            auto delta = timers_.next_deadline() - clock::now();
            timeout_ms = delta <= duration::zero() ? 0 : static_cast<int>(std::min<long long>(ceil<milliseconds>(delta).count(), 24LL * 3600 * 1000));
        }
    }

    // About to wait a while (10 ms or more, or any jump of the virtual clock): a moment to
    // give back the pool's empty arenas after a burst (one thread-local test when there is
    // nothing to give back; never between timers due in quick succession).
    if (ready_.empty() && !stopping_ && (virtual_time_ || timeout_ms < 0 || timeout_ms >= 10)) {
        ready_.trim();
        detail::pool_trim();
    }

    // A call on another thread is on its way home and nothing else can happen before it:
    // spin a few microseconds before sleeping in epoll (src/spin.hpp), unless the last tries
    // came to nothing (a long call: then sleep at once for the next 32 chances).
    if (timeout_ms != 0 && remote_ops_ && !stopping_) {
        if (io.spin_skip > 0) {
            --io.spin_skip;
        } else if (io.mailbox->spin_for_post(std::chrono::microseconds(20))) {
            timeout_ms = 0;
            if (!have_fds) drain_threadsafe();  // (else the poll below drains it)
        } else {
            io.spin_skip = 32;
        }
    }

    // On the virtual clock, a loop with nothing that could wake it -- nothing ready, no
    // timer, no fd, no call in another thread, no signal handled -- waits a second of real
    // time for another thread's call_soon_threadsafe, then raises DeadlockError naming what
    // each task waits on (CPython would wait forever).
    const bool may_deadlock = virtual_time_ && timeout_ms < 0 && !have_fds && !remote_ops_ && io.signals.empty();
    if (may_deadlock) timeout_ms = detail::deadlock_grace_ms;

    // A zero timeout with no fds to watch needs no system call: the thread-safe queue is
    // checked through its atomic flag instead (sleep(0) storms make no syscall).
    if (timeout_ms != 0 || have_fds) {
        if (stall_watch_) [[unlikely]]
            stall_watch_->idle.store(true, std::memory_order_relaxed);  // a stall detector sees waiting, not a stuck step
        poll_io(timeout_ms);
        if (stall_watch_) [[unlikely]]
            stall_watch_->idle.store(false, std::memory_order_relaxed);
        if (io.mailbox->pending()) drain_threadsafe();  // what woke us
    }
    if (may_deadlock && ready_.empty() && !stopping_ && timers_.empty() && !remote_ops_ && io.registered == 0) [[unlikely]]
        throw DeadlockError(detail::deadlock_report(*this));

    if (virtual_time_ && ready_.empty() && !stopping_ && !timers_.empty() && !remote_ops_) {
        // Nothing can happen before the next timer: jump to it.
        virtual_now_ = std::max(virtual_now_, timers_.earliest()->when);
    }
}

// Until the queue is empty: a flush may run user code that writes again (resume_writing).
void EventLoop::run_flushes() noexcept {
    detail::LoopIo& io = *io_;
    while (detail::IoFlusher* f = io.flush_head) {
        io.flush_head = f->flush_next;
        if (io.flush_head)
            io.flush_head->flush_prev = nullptr;
        else
            io.flush_tail = nullptr;
        f->flush_next = nullptr;
        f->flush_queued = false;
        f->io_flush();
        detail::drop_stray_context();  // what a resume_writing set (contextvars.md)
    }
}

void detail::LoopAccess::queue_flush(EventLoop& l, IoFlusher* f) noexcept {
    if (f->flush_queued || l.closed_) return;
    auto& io = *l.io_;
    f->flush_queued = true;
    f->flush_next = nullptr;
    f->flush_prev = io.flush_tail;
    if (io.flush_tail)
        io.flush_tail->flush_next = f;
    else
        io.flush_head = f;
    io.flush_tail = f;
}

void detail::LoopAccess::cancel_flush(EventLoop& l, IoFlusher* f) noexcept {
    if (!f->flush_queued || l.closed_) return;
    auto& io = *l.io_;
    (f->flush_prev ? f->flush_prev->flush_next : io.flush_head) = f->flush_next;
    (f->flush_next ? f->flush_next->flush_prev : io.flush_tail) = f->flush_prev;
    f->flush_prev = f->flush_next = nullptr;
    f->flush_queued = false;
}

bool EventLoop::remove_reader(int fd) { return clear_io_handle(fd, false); }
bool EventLoop::remove_writer(int fd) { return clear_io_handle(fd, true); }

void EventLoop::set_io_handle(int fd, bool write, detail::HandleCore* h) {
    struct Guard {
        detail::HandleCore* h;
        ~Guard() {
            if (h) h->release();
        }
    } guard{h};
    if (fd < 0) throw ValueError("Invalid file descriptor: " + std::to_string(fd));
    auto& io = *io_;
    if (static_cast<std::size_t>(fd) >= io.fds.size()) io.fds.resize(static_cast<std::size_t>(fd) + 1);
    detail::FdEntry& e = io.fds[static_cast<std::size_t>(fd)];
    if (e.watcher) throw RuntimeError("File descriptor " + std::to_string(fd) + " is used by transport");
    if (write ? e.write_waiter : e.read_waiter)
        throw RuntimeError("File descriptor " + std::to_string(fd) + " is waited on by a socket operation");
    std::uint32_t old_events = e.events();
    detail::HandleCore*& slot = write ? e.writer : e.reader;
    std::uint32_t new_events = old_events | (write ? detail::io_writable : detail::io_readable);
    if (new_events != old_events) io.reactor->watch(fd, old_events, new_events);
    if (old_events == 0) ++io.registered;
    if (slot) slot->cancel(), slot->release();  // CPython replaces an earlier callback
    slot = std::exchange(guard.h, nullptr);
}

bool EventLoop::clear_io_handle(int fd, bool write) {
    if (closed_ || fd < 0) return false;
    auto& io = *io_;
    if (static_cast<std::size_t>(fd) >= io.fds.size()) return false;
    detail::FdEntry& e = io.fds[static_cast<std::size_t>(fd)];
    detail::HandleCore*& slot = write ? e.writer : e.reader;
    if (!slot) return false;
    std::uint32_t old_events = e.events();
    detail::HandleCore* h = std::exchange(slot, nullptr);
    std::uint32_t new_events = e.events();
    if (new_events == 0) --io.registered;
    h->cancel();  // a run already queued for this iteration must not happen
    h->release();
    io.reactor->watch(fd, old_events, new_events);
    return true;
}

void detail::LoopAccess::watch_io(EventLoop& l, int fd, IoWatcher* w) {
    l.check_open();
    if (fd < 0) throw ValueError("Invalid file descriptor: " + std::to_string(fd));
    auto& io = *l.io_;
    if (static_cast<std::size_t>(fd) >= io.fds.size()) io.fds.resize(static_cast<std::size_t>(fd) + 1);
    FdEntry& e = io.fds[static_cast<std::size_t>(fd)];
    if (e.events() != 0) throw RuntimeError("File descriptor " + std::to_string(fd) + " is already watched");
    io.reactor->watch(fd, 0, io_readable | io_writable | io_edge);
    e.watcher = w;
    ++io.registered;
}

bool detail::LoopAccess::unwatch_io(EventLoop& l, int fd) noexcept {
    if (l.closed_ || fd < 0) return false;
    auto& io = *l.io_;
    if (static_cast<std::size_t>(fd) >= io.fds.size()) return false;
    FdEntry& e = io.fds[static_cast<std::size_t>(fd)];
    if (!e.watcher) return false;
    e.watcher = nullptr;
    --io.registered;
    try {
        io.reactor->watch(fd, io_readable | io_writable | io_edge, 0);
    } catch (...) {  // the fd is gone already (closed): nothing to forget
    }
    return true;
}

void detail::LoopAccess::wait_io(EventLoop& l, int fd, bool write, IoWatcher* w) {
    l.check_open();
    if (fd < 0) throw ValueError("Invalid file descriptor: " + std::to_string(fd));
    auto& io = *l.io_;
    if (static_cast<std::size_t>(fd) >= io.fds.size()) io.fds.resize(static_cast<std::size_t>(fd) + 1);
    FdEntry& e = io.fds[static_cast<std::size_t>(fd)];
    if (e.watcher) throw RuntimeError("File descriptor " + std::to_string(fd) + " is used by transport");
    if (write ? (e.writer || e.write_waiter) : (e.reader || e.read_waiter))
        throw RuntimeError(std::string("another coroutine is already waiting to ") + (write ? "write to" : "read from") + " file descriptor " +
                           std::to_string(fd));
    std::uint32_t old_events = e.events();
    std::uint32_t new_events = old_events | (write ? io_writable : io_readable);
    io.reactor->watch(fd, old_events, new_events);
    if (old_events == 0) ++io.registered;
    (write ? e.write_waiter : e.read_waiter) = w;
}

void detail::LoopAccess::unwait_io(EventLoop& l, int fd, bool write) noexcept {
    if (l.closed_ || fd < 0) return;
    auto& io = *l.io_;
    if (static_cast<std::size_t>(fd) >= io.fds.size()) return;
    FdEntry& e = io.fds[static_cast<std::size_t>(fd)];
    IoWatcher*& slot = write ? e.write_waiter : e.read_waiter;
    if (!slot) return;
    std::uint32_t old_events = e.events();
    slot = nullptr;
    std::uint32_t new_events = e.events();
    if (new_events == 0) --io.registered;
    try {
        io.reactor->watch(fd, old_events, new_events);
    } catch (...) {  // the fd was closed meanwhile: it left the epoll set with it
    }
}

detail::IoWatcher* detail::LoopAccess::watcher_of(const EventLoop& l, int fd) noexcept {
    if (l.closed_ || fd < 0 || static_cast<std::size_t>(fd) >= l.io_->fds.size()) return nullptr;
    return l.io_->fds[static_cast<std::size_t>(fd)].watcher;
}

void detail::LoopAccess::bury(EventLoop& l, std::shared_ptr<void> p) noexcept {
    auto& g = l.io_->graveyard;
    if (g.size() < g.capacity()) {
        g.push_back(std::move(p));
    } else {
        new std::shared_ptr<void>(std::move(p));  // NOLINT: no room: leaked rather than freed mid-walk
    }
}

void detail::LoopAccess::add_close_hook(EventLoop& l, LoopCloseHook* h) noexcept {
    auto& io = *l.io_;
    h->hook_prev = nullptr;
    h->hook_next = io.close_hooks;
    if (io.close_hooks) io.close_hooks->hook_prev = h;
    io.close_hooks = h;
    h->hooked = true;
}

void detail::LoopAccess::remove_close_hook(EventLoop& l, LoopCloseHook* h) noexcept {
    if (!h->hooked) return;
    auto& io = *l.io_;
    if (h->hook_prev)
        h->hook_prev->hook_next = h->hook_next;
    else
        io.close_hooks = h->hook_next;
    if (h->hook_next) h->hook_next->hook_prev = h->hook_prev;
    h->hook_prev = h->hook_next = nullptr;
    h->hooked = false;
}

// Every pending task's frame is destroyed; done tasks and futures stay (handles hold them).
// A frame's destructors may create, finish or free other tasks and futures, so each pass
// holds a reference to the node it stands on and to the next, and passes repeat until one
// finds nothing pending (a task created by a destructor is destroyed by the next pass).
void EventLoop::destroy_pending_tasks() noexcept {
    for (bool found = true; found;) {
        found = false;
        detail::FutureCore* c = cores_;
        if (c) c->add_ref();
        while (c) {
            if (c->is_task() && !c->done()) {
                found = true;
                static_cast<detail::TaskCore*>(c)->destroy_pending();
            }
            detail::FutureCore* next = c->next_in_loop;
            if (next) next->add_ref();
            c->release();
            c = next;
        }
    }
}

void EventLoop::close() {
    if (running_) throw RuntimeError("Cannot close a running event loop");
    if (closed_) return;
    closing_ = true;
    while (!ready_.empty()) ready_.pop()->drop();
    destroy_pending_tasks();
    while (!ready_.empty()) ready_.pop()->drop();  // queued by destructors of those frames
    while (detail::TimerNode* t = timers_.pop_any()) t->on_loop_close();
    auto& io = *io_;
    std::vector<detail::IoWatcher*> watchers;
    for (detail::FdEntry& e : io.fds) {
        if (e.reader) std::exchange(e.reader, nullptr)->release();
        if (e.writer) std::exchange(e.writer, nullptr)->release();
        if (e.watcher) {
            try {
                watchers.push_back(e.watcher);
            } catch (...) {  // out of memory: that transport is told nothing, and leaks
            }
        }
    }
    io.fds.clear();
    io.registered = 0;
    while (detail::IoFlusher* f = io.flush_head) {
        io.flush_head = f->flush_next;
        f->flush_prev = f->flush_next = nullptr;
        f->flush_queued = false;
    }
    io.flush_tail = nullptr;
    // Transports and servers let go of their sockets and of the loop (unwatching is a no-op
    // now). What they release goes to the graveyard, dropped once all were told: a transport
    // no one else holds is then destroyed, its protocol (and maybe its server) with it.
    try {
        io.graveyard.reserve(2 * watchers.size());
    } catch (...) {  // out of memory: bury() leaks what does not fit
    }
    for (detail::IoWatcher* w : watchers) w->io_loop_closed();
    while (detail::LoopCloseHook* h = io.close_hooks) {
        io.close_hooks = h->hook_next;
        h->hook_prev = h->hook_next = nullptr;
        h->hooked = false;
        h->loop_closed();
    }

    // CPython's close(): the default executor is shut down without waiting; its threads end
    // on their own when their work is done.
    if (default_executor_) std::exchange(default_executor_, nullptr)->shutdown(false, false);
    close_signals();
    detail::RemoteOp::let_go_all(*this);  // before the mailbox closes (detail/remote_op.hpp)
    for (detail::HandleCore* h = io.mailbox->close(); h;) {
        detail::HandleCore* next = h->mailbox_next;
        h->release();
        h = next;
    }
    closed_ = true;
    creation_checks_ = true;
    // Last, on a closed loop: what the watchers let go of (a destructor that reaches the
    // loop now finds it closed).
    std::vector<std::shared_ptr<void>> dead = std::move(io.graveyard);
    dead.clear();
}

void EventLoop::default_exception_handler(const ExceptionContext& context) { detail::print_exception_context(context); }

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
    if (!exception_handler_) {
        detail::print_exception_context(context);
        return;
    }
    try {
        exception_handler_(*this, context);
    } catch (...) {
        detail::print_exception_context({"Unhandled error in exception handler", std::current_exception(), {}});
        detail::print_exception_context(context);
    }
}

}  // namespace asyncio
