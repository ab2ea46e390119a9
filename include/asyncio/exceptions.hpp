// asyncio/exceptions.hpp: BaseException, CancelledError, KeyboardInterrupt, TimeoutError,
// InvalidStateError, RuntimeError, ValueError, LookupError, KeyError, ExceptionGroup,
// except_star, and OSError with its subclasses (ConnectionError ...). Mirrors
// Lib/asyncio/exceptions.py (and the builtin exceptions asyncio relies on).
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {

/// Root of the errors that, like Python's `BaseException` subclasses outside `Exception`,
/// must not be caught by `catch (const std::exception&)`.
///
/// Python: `BaseException`
/// Differs from CPython: only `CancelledError` and `KeyboardInterrupt` derive from it; every
///   other error derives from `std::exception` (docs/differences.md).
class BaseException {
public:
    /// An error with `message` (may be empty), as `CancelledError("msg")`.
    explicit BaseException(std::string message = {}) : message_(std::move(message)) {}
    virtual ~BaseException() = default;
    /// Copies the message.
    BaseException(const BaseException&) = default;
    /// Copies the message.
    BaseException& operator=(const BaseException&) = default;

    /// The message given when the error was raised (may be empty).
    [[nodiscard]] virtual const char* what() const noexcept { return message_.c_str(); }
    /// The message as a string.
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
    std::string message_;
};

/// The operation was cancelled; thrown out of the `co_await` at which a task was suspended
/// when `Task::cancel()` reached it.
///
/// Python: `asyncio.CancelledError`
/// Differs from CPython: none in behaviour; it derives from `BaseException`, not
///   `std::exception`, so `catch (const std::exception&)` lets it through (docs/design/cancellation.md).
class CancelledError : public BaseException {
public:
    using BaseException::BaseException;
};

/// Ctrl-C arrived while `asyncio::run()` ran: the main task was cancelled and `run()` ends
/// with this error.
///
/// Python: `KeyboardInterrupt`
class KeyboardInterrupt : public BaseException {
public:
    using BaseException::BaseException;
};

/// The event loop or a primitive was used in a way that is not allowed in its current state.
///
/// Python: `RuntimeError`
class RuntimeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Raised out of the loop (and so out of `run()`) when a loop on the virtual clock has
/// nothing that could ever wake it: nothing ready, no timer, no file descriptor watched, no
/// call running in another thread, no signal handled, and no thread-safe call arriving
/// within a second of real time. `what()` names each pending task and what it waits on
/// ("Task-2 waits on Event.wait()"), one per line. The same text is `debug::deadlock_report()`.
///
/// Python: none (CPython's loop waits forever in select()).
class DeadlockError : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
};

/// A value was out of range or malformed (a NaN delay, `wait()` on an empty set, ...).
///
/// Python: `ValueError`
class ValueError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// A key or index was not found: a `ContextVar` with no value and no default
/// (`var.get()`), a `Context` without the variable (`ctx[var]`, as `KeyError`).
///
/// Python: `LookupError`
/// Differs from CPython: derives from `std::runtime_error`, as the other errors here
///   derive from a standard exception (docs/differences.md).
class LookupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A mapping has no such key: `ctx[var]` for a variable the `Context` does not hold.
///
/// Python: `KeyError`
class KeyError : public LookupError {
public:
    using LookupError::LookupError;
};

/// An error reported by the operating system: a system call failed with `errno_value()`
/// (0 when the error carries no number), described by `strerror()`. `what()` is CPython's
/// `str(e)`: "[Errno 111] Connection refused", or the message alone without a number.
///
/// Python: `OSError(errno, strerror)`
/// Differs from CPython: CPython's `OSError(errno, ...)` constructor picks the subclass for
///   the number; here `os_error(errno, message)` does (the constructors make exactly the
///   class named). `errno` is a macro in C++, hence `errno_value()`.
class OSError : public std::runtime_error {
public:
    /// An error numbered `err` (an errno value) with `strerror` (empty: the system's text).
    explicit OSError(int err, std::string strerror = {});
    /// An error without a number, as `OSError("message")`.
    explicit OSError(const std::string& message) : OSError(0, message) {}
    /// Python: `e.errno`
    [[nodiscard]] int errno_value() const noexcept { return errno_; }
    /// Python: `e.strerror`
    [[nodiscard]] const std::string& strerror() const noexcept { return strerror_; }

private:
    int errno_;
    std::string strerror_;
};

