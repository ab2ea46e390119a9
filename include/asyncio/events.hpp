// asyncio/events.hpp: EventLoop, Handle, TimerHandle, ExceptionContext, get_running_loop,
// new_event_loop. Mirrors Lib/asyncio/events.py (the loop itself is src/base_events.cpp).
#pragma once

#include <asyncio/contextvars.hpp>
#include <asyncio/detail/awaitable.hpp>
#include <asyncio/detail/ready_queue.hpp>
#include <asyncio/detail/ref.hpp>
#include <asyncio/detail/source_site.hpp>
#include <asyncio/detail/timer_queue.hpp>
#include <asyncio/exceptions.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {

class EventLoop;
class Handle;
class Socket;                    // socket.hpp
class SocketAddress;             // socket.hpp
struct AddrInfo;                 // socket.hpp
class Server;                    // server.hpp
class Transport;                 // transports.hpp
struct ConnectionOptions;        // network.hpp
struct ServerOptions;            // network.hpp
struct UnixServerOptions;        // network.hpp
struct SubprocessOptions;        // subprocess.hpp
class SubprocessTransport;       // subprocess.hpp
struct DatagramEndpointOptions;  // datagrams.hpp
class TimerHandle;
namespace concurrent {
class Executor;
class ThreadPoolExecutor;
}  // namespace concurrent
// Coro, Task and Future are declared in detail/awaitable.hpp.

namespace detail {
class FutureCore;
class TaskCore;
struct IoWatcher;      // detail/io_watcher.hpp
struct IoFlusher;      // detail/io_watcher.hpp
struct LoopCloseHook;  // detail/io_watcher.hpp
struct ExtrasTable;    // src/futures.cpp: what few futures carry (FutureExtras), per loop
struct LoopAccess;
struct FdEntry;     // src/loop_internal.hpp
struct LoopIo;      // reactor, fd table and the thread-safe queue: src/base_events.cpp
class Mailbox;      // src/mailbox.hpp
class RemoteOp;     // detail/remote_op.hpp
struct StallWatch;  // what a stall detector reads of its loop: src/stall_detector.hpp
class SockRecv;     // the socket operations: sock_ops.hpp
class SockRecvInto;
class SockRecvFrom;
class SockRecvFromInto;
class SockSendAll;
class SockSendTo;
class SockConnect;
class SockAccept;

// The shared state behind Handle and TimerHandle: a callback the loop runs once (or, for
// add_reader/add_writer, each time the fd is ready). Reference counted because the caller's
// Handle, the ready queue and the timers may each hold it; the count is atomic because
// call_soon_threadsafe hands one to another thread.
class HandleCore : public Runnable, public TimerNode {
public:
    explicit HandleCore(EventLoop* loop) noexcept : loop_(loop) {}
    HandleCore(const HandleCore&) = delete;
    HandleCore& operator=(const HandleCore&) = delete;
    virtual ~HandleCore() = default;

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        // acq_rel: the last owner must see every write the others made before deleting.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    void cancel() noexcept;
    [[nodiscard]] bool cancelled() const noexcept { return cancelled_; }

    // Handles are the ready queue's loose entries (ReadyQueue): each leaves it through one of
    // these two, which tell the queue.
    void run() override;  // the ready queue's reference is consumed
    void drop() noexcept override;
    // The heap's reference moves to the ready queue. Throws: std::bad_alloc, with nothing
    // queued (the loop keeps the handle queued then).
    void fire() override;
    void on_loop_close() noexcept override { release(); }

    HandleCore* mailbox_next = nullptr;  // the queue of call_soon_threadsafe (src/mailbox.hpp)

protected:
    virtual void invoke() = 0;
    [[nodiscard]] EventLoop* loop() const noexcept { return loop_; }

private:
    EventLoop* loop_;
    std::atomic<std::uint32_t> refs_{1};
    bool cancelled_ = false;
};

template <class F>
class CallbackHandle final : public HandleCore {
public:
    CallbackHandle(EventLoop* loop, F f) : HandleCore(loop), f_(std::move(f)) {}

private:
    void invoke() override { f_(); }
    F f_;
};

// A callback that runs in a context (CPython's Handle: `self._context.run(callback)`): a copy
// of the context current when it was scheduled, if that held variables, or the one given.
// A callback scheduled where the context is empty is a plain CallbackHandle: it runs in the
// null context the loop keeps between callbacks, and what it sets is dropped after it.
template <class F>
class ContextCallbackHandle final : public HandleCore {
public:
    ContextCallbackHandle(EventLoop* loop, F f, Ref<ContextImpl> context) : HandleCore(loop), f_(std::move(f)), context_(std::move(context)) {}

private:
    // The context is entered around all of the handle's run, so that the loop's exception
    // handler sees it too (CPython 3.12, gh-96704). Entered elsewhere: the callback raises
    // CPython's RuntimeError instead of running.
    void run() override {
        Ref<ContextImpl> context = context_;  // the handle may go before the scope ends
        ContextScope scope(context.get(), std::nothrow);
        refused_ = !scope.entered();
        HandleCore::run();
    }
    void invoke() override {
        if (refused_) throw_already_entered(context_.get());
        f_();
    }
    F f_;
    Ref<ContextImpl> context_;
    bool refused_ = false;
};

// The handle for callback `f`: in a copy of the current context if it holds variables,
// else plain (no allocation or entering for programs that never set a ContextVar).
template <class F>
HandleCore* new_callback_handle(EventLoop* loop, F f) {
    if (Ref<ContextImpl> context = capture_context()) [[unlikely]]
        return new ContextCallbackHandle<F>(loop, std::move(f), std::move(context));
    return new CallbackHandle<F>(loop, std::move(f));
}
// The handle for `f` in `context` (the `context=` argument).
template <class F>
HandleCore* new_callback_handle(EventLoop* loop, F f, ContextImpl* context) {
    return new ContextCallbackHandle<F>(loop, std::move(f), Ref<ContextImpl>(context));
}

// Whether F is a Context: the callback overloads take a context first.
template <class F>
inline constexpr bool is_context_v = std::is_same_v<std::remove_cvref_t<F>, Context>;

template <class F, class... A>
auto bind_callback(F&& f, A&&... args) {
    if constexpr (sizeof...(A) == 0) {
        static_assert(std::is_invocable_v<std::decay_t<F>&>, "callback must be callable with the given arguments");
        return std::decay_t<F>(std::forward<F>(f));
    } else {
        static_assert(std::is_invocable_v<std::decay_t<F>&, std::decay_t<A>&...>,
                      "callback must be callable with the given arguments");
        return [f = std::decay_t<F>(std::forward<F>(f)),
                args = std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)]() mutable { std::apply(f, args); };
    }
}

}  // namespace detail

