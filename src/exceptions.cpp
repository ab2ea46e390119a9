// src/exceptions.cpp: describe() for logs, and OSError's text and subclass for an errno
// (CPython's Objects/exceptions.c OSError_new: errno to subclass).
#include <asyncio/exceptions.hpp>

#include <cxxabi.h>

#include <cerrno>
#include <cstring>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace asyncio {
namespace {

std::string type_name(const std::type_info& t) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(t.name());
}

std::string join(const std::string& type, const char* what) {
    return what && *what ? type + ": " + what : type;
}

}  // namespace

namespace {

// strerror(3)'s text, thread-safely (GNU strerror_r).
std::string system_text(int err) {
    char buf[128];
    return ::strerror_r(err, buf, sizeof buf);
}

}  // namespace

OSError::OSError(int err, std::string strerror)
    : std::runtime_error(err == 0 ? strerror : "[Errno " + std::to_string(err) + "] " + (strerror.empty() ? system_text(err) : strerror)),
      errno_(err),
      strerror_(err != 0 && strerror.empty() ? system_text(err) : std::move(strerror)) {}

std::exception_ptr os_error(int err, std::string message) {
    switch (err) {
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
        case EINPROGRESS:
        case EALREADY:
            return std::make_exception_ptr(BlockingIOError(err, std::move(message)));
        case EINTR:
            return std::make_exception_ptr(InterruptedError(err, std::move(message)));
        case EEXIST:
            return std::make_exception_ptr(FileExistsError(err, std::move(message)));
        case ENOENT:
            return std::make_exception_ptr(FileNotFoundError(err, std::move(message)));
        case ENOTDIR:
            return std::make_exception_ptr(NotADirectoryError(err, std::move(message)));
        case EISDIR:
            return std::make_exception_ptr(IsADirectoryError(err, std::move(message)));
        case EACCES:
        case EPERM:
            return std::make_exception_ptr(PermissionError(err, std::move(message)));
        case ESRCH:
            return std::make_exception_ptr(ProcessLookupError(err, std::move(message)));
        case ECHILD:
            return std::make_exception_ptr(ChildProcessError(err, std::move(message)));
        case EPIPE:
        case ESHUTDOWN:
            return std::make_exception_ptr(BrokenPipeError(err, std::move(message)));
        case ECONNABORTED:
            return std::make_exception_ptr(ConnectionAbortedError(err, std::move(message)));
        case ECONNREFUSED:
            return std::make_exception_ptr(ConnectionRefusedError(err, std::move(message)));
        case ECONNRESET:
            return std::make_exception_ptr(ConnectionResetError(err, std::move(message)));
        case ETIMEDOUT:
            return std::make_exception_ptr(TimeoutError(err, std::move(message)));
        default:
            return std::make_exception_ptr(OSError(err, std::move(message)));
    }
}

void throw_os_error(int err, std::string message) { std::rethrow_exception(os_error(err, std::move(message))); }

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no exception";
    try {
        std::rethrow_exception(e);
    } catch (const BaseException& x) {
        return join(type_name(typeid(x)), x.what());
    } catch (const std::exception& x) {
        return join(type_name(typeid(x)), x.what());
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace asyncio

namespace asyncio {

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    // NOLINTNEXTLINE(bugprone-throw-keyword-missing): clang-tidy 14 takes the vector of exception_ptr for an exception
    : message_(std::move(message)), exceptions_(std::move(exceptions)) {
    if (exceptions_.empty()) throw ValueError("second argument (exceptions) must be a non-empty sequence");
    what_ = message_ + " (" + std::to_string(exceptions_.size()) + " sub-exception" + (exceptions_.size() == 1 ? ")" : "s)");
}

std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> ExceptionGroup::split_impl(const Predicate& match, bool match_groups) const {
    if (match_groups && match(std::make_exception_ptr(*this))) return {*this, std::nullopt};  // the group itself matches
    std::vector<std::exception_ptr> yes, no;
    for (const std::exception_ptr& e : exceptions_) {
        if ((match_groups || !is_a<ExceptionGroup>(e)) && match(e)) {
            yes.push_back(e);
            continue;
        }
        // A nested group is split in turn, keeping its message and shape.
        const ExceptionGroup* nested = nullptr;
        try {
            std::rethrow_exception(e);
        } catch (const ExceptionGroup& g) {
            nested = &g;
            auto [y, n] = g.split_impl(match, match_groups);
            if (y) yes.push_back(std::make_exception_ptr(*y));
            if (n) no.push_back(std::make_exception_ptr(*n));
        } catch (...) {
        }
        if (!nested) no.push_back(e);
    }
    std::optional<ExceptionGroup> first, second;
    if (!yes.empty()) first.emplace(message_, std::move(yes));
    if (!no.empty()) second.emplace(message_, std::move(no));
    return {std::move(first), std::move(second)};
}

bool ExceptionGroup::holds_base_exception(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const ExceptionGroup& g) {
        for (const std::exception_ptr& leaf : g.exceptions())
            if (holds_base_exception(leaf)) return true;
        return false;
    } catch (const BaseException&) {
        return true;
    } catch (...) {
        return false;
    }
}

ExceptStar::ExceptStar(std::exception_ptr e) : original_(std::move(e)) {
    try {
        std::rethrow_exception(original_);
    } catch (const ExceptionGroup& g) {
        rest_ = g;
    } catch (...) {
        rest_.emplace("", std::vector<std::exception_ptr>{original_});
    }
}

void ExceptStar::rethrow_unhandled() {
    if (!rest_) return;
    if (!taken_) std::rethrow_exception(original_);  // untouched: a plain exception stays plain
    throw ExceptionGroup(*rest_);
}

}  // namespace asyncio
