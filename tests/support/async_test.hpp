// tests/support/async_test.hpp: ASYNCIO_TEST, a GoogleTest case whose body is a coroutine
// run by asyncio::testing::run on a fresh virtual-clock loop (folly's CO_TEST, tokio's
// start_paused). Use EXPECT_* in bodies: ASSERT_* would `return` from a coroutine.
#pragma once

#include <asyncio.hpp>
#include <asyncio/testing.hpp>

#include <gtest/gtest.h>

#include <chrono>

#define ASYNCIO_TEST(suite, name)                                              \
    static ::asyncio::Coro<void> suite##_##name##_body();                      \
    TEST(suite, name) { ::asyncio::testing::run(suite##_##name##_body()); }    \
    static ::asyncio::Coro<void> suite##_##name##_body()

namespace asyncio_test {

// Seconds of virtual time since `start` (the loop of a test starts at zero).
inline std::chrono::nanoseconds elapsed(asyncio::EventLoop::time_point start = {}) {
    return asyncio::get_running_loop().time() - start;
}

}  // namespace asyncio_test