/// A delay: a `std::chrono` duration, or seconds as a `double` as in Python.
///
/// Python: the `delay` / `timeout` float arguments.
/// Throws: `ValueError` for NaN. Infinity and values beyond a century are clamped to a
///   century, which no program waits out.
struct Delay {
    /// The delay in the loop clock's units; a delay of zero or less is due at once.
    std::chrono::steady_clock::duration value;

    // Implicit, so that sleep(0.5) works; inline, because sleep(0) is a hot path.
    /// Seconds, as Python's floats: `sleep(0.5)`.
    Delay(double seconds) {  // NOLINT(google-explicit-constructor)
        constexpr double century = 100.0 * 365 * 24 * 3600;
        if (std::isnan(seconds)) throw_nan();
        if (seconds > century) seconds = century;
        if (seconds < -century) seconds = -century;
        value = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
    }
    /// A `std::chrono` duration: `sleep(500ms)`.
    template <class Rep, class Period>
    Delay(std::chrono::duration<Rep, Period> d)  // NOLINT(google-explicit-constructor)
        : value(clamp(d)) {}

private:
    [[noreturn]] static void throw_nan();
    template <class Rep, class Period>
    static std::chrono::steady_clock::duration clamp(std::chrono::duration<Rep, Period> d) {
        using namespace std::chrono;
        constexpr auto century = duration_cast<steady_clock::duration>(hours(24 * 365 * 100));
        if (duration_cast<duration<double>>(d).count() > duration<double>(century).count()) return century;
        if (duration_cast<duration<double>>(d).count() < -duration<double>(century).count()) return -century;
        return duration_cast<steady_clock::duration>(d);
    }
};

/// A callback scheduled with `call_soon` (or registered with `add_reader`); `cancel()` keeps
/// it from running.
///
/// Python: `asyncio.Handle`
/// Differs from CPython: copies share the one scheduled callback.
class Handle {
public:
    Handle() = default;

    /// Stops the callback from running; a no-op once it ran. A timer leaves the loop's timers at once.
    ///
    /// Python: `Handle.cancel()`
    void cancel() noexcept {
        if (core_) core_->cancel();
    }
    /// Whether `cancel()` was called.
    ///
    /// Python: `Handle.cancelled()`
    [[nodiscard]] bool cancelled() const noexcept { return core_ && core_->cancelled(); }

protected:
    friend class EventLoop;
    // Takes over the reference `core` was created with.
    explicit Handle(detail::HandleCore* core) noexcept : core_(core, detail::adopt_ref) {}
    detail::Ref<detail::HandleCore> core_;
};

/// A callback scheduled for a point in time with `call_later` or `call_at`.
///
/// Python: `asyncio.TimerHandle`
class TimerHandle : public Handle {
public:
    TimerHandle() = default;
    /// The loop time at which the callback is due.
    ///
    /// Python: `TimerHandle.when()` (a float there, a time_point here)
    [[nodiscard]] std::chrono::steady_clock::time_point when() const noexcept { return core_ ? core_->when : std::chrono::steady_clock::time_point{}; }

private:
    friend class EventLoop;
    explicit TimerHandle(detail::HandleCore* core) noexcept : Handle(core) {}
};

/// What the loop's exception handler receives.
///
/// Python: the `context` dict of `loop.call_exception_handler(context)`; its keys
///   `message`, `exception` and the name of the `task`/`future` are the members here.
struct ExceptionContext {
    /// What happened. Python: ``context['message']``.
    std::string message;
    /// The error, or null. Python: ``context['exception']`` (absent there when there is none).
    std::exception_ptr exception;
    /// The name of the task or future the error belongs to, else empty. Python: the
    /// ``context['task']`` or ``context['future']`` object.
    std::string task_name;  // empty unless the error belongs to a task or future
    /// Where the task or future was created, when the loop is in debug mode: CPython's
    /// ``Object created at (most recent call last):`` and one ``File "...", line N, in f``
    /// line (the call of `create_task` or `create_future`), else empty. Python:
    /// ``context['source_traceback']``, printed as that text by the default handler.
    std::string source_traceback{};
};

/// The event loop: a ready queue, timers and an epoll reactor, run on one thread.
///
/// Python: `asyncio.AbstractEventLoop` / `BaseEventLoop`
/// Differs from CPython: `time()` returns a `std::chrono::steady_clock::time_point`, not a
///   float; there is no loop policy, `get_event_loop()` or `set_event_loop()`: use `run()`,
///   `Runner`, or an `EventLoop` object directly; a closed loop destroys the frames of the
///   tasks still pending on it and reports each ("Task was destroyed but it is pending!").
class EventLoop {
public:
    /// The real clock, monotonic as CPython's `time.monotonic()`; a virtual-clock loop
    /// (`asyncio::testing`) keeps its own time in the same `time_point` type.
    using clock = std::chrono::steady_clock;
    /// A point in loop time: what `time()` returns and `call_at` takes.
    using time_point = clock::time_point;
    /// A span of loop time.
    using duration = clock::duration;
    /// What `set_exception_handler` takes: called with the loop and what went wrong.
    ///
    /// Python: the `handler(loop, context)` of `loop.set_exception_handler(handler)`
    using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

    /// A loop on the real monotonic clock.
    EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    /// Closes the loop if it is not closed yet.
    ~EventLoop();

