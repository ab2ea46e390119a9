// asyncio/exceptions.hpp: BaseException, CancelledError, KeyboardInterrupt, TimeoutError,
// InvalidStateError, RuntimeError, ValueError. Mirrors Lib/asyncio/exceptions.py.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace asyncio {

/// Root of the errors that, like Python's `BaseException` subclasses outside `Exception`,
/// must not be caught by `catch (const std::exception&)`.
///
/// Python: `BaseException`
/// Differs from CPython: only `CancelledError` and `KeyboardInterrupt` derive from it; every
///   other error derives from `std::exception` (docs/differences.md).
class BaseException {
public:
    explicit BaseException(std::string message = {}) : message_(std::move(message)) {}
    virtual ~BaseException() = default;
    BaseException(const BaseException&) = default;
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
///   `std::exception`, so `catch (const std::exception&)` lets it through (DESIGN §3).
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

/// A value was out of range or malformed (a NaN delay, `wait()` on an empty set, ...).
///
/// Python: `ValueError`
class ValueError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// An operation did not complete before its deadline.
///
/// Python: `TimeoutError` (`asyncio.TimeoutError` is an alias of it since 3.11)
class TimeoutError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    TimeoutError() : std::runtime_error("") {}
};

/// A Future or Task was asked for something its state does not allow, such as `result()`
/// before it is done or `set_result()` twice.
///
/// Python: `asyncio.InvalidStateError`
class InvalidStateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Describes a stored exception as "TypeName: message", for logs and exception handlers.
///
/// Python: `repr(exc)` / `traceback.format_exception_only`
[[nodiscard]] std::string describe(const std::exception_ptr& e);

}  // namespace asyncio
