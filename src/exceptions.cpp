// src/exceptions.cpp: describe() for logs (Lib/asyncio/exceptions.py has no code to mirror).
#include <asyncio/exceptions.hpp>

#include <cxxabi.h>

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