    /// Schedules `f(args...)` to run in the next iteration, after everything already queued,
    /// in a copy of the current context (CPython's `context=None`): what it sets is dropped
    /// after it.
    ///
    /// Python: `loop.call_soon(callback, *args)`
    /// Throws: `RuntimeError` if the loop is closed.
    template <class F, class... A>
        requires(!detail::is_context_v<F>)
    Handle call_soon(F&& f, A&&... args) {
        check_open();
        return push_soon(detail::new_callback_handle(this, detail::bind_callback(std::forward<F>(f), std::forward<A>(args)...)));
    }
    /// Schedules `f(args...)` to run in `context`: what it sets stays in that context.
    ///
    /// Python: `loop.call_soon(callback, *args, context=context)`
    /// Throws: `RuntimeError` if the loop is closed. If `context` is entered when the
    ///   callback is due, the callback does not run and the exception handler gets
    ///   `RuntimeError("cannot enter context: ...")`, as in CPython.
    /// Differs from CPython: the context comes first (C++ has no keyword arguments after
    ///   `*args`).
    template <class F, class... A>
    Handle call_soon(const Context& context, F&& f, A&&... args) {
        check_open();
        return push_soon(detail::new_callback_handle(this, detail::bind_callback(std::forward<F>(f), std::forward<A>(args)...), detail::ContextAccess::impl(context)));
    }

    /// Schedules `f(args...)` to run once `delay` has passed; equal deadlines run in the
    /// order they were scheduled.
    ///
    /// Python: `loop.call_later(delay, callback, *args)`
    /// Throws: `RuntimeError` if the loop is closed, `ValueError` for a NaN delay.
    template <class F, class... A>
        requires(!detail::is_context_v<F>)
    TimerHandle call_later(Delay delay, F&& f, A&&... args) {
        return call_at(time() + delay.value, std::forward<F>(f), std::forward<A>(args)...);
    }
    /// `call_later` in `context`.
    ///
    /// Python: `loop.call_later(delay, callback, *args, context=context)`
    /// Differs from CPython: the context comes before the callback.
    template <class F, class... A>
    TimerHandle call_later(Delay delay, const Context& context, F&& f, A&&... args) {
        return call_at(time() + delay.value, context, std::forward<F>(f), std::forward<A>(args)...);
    }

    /// Schedules `f(args...)` to run at loop time `when`.
    ///
    /// Python: `loop.call_at(when, callback, *args)`
    template <class F, class... A>
        requires(!detail::is_context_v<F>)
    TimerHandle call_at(time_point when, F&& f, A&&... args) {
        check_open();
        return push_timer(when, detail::new_callback_handle(this, detail::bind_callback(std::forward<F>(f), std::forward<A>(args)...)));
    }
    /// `call_at` in `context`.
    ///
    /// Python: `loop.call_at(when, callback, *args, context=context)`
    /// Differs from CPython: the context comes before the callback.
    template <class F, class... A>
    TimerHandle call_at(time_point when, const Context& context, F&& f, A&&... args) {
        check_open();
        return push_timer(when, detail::new_callback_handle(this, detail::bind_callback(std::forward<F>(f), std::forward<A>(args)...), detail::ContextAccess::impl(context)));
    }

    /// Schedules `f(args...)` from any thread and wakes the loop; it runs in a copy of the
    /// calling thread's current context.
    ///
    /// Python: `loop.call_soon_threadsafe(callback, *args)`
    /// Throws: `RuntimeError` if the loop is closed.
    template <class F, class... A>
        requires(!detail::is_context_v<F>)
    Handle call_soon_threadsafe(F&& f, A&&... args) {
        auto* h = detail::new_callback_handle(this, detail::bind_callback(std::forward<F>(f), std::forward<A>(args)...));
        Handle result(h);
        enqueue_threadsafe(h);
        return result;
    }
    /// `call_soon_threadsafe` in `context`.
    ///
    /// Python: `loop.call_soon_threadsafe(callback, *args, context=context)`
    /// Differs from CPython: the context comes before the callback.
    template <class F, class... A>
    Handle call_soon_threadsafe(const Context& context, F&& f, A&&... args) {
        auto* h = detail::new_callback_handle(this, detail::bind_callback(std::forward<F>(f), std::forward<A>(args)...), detail::ContextAccess::impl(context));
        Handle result(h);
        enqueue_threadsafe(h);
        return result;
    }

    /// The loop's clock: steady_clock, or the virtual clock of `asyncio::testing`.
    ///
    /// Python: `loop.time()`
    [[nodiscard]] time_point time() const noexcept { return virtual_time_ ? virtual_now_ : clock::now(); }

    /// Runs until `stop()` is called.
    ///
    /// Python: `loop.run_forever()`
    /// Throws: `RuntimeError` if the loop is closed, already running, or another loop runs
    ///   on this thread.
    void run_forever();

    /// Runs until `aw` (a Coro, wrapped in a task, a Task or a Future) is done; returns its
    /// result or rethrows its exception. Defined in tasks.hpp.
    ///
    /// Python: `loop.run_until_complete(future)`
    /// Throws: `RuntimeError("Event loop stopped before Future completed.")`.
    template <class Aw>
    auto run_until_complete(Aw&& aw);

    /// Asks `run_forever()` to return after the current iteration.
    ///
    /// Python: `loop.stop()`
    void stop() noexcept { stopping_ = true; }
    /// Python: `loop.is_running()`
    [[nodiscard]] bool is_running() const noexcept { return running_; }
    /// Python: `loop.is_closed()`
    [[nodiscard]] bool is_closed() const noexcept { return closed_; }

    /// Drops queued callbacks and timers, destroys the frames of tasks still pending (each
    /// reported through the exception handler) and releases the reactor. Idempotent.
    ///
    /// Python: `loop.close()`
    /// Throws: `RuntimeError("Cannot close a running event loop")`.
    void close();

