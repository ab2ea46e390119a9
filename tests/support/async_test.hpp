// tests/support/async_test.hpp: the tests' ASYNCIO_TEST, a GoogleTest case whose body is a
// coroutine on a fresh virtual-clock loop, is the installed one users have
// (<asyncio/testing/gtest.hpp>, docs/testing.md); plus the tests' own helpers. Use EXPECT_*
// in bodies: ASSERT_* would `return` from a coroutine.
#pragma once

#include <asyncio.hpp>
#include <asyncio/testing.hpp>
#include <asyncio/testing/gtest.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace asyncio_test {

// Seconds of virtual time since `start` (the loop of a test starts at zero).
inline std::chrono::nanoseconds elapsed(asyncio::EventLoop::time_point start = {}) {
    return asyncio::get_running_loop().time() - start;
}

}  // namespace asyncio_test