/// Python: `BlockingIOError` (EAGAIN, EWOULDBLOCK, EINPROGRESS, EALREADY)
class BlockingIOError : public OSError {
public:
    using OSError::OSError;
};
/// Python: `InterruptedError` (EINTR)
class InterruptedError : public OSError {
public:
    using OSError::OSError;
};
/// Python: `FileExistsError` (EEXIST: a Unix socket's path is taken)
class FileExistsError : public OSError {
public:
    using OSError::OSError;
};
/// Python: `FileNotFoundError` (ENOENT: no Unix socket at that path)
class FileNotFoundError : public OSError {
public:
    using OSError::OSError;
};
/// Python: `NotADirectoryError` (ENOTDIR: a subprocess's cwd is a file, say)
class NotADirectoryError : public OSError {
public:
    using OSError::OSError;
};
/// Python: `IsADirectoryError` (EISDIR)
class IsADirectoryError : public OSError {
public:
    using OSError::OSError;
};
/// Python: `PermissionError` (EACCES, EPERM)
class PermissionError : public OSError {
public:
    using OSError::OSError;
};
/// Python: `ProcessLookupError` (ESRCH)
class ProcessLookupError : public OSError {
public:
    using OSError::OSError;
};
/// Python: `ChildProcessError` (ECHILD)
class ChildProcessError : public OSError {
public:
    using OSError::OSError;
};
/// Root of the errors of a connection: the peer went away or would not talk.
///
/// Python: `ConnectionError`
class ConnectionError : public OSError {
public:
    using OSError::OSError;
};
/// Python: `BrokenPipeError` (EPIPE, ESHUTDOWN): written to after the peer stopped reading.
class BrokenPipeError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
/// Python: `ConnectionAbortedError` (ECONNABORTED)
class ConnectionAbortedError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
/// Python: `ConnectionRefusedError` (ECONNREFUSED): nothing listens at the address.
class ConnectionRefusedError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
/// Python: `ConnectionResetError` (ECONNRESET): the peer reset the connection.
class ConnectionResetError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};

/// An operation did not complete before its deadline (ETIMEDOUT when the system says so).
///
/// Python: `TimeoutError` (`asyncio.TimeoutError` is an alias of it since 3.11), a subclass
///   of `OSError` as in CPython.
class TimeoutError : public OSError {
public:
    using OSError::OSError;
    TimeoutError() : OSError(0, std::string()) {}
};

/// Name resolution failed: `errno_value()` is the `EAI_*` code of getaddrinfo(3) (negative
/// on Linux), the message gai_strerror's.
///
/// Python: `socket.gaierror`
class GaiError : public OSError {
public:
    using OSError::OSError;
};

/// The OSError subclass CPython's `OSError(err, message)` makes for `err`
/// (ECONNREFUSED gives ConnectionRefusedError, ETIMEDOUT TimeoutError, ...), as an
/// exception_ptr; `message` empty: the system's text for `err`.
///
/// Python: `OSError(errno, strerror)`
[[nodiscard]] std::exception_ptr os_error(int err, std::string message = {});
/// Throws `os_error(err, message)`.
[[noreturn]] void throw_os_error(int err, std::string message = {});