    /// Wraps `coro` in a Task scheduled on this loop. In debug mode the task records `where`,
    /// the place of this call, and the reports about it carry it (ExceptionContext's
    /// `source_traceback`). Defined in tasks.hpp.
    ///
    /// Python: `loop.create_task(coro, name=None)`
    template <class T>
    Task<T> create_task(Coro<T> coro, detail::SourceSite where = ASYNCIO_SOURCE_SITE);
    /// Python: `loop.create_task(coro, name=name)`
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name, detail::SourceSite where = ASYNCIO_SOURCE_SITE);
    /// A task that runs in `context` itself, not a copy: what it sets is visible in
    /// `context` afterwards (an empty `name`: the default one). Defined in tasks.hpp.
    ///
    /// Python: `loop.create_task(coro, name=name, context=context)`
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name, Context context, detail::SourceSite where = ASYNCIO_SOURCE_SITE);
    /// Wraps one of the library's other awaitables (`asyncio::sleep(1)`, `q.get()`,
    /// `lock.acquire()`: coroutines in CPython) in a Task. Defined in tasks.hpp.
    ///
    /// Python: `loop.create_task(asyncio.sleep(1))`
    template <detail::PlainAwaitable Aw>
    auto create_task(Aw aw, detail::SourceSite where = ASYNCIO_SOURCE_SITE);
    /// Calls `f(args...)` inside a new Task, keeping `f` and the arguments alive in the task
    /// until it ends: a coroutine lambda with captures is safe here even if the lambda object
    /// is a temporary. Defined in tasks.hpp.
    ///
    /// Python: `loop.create_task(f(*args))` (Python closures keep their captures alive)
    /// Differs from CPython: debug mode records no creation site for these tasks (a default
    ///   argument cannot follow the arguments' pack).
    template <class F, class... A>
        requires detail::CoroutineCallable<F, A...>
    auto create_task(F&& f, A&&... args);

    /// A new pending Future bound to this loop. Defined in futures.hpp.
    ///
    /// In debug mode the future records `where`, the place of this call, for the "exception
    /// was never retrieved" report.
    ///
    /// Python: `loop.create_future()`
    template <class T = void>
    Future<T> create_future(detail::SourceSite where = ASYNCIO_SOURCE_SITE);

    /// Calls `f(args...)` every time `fd` is readable, until `remove_reader(fd)`; replaces a
    /// reader registered before. Every call runs in one copy of the context current here, so
    /// what one call sets the next one sees (CPython's one Handle and its context).
    ///
    /// Python: `loop.add_reader(fd, callback, *args)`
    /// Throws: `RuntimeError` if closed or if a transport of the library owns the fd ("File
    ///   descriptor N is used by transport", as CPython), `ValueError` for a negative fd,
    ///   `std::system_error` if epoll refuses the fd (a regular file, for one).
    template <class F, class... A>
    void add_reader(int fd, F&& f, A&&... args) {
        check_open();
        set_io_handle(fd, false, detail::new_callback_handle(this, detail::bind_callback(std::forward<F>(f), std::forward<A>(args)...), detail::capture_context_object().get()));
    }
    /// Stops watching `fd` for reading; returns whether a reader was registered.
    ///
    /// Python: `loop.remove_reader(fd)`
    bool remove_reader(int fd);
    /// Like `add_reader`, for writability.
    ///
    /// Python: `loop.add_writer(fd, callback, *args)`
    template <class F, class... A>
    void add_writer(int fd, F&& f, A&&... args) {
        check_open();
        set_io_handle(fd, true, detail::new_callback_handle(this, detail::bind_callback(std::forward<F>(f), std::forward<A>(args)...), detail::capture_context_object().get()));
    }
    /// Python: `loop.remove_writer(fd)`
    bool remove_writer(int fd);

    /// Opens a TCP connection to `host`:`port` and drives it with a protocol from
    /// `protocol_factory` (a callable returning a Protocol or BufferedProtocol, by value or
    /// as std::unique_ptr): the host is resolved, each address tried in order until one
    /// connects. Gives the transport and the protocol (owned by the transport, alive as long
    /// as it). Defined in network.hpp, as the calls below.
    ///
    /// Python: `await loop.create_connection(protocol_factory, host, port, *, family=0,
    ///   proto=0, flags=0, local_addr=None, happy_eyeballs_delay=None, interleave=None,
    ///   all_errors=False)`
    /// Throws: the connect error (ConnectionRefusedError ...) if one address was tried or all
    ///   failed alike, else `OSError("Multiple exceptions: ...")`; `GaiError`.
    /// Differs from CPython: no ssl; TCP_NODELAY is set, as CPython does.
    template <class F>
    auto create_connection(F&& protocol_factory, std::string host, int port);
    /// With options (`{.local_addr = {{"127.0.0.1", 0}}}`).
    template <class F>
    auto create_connection(F&& protocol_factory, std::string host, int port, const ConnectionOptions& options);
    /// Over a connected socket of the caller's.
    ///
    /// Python: `await loop.create_connection(protocol_factory, sock=sock)`
    template <class F>
    auto create_connection(F&& protocol_factory, Socket sock);
    /// Python: `await loop.create_unix_connection(protocol_factory, path)`
    template <class F>
    auto create_unix_connection(F&& protocol_factory, std::string path);
    /// A transport and protocol for a connection accepted elsewhere.
    ///
    /// Python: `await loop.connect_accepted_socket(protocol_factory, sock)`
    template <class F>
    auto connect_accepted_socket(F&& protocol_factory, Socket sock);
    /// A TCP server on `host` (empty: every interface, IPv4 and IPv6) and `port` (0: one the
    /// system picks): every address it resolves to is bound; each connection gets a
    /// protocol from `protocol_factory`.
    ///
    /// Python: `await loop.create_server(protocol_factory, host, port, *, family, flags,
    ///   backlog=100, reuse_address, reuse_port, keep_alive, start_serving=True)`
    /// Throws:
    ///   ``OSError("error while attempting to bind on address ('127.0.0.1', 80): permission denied")``
    ///   of the errno's subclass; `GaiError`.
    /// Differs from CPython: no ssl; options in a struct.
    template <class F>
    Coro<std::shared_ptr<Server>> create_server(F&& protocol_factory, std::string host, int port);
    /// With options (`{.backlog = 1000, .reuse_port = true}`).
    template <class F>
    Coro<std::shared_ptr<Server>> create_server(F&& protocol_factory, std::string host, int port, const ServerOptions& options);
    /// On several hosts at once.
    ///
    /// Python: ``create_server(protocol_factory, ['127.0.0.1', '::1'], port)``
    template <class F>
    Coro<std::shared_ptr<Server>> create_server(F&& protocol_factory, std::vector<std::string> hosts, int port, const ServerOptions& options);
    /// On a bound socket of the caller's.
    ///
    /// Python: `create_server(protocol_factory, sock=sock)`
    template <class F>
    Coro<std::shared_ptr<Server>> create_server(F&& protocol_factory, Socket sock, const ServerOptions& options);
    /// A server on a Unix socket at `path` (a stale socket file there is replaced).
    ///
    /// Python: `await loop.create_unix_server(protocol_factory, path, *, backlog=100,
    ///   start_serving=True, cleanup_socket=True)`
    template <class F>
    Coro<std::shared_ptr<Server>> create_unix_server(F&& protocol_factory, std::string path);
    /// With options.
    template <class F>
    Coro<std::shared_ptr<Server>> create_unix_server(F&& protocol_factory, std::string path, const UnixServerOptions& options);
    /// On a bound Unix stream socket of the caller's (its file is removed on close() as for
    /// a path, with cleanup_socket).
    ///
    /// Python: `await loop.create_unix_server(protocol_factory, sock=sock)`
    /// Throws: `ValueError` if `sock` is not an AF_UNIX SOCK_STREAM socket.
    template <class F>
    Coro<std::shared_ptr<Server>> create_unix_server(F&& protocol_factory, Socket sock, const UnixServerOptions& options);

    /// Drives the read end of a pipe (or a socket, tty, FIFO) with a protocol from
    /// `protocol_factory` (a Protocol or BufferedProtocol): what arrives goes to
    /// data_received, the writer's close to eof_received, then connection_lost. The
    /// transport owns `fd` from now on (closes it when done, also when this fails) and
    /// makes it non-blocking. Defined in pipes.hpp.
    ///
    /// Python: `await loop.connect_read_pipe(protocol_factory, pipe)`
    /// Throws: `ValueError("Pipe transport is for pipes/sockets only.")` for a regular file.
    /// Differs from CPython: takes an fd (CPython a file object); the transport is a
    ///   Transport whose write() raises RuntimeError (CPython's ReadTransport has none).
    template <class F>
    auto connect_read_pipe(F&& protocol_factory, int fd);
    /// Drives the write end of a pipe with a protocol: write() and flow control as a
    /// socket's; the reader's close is connection_lost (with BrokenPipeError if bytes were
    /// still unsent). The transport owns `fd`. Defined in pipes.hpp.
    ///
    /// Python: `await loop.connect_write_pipe(protocol_factory, pipe)`
    /// Differs from CPython: takes an fd; writing never raises SIGPIPE, whatever the
    ///   process's disposition of it (CPython ignores SIGPIPE at startup).
    template <class F>
    auto connect_write_pipe(F&& protocol_factory, int fd);
    /// Runs `args` (the program first, looked up in PATH if it has no '/') as a child
    /// process driven by a SubprocessProtocol from `protocol_factory`; stdin, stdout and
    /// stderr are pipes unless `options` say otherwise. Defined in subprocess.hpp.
    ///
    /// Python: `await loop.subprocess_exec(protocol_factory, *args, stdin=PIPE, stdout=PIPE,
    ///   stderr=PIPE, **kwargs)`
    /// Throws: the spawn's OSError (FileNotFoundError, PermissionError ...); `ValueError`
    ///   for no arguments.
    template <class F>
    auto subprocess_exec(F&& protocol_factory, std::vector<std::string> args);
    /// With options (`{.std_err = subprocess::STDOUT, .cwd = "/tmp"}`).
    template <class F>
    auto subprocess_exec(F&& protocol_factory, std::vector<std::string> args, const SubprocessOptions& options);
    /// `cmd` run by `/bin/sh -c`, as subprocess_exec.
    ///
    /// Python: `await loop.subprocess_shell(protocol_factory, cmd, **kwargs)`
    template <class F>
    auto subprocess_shell(F&& protocol_factory, std::string cmd);
    /// With options.
    template <class F>
    auto subprocess_shell(F&& protocol_factory, std::string cmd, const SubprocessOptions& options);

    /// A UDP endpoint driven by a DatagramProtocol from `protocol_factory`: bound to
    /// `options.local_addr` and/or connected to `options.remote_addr` (each resolved; the
    /// first pair of one family that works wins). Defined in datagrams.hpp.
    ///
    /// Python: `await loop.create_datagram_endpoint(protocol_factory, local_addr=None,
    ///   remote_addr=None, *, family=0, proto=0, flags=0, reuse_port=None,
    ///   allow_broadcast=None)`
    /// Throws: the bind or connect OSError; `GaiError`; `ValueError("unexpected address
    ///   family")` with no address and no family.
    template <class F>
    auto create_datagram_endpoint(F&& protocol_factory, const DatagramEndpointOptions& options);
    /// Over a datagram socket of the caller's.
    ///
    /// Python: `await loop.create_datagram_endpoint(protocol_factory, sock=sock)`
    /// Throws: `ValueError("A datagram socket was expected")`.
    template <class F>
    auto create_datagram_endpoint(F&& protocol_factory, Socket sock);
    /// A Unix datagram endpoint bound to `local_path` (a stale socket file there is
    /// replaced) and/or connected to `remote_path`.
    ///
    /// Python: `create_datagram_endpoint(factory, local_addr=path, remote_addr=path,
    ///   family=socket.AF_UNIX)`
    /// Differs from CPython: a function of its own (the paths are strings, not (host, port)).
    template <class F>
    auto create_unix_datagram_endpoint(F&& protocol_factory, std::optional<std::string> local_path, std::optional<std::string> remote_path = std::nullopt);

    /// Resolves `host` and `port` as getaddrinfo(3) does: the addresses to connect to (or,
    /// with AI_PASSIVE, to bind), in the system's order. An empty `host` or `port` is
    /// Python's None. A numeric host with a numeric port is resolved at once, without a
    /// thread; a name is resolved on the default executor, as CPython does. Defined in
    /// src/resolve.cpp; the result type is in socket.hpp.
    ///
    /// Python: `await loop.getaddrinfo(host, port, family=0, type=0, proto=0, flags=0)`
    /// Throws: `GaiError` (socket.gaierror) with the EAI_ code and gai_strerror's text.
    /// Differs from CPython: numeric addresses skip the executor.
    Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, std::string port, int family = 0, int type = 0, int proto = 0, int flags = 0);
    /// `getaddrinfo` with a numeric port.
    Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, int port, int family = 0, int type = 0, int proto = 0, int flags = 0);
    /// The host and service names of `address` (NI_* `flags`), on the default executor
    /// unless NI_NUMERICHOST and NI_NUMERICSERV are both given.
    ///
    /// Python: `await loop.getnameinfo(sockaddr, flags=0)`
    /// Throws: `GaiError`.
    Coro<std::pair<std::string, std::string>> getnameinfo(const SocketAddress& address, int flags = 0);

    /// Receives up to `nbytes` bytes from `sock`, waiting until some arrive; an empty
    /// string at end of stream. The operations below are defined in sock_ops.hpp; each tries
    /// its system call when awaited and waits for the fd only if the kernel says EAGAIN.
    ///
    /// Python: `await loop.sock_recv(sock, nbytes)`
    /// Cancellation: the fd's interest is removed at once; nothing was received.
    /// Throws: `OSError` (ConnectionResetError ...); `ValueError` if `sock` is blocking;
    ///   `RuntimeError` if a transport owns the fd, or another operation waits to read it.
    /// Differs from CPython: two operations waiting in the same direction on one socket raise
    ///   RuntimeError (CPython's second replaces the first, which then never completes).
    detail::SockRecv sock_recv(Socket& sock, std::size_t nbytes);
    /// Receives into `buf`; the count of bytes, 0 at end of stream.
    ///
    /// Python: `await loop.sock_recv_into(sock, buf)`
    detail::SockRecvInto sock_recv_into(Socket& sock, std::span<std::byte> buf);
    /// Receives one datagram of at most `bufsize` bytes; the data and the sender's address.
    ///
    /// Python: `await loop.sock_recvfrom(sock, bufsize)` (3.11)
    detail::SockRecvFrom sock_recvfrom(Socket& sock, std::size_t bufsize);
    /// Receives one datagram into `buf` (its first `nbytes` bytes; 0: all of it); its size
    /// and the sender's address.
    ///
    /// Python: `await loop.sock_recvfrom_into(sock, buf, nbytes=0)` (3.11)
    detail::SockRecvFromInto sock_recvfrom_into(Socket& sock, std::span<std::byte> buf, std::size_t nbytes = 0);
    /// Sends every byte of `data`, waiting for room as often as needed. `data` must stay
    /// alive until the await ends.
    ///
    /// Python: `await loop.sock_sendall(sock, data)`
    /// Cancellation: the bytes sent so far are gone to the peer; the await raises
    ///   CancelledError, never reports them as all sent.
    /// Throws: `OSError` (BrokenPipeError, ConnectionResetError ...); no SIGPIPE is raised.
    detail::SockSendAll sock_sendall(Socket& sock, std::string_view data);
    /// Sends one datagram to `address`; the count of bytes sent.
    ///
    /// Python: `await loop.sock_sendto(sock, data, address)` (3.11)
    detail::SockSendTo sock_sendto(Socket& sock, std::string_view data, const SocketAddress& address);
    /// Connects `sock` to `address`, waiting while the connection is in progress.
    ///
    /// Python: `await loop.sock_connect(sock, address)`
    /// Throws: ``OSError(errno, "Connect call failed ('127.0.0.1', 1)")``, of the subclass for
    ///   the errno (ConnectionRefusedError ...), as CPython.
    /// Differs from CPython: `address` is numeric (SocketAddress); CPython resolves a name
    ///   too; here resolve it with `loop.getaddrinfo` first.
    detail::SockConnect sock_connect(Socket& sock, const SocketAddress& address);
    /// Accepts the next connection on listening `sock`: the new socket (non-blocking) and
    /// the peer's address.
    ///
    /// Python: `await loop.sock_accept(sock)`
    detail::SockAccept sock_accept(Socket& sock);

    /// Runs `f(args...)` on a thread of `executor` (null: the loop's default executor, a
    /// ThreadPoolExecutor of `min(32, cores + 4)` threads named `asyncio_N`, made on first use)
    /// and returns a Future of this loop that completes with its value or exception. If `f`
    /// takes a `std::stop_token` first, it gets one that is stopped when the Future is
    /// cancelled. The caller's context does not go with the call (as in CPython): `f` runs
    /// in the worker thread's own context; `to_thread` carries it. Defined in threads.hpp.
    ///
    /// Python: `loop.run_in_executor(executor, func, *args)`
    /// Cancellation: cancelling the Future keeps a call that has not started from running; a
    ///   running call goes on (only its stop_token is stopped) and its result is dropped.
    /// Throws: `RuntimeError` if the loop is closed, or `executor` (or the default one) was
    ///   shut down.
    template <class F, class... A>
    auto run_in_executor(concurrent::Executor* executor, F&& f, A&&... args);

    /// Makes `executor` the one `run_in_executor(nullptr, ...)` and `to_thread` use.
    ///
    /// Python: `loop.set_default_executor(executor)`
    /// Throws: `ValueError` for a null executor.
    void set_default_executor(std::shared_ptr<concurrent::ThreadPoolExecutor> executor);

    /// Shuts the default executor down and waits, without blocking the loop, until its
    /// threads have finished their work; after `timeout`, stops waiting, prints CPython's
    /// RuntimeWarning and leaves the threads to end on their own. Later uses of the default
    /// executor raise RuntimeError. `asyncio::run` and `Runner::close` call it with 300 s.
    ///
    /// Python: `await loop.shutdown_default_executor(timeout=None)` (3.12)
    /// Differs from CPython: a Ctrl-C meanwhile (or `close()` with the wait pending) leaves
    ///   the threads to end on their own instead of joining them at exit (CPython's
    ///   gh-111358: a process that cannot exit).
    Coro<void> shutdown_default_executor();
    /// Python: `await loop.shutdown_default_executor(timeout)`
    Coro<void> shutdown_default_executor(Delay timeout);

    /// Calls `f(args...)` as a callback of this loop each time signal `sig` arrives, until
    /// `remove_signal_handler(sig)` or `close()`; replaces a handler set before. The previous
    /// disposition of the signal is kept and put back then.
    ///
    /// Python: `loop.add_signal_handler(sig, callback, *args)`
    /// Throws: `ValueError("sig N out of range(1, 65)")`; `RuntimeError("sig N cannot be
    ///   caught")` for SIGKILL and SIGSTOP; `RuntimeError` if the loop is closed or another
    ///   loop handles `sig`.
    /// Differs from CPython: any thread's loop may handle signals (one loop per signal);
    ///   removal puts back the disposition the signal had before, where CPython sets
    ///   SIG_DFL; the threads of the library's executors block signals, so a handled signal
    ///   reaches the loop.
    template <class F, class... A>
    void add_signal_handler(int sig, F&& f, A&&... args) {
        static_assert(!detail::CoroutineCallable<F, A...>,
                      "add_signal_handler(): coroutines cannot be used as signal handlers (CPython: TypeError); call "
                      "create_task() in the handler");
        check_open();
        check_signal(sig);
        set_signal_handle(sig, detail::new_callback_handle(this, detail::bind_callback(std::forward<F>(f), std::forward<A>(args)...), detail::capture_context_object().get()));
    }
    /// Stops handling `sig` and puts its previous disposition back; false if no handler was
    /// set.
    ///
    /// Python: `loop.remove_signal_handler(sig)`
    /// Throws: `ValueError` for a signal out of range.
    bool remove_signal_handler(int sig);

    /// Turns debug mode on or off (docs/debugging.md): each step of the loop (a task's step,
    /// a callback) is timed, and one that takes `slow_callback_duration()` or longer is
    /// reported through the exception handler, naming the task and the place it resumed
    /// from:
    /// ``Executing <Task name='worker' resumed at work(int) (main.cpp:12)> took 0.250 seconds``.
    /// A loop starts in debug mode when the environment has `ASYNCIO_DEBUG` set
    /// to anything but `0` or empty (CPython: `PYTHONASYNCIODEBUG`).
    ///
    /// Python: `loop.set_debug(enabled)`
    /// Differs from CPython: a `Coro` destroyed before it ran is reported too
    ///   (``coroutine 'f(int)' (main.cpp:14) was never awaited``), with the coroutine's place, not its
    ///   caller's; no "non-thread-safe call" checks yet; the reports go through the exception
    ///   handler, not the `asyncio` logger.
    void set_debug(bool enabled) noexcept {
        debug_ = enabled;
        creation_checks_ = debug_ || closed_;
    }
    /// Whether debug mode is on.
    ///
    /// Python: `loop.get_debug()`
    [[nodiscard]] bool get_debug() const noexcept { return debug_; }
    /// The step duration debug mode reports as slow: 0.1 s unless changed.
    ///
    /// Python: `loop.slow_callback_duration` (an attribute, in seconds)
    [[nodiscard]] duration slow_callback_duration() const noexcept { return slow_callback_duration_; }
    /// Sets the step duration debug mode reports as slow.
    ///
    /// Python: `loop.slow_callback_duration = seconds`
    void set_slow_callback_duration(duration d) noexcept { slow_callback_duration_ = d; }

    /// Replaces the handler called for errors nobody else can receive; an empty function
    /// restores the default.
    ///
    /// Python: `loop.set_exception_handler(handler)`
    void set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }
    /// Python: `loop.get_exception_handler()`
    [[nodiscard]] const ExceptionHandler& get_exception_handler() const noexcept { return exception_handler_; }
    /// Prints the context to stderr.
    ///
    /// Python: `loop.default_exception_handler(context)`
    void default_exception_handler(const ExceptionContext& context);
    /// Calls the handler set, or the default one; an error thrown by the handler is printed.
    ///
    /// Python: `loop.call_exception_handler(context)`
    void call_exception_handler(const ExceptionContext& context) noexcept;

