// tests/differential/diff.hpp: the C++ side of the differential test. Each program under
// programs/ exists twice, NAME.py (run by CPython on vloop.py's virtual clock) and NAME.cpp
// (run here on asyncio::testing's virtual clock); both print `t=<virtual time> <event>`
// lines, and run_diff.py compares them line by line.
#pragma once

#include <asyncio.hpp>
#include <asyncio/testing.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

namespace diff {

// One trace line, as vloop.log prints it.
inline void log(const std::string& msg) {
    double t = std::chrono::duration<double>(asyncio::get_running_loop().time().time_since_epoch()).count();
    std::printf("t=%.3f %s\n", t, msg.c_str());
    std::fflush(stdout);
}

using Program = asyncio::Coro<void> (*)();
inline std::map<std::string, Program>& registry() {
    static std::map<std::string, Program> programs;
    return programs;
}
struct Register {
    Register(const char* name, Program p) { registry()[name] = p; }
};

// The message of a CancelledError, as Python's `e.args[0] if e.args else ''`, quoted by repr.
inline std::string quoted(const std::string& s) { return "'" + s + "'"; }

// Runs a generated program (interp.cpp); 2 if the file cannot be read.
int interpret(const char* path);

}  // namespace diff

// `name` is an identifier the macro declares (so `&name` needs no parentheses).
// NOLINTBEGIN(bugprone-macro-parentheses)
#define DIFF_PROGRAM(name)                                       \
    static asyncio::Coro<void> name();                           \
    static const diff::Register name##_registered(#name, &name); \
    static asyncio::Coro<void> name()
// NOLINTEND(bugprone-macro-parentheses)