/// A Future or Task was asked for something its state does not allow, such as `result()`
/// before it is done or `set_result()` twice.
///
/// Python: `asyncio.InvalidStateError`
class InvalidStateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The end of a stream came before what was asked for.
///
/// Python: `EOFError`
class EOFError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A stream ended before the read was complete: `partial()` holds the bytes read (and taken
/// out of the stream's buffer), `expected()` the count asked for (none for a separator).
///
/// Python: `asyncio.IncompleteReadError(partial, expected)`: "N bytes read on a total of M
///   expected bytes" ("undefined" for no count).
class IncompleteReadError : public EOFError {
public:
    /// The error for `partial` bytes read of `expected` (nullopt: up to a separator).
    IncompleteReadError(std::string partial, std::optional<std::size_t> expected)
        : EOFError(std::to_string(partial.size()) + " bytes read on a total of " + (expected ? std::to_string(*expected) : std::string("undefined")) + " expected bytes"),
          partial_(std::move(partial)),
          expected_(expected) {}
    /// Python: `e.partial`
    [[nodiscard]] const std::string& partial() const noexcept { return partial_; }
    /// Python: `e.expected` (None: `std::nullopt`)
    [[nodiscard]] std::optional<std::size_t> expected() const noexcept { return expected_; }

private:
    std::string partial_;
    std::optional<std::size_t> expected_;
};

/// A stream's limit was reached while looking for a separator; the bytes stay in the
/// buffer, `consumed()` of them to be consumed before the separator could be looked for again.
///
/// Python: `asyncio.LimitOverrunError(message, consumed)`
class LimitOverrunError : public std::runtime_error {
public:
    /// The error `message`, with `consumed` bytes to consume before reading again.
    LimitOverrunError(const std::string& message, std::size_t consumed) : std::runtime_error(message), consumed_(consumed) {}
    /// Python: `e.consumed`
    [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }

private:
    std::size_t consumed_;
};

/// Several errors raised together, as a TaskGroup does when children fail.
///
/// Python: `ExceptionGroup(message, exceptions)` (builtin since 3.11)
/// Throws: `ValueError` if `exceptions` is empty, as CPython does.
/// Differs from CPython: there is no separate BaseExceptionGroup: a TaskGroup re-raises a
///   KeyboardInterrupt on its own, as CPython does for its base errors.
class ExceptionGroup : public std::exception {
public:
    /// A condition on one sub-exception (a leaf or a nested group), for `split_if`.
    using Predicate = std::function<bool(const std::exception_ptr&)>;

    /// A group of `exceptions` under `message`.
    ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);

    /// Python: `str(eg)`, "message (N sub-exception[s])".
    [[nodiscard]] const char* what() const noexcept override { return what_.c_str(); }
    /// Python: `eg.message`
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    /// Python: `eg.exceptions`
    [[nodiscard]] const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

    /// Splits the leaves (nested groups keep their shape) into those of type E and the rest;
    /// either side may be empty.
    ///
    /// Python: `eg.split(E)`
    template <class E>
    [[nodiscard]] std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split() const {
        // A group matches E as a whole (and is kept as it is) when it is an E, except that a
        // group holding a CancelledError or KeyboardInterrupt is not a std::exception for
        // this purpose (Python would make it a BaseExceptionGroup, not an Exception).
        return split_impl(
            [](const std::exception_ptr& e) {
                if (!is_a<E>(e)) return false;
                if constexpr (std::is_base_of_v<ExceptionGroup, E>)
                    return true;
                else
                    return !is_a<ExceptionGroup>(e) || !holds_base_exception(e);
            },
            true);
    }
    /// The leaves of type E, or nothing.
    ///
    /// Python: `eg.subgroup(E)`
    template <class E>
    [[nodiscard]] std::optional<ExceptionGroup> subgroup() const {
        return split<E>().first;
    }
    /// Split by any predicate over a leaf (or a nested group as a whole).
    ///
    /// Python: `eg.split(condition)`
    [[nodiscard]] std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split_if(const Predicate& match) const {
        return split_impl(match, true);
    }

    /// True if `e` holds an exception of type E.
    template <class E>
    static bool is_a(const std::exception_ptr& e) {
        try {
            std::rethrow_exception(e);
        } catch (const E&) {
            return true;
        } catch (...) {
            return false;
        }
    }

private:
    static bool holds_base_exception(const std::exception_ptr& e);
    std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split_impl(const Predicate& match, bool match_groups) const;

    std::string message_;
    std::vector<std::exception_ptr> exceptions_;
    std::string what_;
};

/// The effect of Python's `except*` clauses for C++ code: each `handle<E>` calls its
/// handler once with the group of the leaves of type E (if any), and `rethrow_unhandled`
/// raises what no clause took. A plain exception counts as a group of one.
///
/// Python:
///   try: ...
///   except* ValueError as eg: on_values(eg)
///   except* TypeError as eg: on_types(eg)
/// C++:
///   catch (...) {
///       asyncio::except_star(std::current_exception())
///           .handle<ValueError>(on_values)
///           .handle<TypeError>(on_types)
///           .rethrow_unhandled();
///   }
/// Differs from CPython: a handler that throws ends the chain at once (Python would combine
///   it with the unhandled rest).
class ExceptStar {
public:
    /// Starts the chain on `e`, the exception caught; see `except_star`.
    explicit ExceptStar(std::exception_ptr e);

    /// Calls `handler` with the group of the leaves of type E left, if there are any, and
    /// leaves the rest to the next clause; returns the chain.
    ///
    /// Python: `except* E as eg: handler(eg)`
    template <class E, class F>
    ExceptStar& handle(F&& handler) {
        if (!rest_) return *this;
        auto [matched, rest] = rest_->split<E>();
        rest_ = std::move(rest);
        if (matched) {
            taken_ = true;
            std::forward<F>(handler)(*matched);
        }
        return *this;
    }
    /// Raises what no `handle` took: the original exception if nothing was taken from it,
    /// else the group of the rest. Returns if everything was handled.
    void rethrow_unhandled();

private:
    std::exception_ptr original_;
    std::optional<ExceptionGroup> rest_;
    bool taken_ = false;
};

/// Starts an `except*` chain on the exception being handled (see ExceptStar).
[[nodiscard]] inline ExceptStar except_star(std::exception_ptr e) { return ExceptStar(std::move(e)); }

/// Describes a stored exception as "TypeName: message", for logs and exception handlers.
///
/// Python: `repr(exc)` / `traceback.format_exception_only`
[[nodiscard]] std::string describe(const std::exception_ptr& e);

}  // namespace asyncio