private:
    friend struct detail::LoopAccess;
    friend class detail::HandleCore;

    void check_open() const;
    // create_task's path when creation_checks_ is set: a closed loop refuses, debug mode
    // records the place of creation. Defined in tasks.hpp.
    template <class T>
    [[gnu::noinline]] Task<T> create_task_checked(Coro<T> coro, detail::SourceSite where);
    // The end of call_soon and call_at: `h` (one reference, given to the Handle) is queued.
    Handle push_soon(detail::HandleCore* h) {
        Handle result(h);  // first: if the push runs out of memory, this frees h
        ready_.push_loose(h);
        h->add_ref();  // the loop's reference
        return result;
    }
    TimerHandle push_timer(time_point when, detail::HandleCore* h) {
        h->when = when;
        TimerHandle result(h);  // first: if the push runs out of memory, this frees h
        timers_.push(h);
        h->add_ref();  // the loop's reference
        return result;
    }
    static void check_signal(int sig);
    void set_signal_handle(int sig, detail::HandleCore* h);
    void dispatch_signals();
    void close_signals() noexcept;
    void enqueue_threadsafe(detail::HandleCore* h);
    void set_io_handle(int fd, bool write, detail::HandleCore* h);
    bool clear_io_handle(int fd, bool write);
    // One iteration of the loop. Watched: the loop is in debug mode or a stall detector
    // watches it, and each step goes through run_step_watched (src/debug_mode.cpp) to be
    // timed or counted; the plain iteration has no test for it.
    template <bool Watched>
    void run_once();
    void run_step_watched(detail::Runnable* r);
    void report_slow_step(detail::TaskCore* task, detail::SourceSite resumed, bool first_step, duration took);
    [[gnu::noinline]] void prepare_turn();
    [[gnu::noinline]] void fire_due_timers();
    void drain_threadsafe();
    void poll_io(int timeout_ms);
    void poll_callbacks(detail::FdEntry& e, std::uint32_t events);
    void run_flushes() noexcept;
    void destroy_pending_tasks() noexcept;

    detail::ReadyQueue ready_;
    detail::TimerQueue timers_{*this};
    std::unique_ptr<detail::LoopIo> io_;
    ExceptionHandler exception_handler_;

    detail::FutureCore* cores_ = nullptr;     // every future and task alive on the loop (FutureCore::prev_in_loop)
    detail::ExtrasTable* extras_ = nullptr;   // made on first use, freed by ~EventLoop (src/futures.cpp)
    detail::RemoteOp* remote_ops_ = nullptr;  // not home yet (detail/remote_op.hpp)
    // While running: the address of the running thread's current context (run_once looks
    // at it after each item, docs/design/contextvars.md).
    detail::ContextImpl* const* current_context_ = nullptr;
    std::function<void()> on_interrupt_;  // set by Runner: what its Ctrl-C does (src/unix_events.cpp)
    std::shared_ptr<concurrent::ThreadPoolExecutor> default_executor_;
    bool executor_shutdown_called_ = false;

    bool virtual_time_ = false;
    bool debug_ = false;
    // closed_ || debug_: create_task's one test, for what it must refuse or record.
    bool creation_checks_ = false;
    duration slow_callback_duration_ = std::chrono::milliseconds(100);
    detail::StallWatch* stall_watch_ = nullptr;  // set by debug::StallDetector (src/stall_detector.cpp)
    time_point virtual_now_{};
    bool stopping_ = false;
    bool running_ = false;
    bool closed_ = false;
    bool closing_ = false;  // close() is destroying pending tasks: wake-ups are ignored
    // The process's list of loops (detail::loop_registry, src/base_events.cpp), read by a
    // debugger: tools/gdb/asyncio.py.
    EventLoop* prev_loop_ = nullptr;
    EventLoop* next_loop_ = nullptr;
};

