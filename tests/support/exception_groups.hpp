// tests/support/exception_groups.hpp: what the TaskGroup tests ask of an ExceptionGroup:
// the ExceptionGroup a Coro or Task raised, the set of its exceptions' types as CPython's
// get_error_types() gives it, the group nested inside it.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/exceptions.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <typeinfo>
#include <utility>

namespace asyncio_test {

// The demangled name of `t`, without "asyncio::" (a test's own exception types are global,
// so that their names print plainly).
inline std::string type_name(const std::type_info& t) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
    std::string s = status == 0 && name ? name.get() : t.name();
    if (s.rfind("asyncio::", 0) == 0) s.erase(0, 9);
    return s;
}

inline std::string type_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return type_name(typeid(x));
    } catch (const asyncio::BaseException& x) {
        return type_name(typeid(x));
    } catch (...) {
        return "?";
    }
}

// CPython's get_error_types(eg): the set of the types of eg.exceptions, as "{A, B}".
inline std::string error_types(const std::optional<asyncio::ExceptionGroup>& eg) {
    if (!eg) return "no ExceptionGroup";
    std::set<std::string> types;
    for (const auto& e : eg->exceptions()) types.insert(type_of(e));
    std::string out = "{";
    for (const auto& t : types) out += (out.size() > 1 ? ", " : "") + t;
    return out + "}";
}

// The group held by `e`, if it is one (for nested groups).
inline std::optional<asyncio::ExceptionGroup> as_group(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const asyncio::ExceptionGroup& g) {
        return g;
    } catch (...) {
        return std::nullopt;
    }
}
inline std::optional<asyncio::ExceptionGroup> first_nested(const std::optional<asyncio::ExceptionGroup>& eg) {
    if (!eg || eg->exceptions().empty()) return std::nullopt;
    return as_group(eg->exceptions().front());
}

// Awaits `aw` (a Coro or a Task) and returns the ExceptionGroup it raised, or nothing if it
// returned; any other error propagates (and fails the test).
template <class Aw>
asyncio::Coro<std::optional<asyncio::ExceptionGroup>> group_raised_by(Aw aw) {
    std::optional<asyncio::ExceptionGroup> eg;
    try {
        co_await std::move(aw);
    } catch (const asyncio::ExceptionGroup& e) {
        eg.emplace(e);
    }
    co_return eg;
}

}  // namespace asyncio_test
