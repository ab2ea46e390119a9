// tests/support/scenario.hpp: the small coroutines test scenarios are made of (a value after
// a delay, a flag set when a task first runs, an awaited future ...), written once for every
// test file. A file names what it uses: `using asyncio_test::value_after;`.
//
// kIfCoAwait: g++ 12.2 miscompiles a coroutine whose body declares no local variable and
// has a co_await in an if or while condition (`if (co_await ev.wait()) ...`): the frame is
// allocated too small, the resume index is read past its end (ASan: heap-buffer-overflow)
// and the body never starts (a 20-line reproducer without this library does the same;
// clang 14 is fine). So a test helper names the result first:
// `bool ok = co_await ev.wait(); if (ok) ...` (docs/design/toolchain.md).
#pragma once

#include <asyncio.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace asyncio_test {

// What a scenario records, in the order it happened.
using Ints = std::vector<int>;
using Strings = std::vector<std::string>;

// `await asyncio.sleep(d); return v`.
inline asyncio::Coro<int> value_after(std::chrono::nanoseconds d, int v) {
    co_await asyncio::sleep(d);
    co_return v;
}

// `await asyncio.sleep(d); return s`.
inline asyncio::Coro<std::string> text_after(std::chrono::nanoseconds d, std::string s) {
    co_await asyncio::sleep(d);
    co_return s;
}

// `await asyncio.sleep(d)`.
inline asyncio::Coro<void> sleep_for(std::chrono::nanoseconds d) { co_await asyncio::sleep(d); }

// `return i`: done in its first step.
inline asyncio::Coro<int> value_of(int i) { co_return i; }

// `async def coro(fut): return await fut`.
template <class T>
asyncio::Coro<T> await_future(asyncio::Future<T> f) {
    co_return co_await f;
}

// Awaits shield(inner) from its own task (CPython's `outer`).
template <class T>
asyncio::Coro<T> shielded(asyncio::Task<T> inner) {
    co_return co_await asyncio::shield(inner);
}

// Sets `flag` when it first runs: created just before an operation that must not suspend,
// it proves that the operation did not let the loop run anything else.
inline asyncio::Coro<void> set_flag(bool& flag) {
    flag = true;
    co_return;
}

// The message of the ValueError that `make` throws ("" if none).
template <class F>
std::string value_error_of(F make) {
    try {
        make();
    } catch (const asyncio::ValueError& e) {
        return e.what();
    }
    return "";
}

}  // namespace asyncio_test