/// The loop running on this thread.
///
/// Python: `asyncio.get_running_loop()`
/// Throws: `RuntimeError("no running event loop")` outside a running loop.
[[nodiscard]] EventLoop& get_running_loop();

/// A new loop on the real clock, owned by the caller.
///
/// Python: `asyncio.new_event_loop()`
[[nodiscard]] std::unique_ptr<EventLoop> new_event_loop();

namespace detail {

// The loop's internals for the rest of the library (tasks, sleep, testing); not for users.
struct LoopAccess {
    static ReadyQueue& ready(EventLoop& l) noexcept { return l.ready_; }
    static TimerQueue& timers(EventLoop& l) noexcept { return l.timers_; }
    // The task whose step runs on this thread, if it belongs to `l` (tasks.cpp).
    static TaskCore* current_task(const EventLoop& l) noexcept;
    static FutureCore*& cores(EventLoop& l) noexcept { return l.cores_; }
    static ExtrasTable*& extras(EventLoop& l) noexcept { return l.extras_; }
    static StallWatch*& stall_watch(EventLoop& l) noexcept { return l.stall_watch_; }
    static void check_open(const EventLoop& l) { l.check_open(); }
    static std::shared_ptr<concurrent::ThreadPoolExecutor>& default_executor(EventLoop& l) noexcept { return l.default_executor_; }
    static bool executor_shutdown_called(const EventLoop& l) noexcept { return l.executor_shutdown_called_; }
    static void set_executor_shutdown_called(EventLoop& l) noexcept { l.executor_shutdown_called_ = true; }
    // call_soon_threadsafe for a handle made by the caller (who keeps its reference).
    static void enqueue_threadsafe(EventLoop& l, HandleCore* h) { l.enqueue_threadsafe(h); }
    static bool closing(const EventLoop& l) noexcept { return l.closing_; }
    static void set_virtual_time(EventLoop& l) noexcept { l.virtual_time_ = true; }
    static void set_on_interrupt(EventLoop& l, std::function<void()> f) { l.on_interrupt_ = std::move(f); }
    // The door for I/O objects (detail/io_watcher.hpp): `w` is told of `fd`'s readiness,
    // edge-triggered, until unwatch_io. Throws RuntimeError if the loop is closed or the fd
    // already has a watcher, reader or writer; ValueError for a negative fd;
    // std::system_error if epoll refuses it.
    static void watch_io(EventLoop& l, int fd, IoWatcher* w);
    // False if `fd` had no watcher (or the loop is closed).
    static bool unwatch_io(EventLoop& l, int fd) noexcept;
    static std::size_t registered_fds(const EventLoop& l) noexcept;
    // One operation's wait for one direction of `fd` (sock_ops.hpp): `w` is told, from the
    // poll phase, each time the fd is ready that way (level-triggered), until unwait_io.
    // Throws RuntimeError if the loop is closed, a transport owns the fd, or something else
    // waits in that direction (a reader, another operation).
    static void wait_io(EventLoop& l, int fd, bool write, IoWatcher* w);
    static void unwait_io(EventLoop& l, int fd, bool write) noexcept;
    // The watcher (a transport) that owns `fd`, or null.
    static IoWatcher* watcher_of(const EventLoop& l, int fd) noexcept;
    // `f->io_flush()` at the end of this iteration (detail/io_watcher.hpp); a no-op if it
    // is queued already or the loop is closed.
    static void queue_flush(EventLoop& l, IoFlusher* f) noexcept;
    // Takes `f` off the flush queue, if it is on it.
    static void cancel_flush(EventLoop& l, IoFlusher* f) noexcept;
    // During close(): keeps `p` until every watcher and close hook has been told, then
    // drops it (a watcher must not destroy others while close() walks them).
    static void bury(EventLoop& l, std::shared_ptr<void> p) noexcept;
    // Objects told of close() whether or not they watch an fd (a server's listening
    // sockets): linked in at creation, out at destruction.
    static void add_close_hook(EventLoop& l, LoopCloseHook* h) noexcept;
    static void remove_close_hook(EventLoop& l, LoopCloseHook* h) noexcept;
    // What other threads post to (call_soon_threadsafe, RemoteOp); lives as long as the loop
    // or longer.
    static Mailbox* mailbox(const EventLoop& l) noexcept;
    static RemoteOp*& remote_ops(EventLoop& l) noexcept { return l.remote_ops_; }
    static std::size_t reactor_syscalls(const EventLoop& l) noexcept;
};

EventLoop* running_loop() noexcept;

}  // namespace detail
}  // namespace asyncio
