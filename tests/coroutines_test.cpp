// Tests for asyncio/coroutines.hpp: Coro<T> (Lib/asyncio/coroutines.py; CPython's
// test_asyncio has no direct counterpart, these pin docs/design/tasks.md).
#include <asyncio/coroutines.hpp>

#include "support/async_test.hpp"
#include "support/counted.hpp"

#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asyncio::Coro;

namespace {

Coro<int> answer() { co_return 42; }
Coro<void> nothing() { co_return; }
Coro<int> fail() {
    throw asyncio::ValueError("boom");
    co_return 0;
}
Coro<int> add_one(int x) { co_return x + 1; }
Coro<int> depth(int n) {
    if (n == 0) co_return 0;
    co_return 1 + co_await depth(n - 1);
}
Coro<int> depth_then_throw(int n) {
    if (n == 0) throw asyncio::ValueError("bottom");
    co_return 1 + co_await depth_then_throw(n - 1);
}
Coro<int> keep(Counted c, int v) {
    (void)c;
    co_return v;
}
Coro<std::unique_ptr<int>> move_only() { co_return std::make_unique<int>(7); }

}  // namespace

ASYNCIO_TEST(Coro, ReturnsValue) {
    EXPECT_EQ(co_await answer(), 42);
    co_await nothing();
}

ASYNCIO_TEST(Coro, PropagatesException) {
    EXPECT_THROW(co_await fail(), asyncio::ValueError);
}

ASYNCIO_TEST(Coro, IsLazy) {
    bool ran = false;
    auto body = [&]() -> Coro<void> {
        ran = true;
        co_return;
    };
    Coro<void> c = body();
    EXPECT_FALSE(ran);
    co_await c;
    EXPECT_TRUE(ran);
}

ASYNCIO_TEST(Coro, AwaitTwiceRaisesRuntimeError) {
    // CPython: RuntimeError("cannot reuse already awaited coroutine").
    Coro<int> c = answer();
    EXPECT_EQ(co_await c, 42);
    EXPECT_THROW(co_await c, asyncio::RuntimeError);
}

ASYNCIO_TEST(Coro, MoveOnlyResult) {
    auto p = co_await move_only();
    EXPECT_EQ(*p, 7);
}

ASYNCIO_TEST(Coro, MillionSynchronousAwaitsDoNotGrowTheStack) {
    // docs/design/toolchain.md: g++ 12 has no tail call for symmetric transfer at -O0 or under ASan; the
    // task's trampoline must keep this flat.
    long sum = 0;
    for (int i = 0; i < 1'000'000; ++i) sum += co_await add_one(i);
    EXPECT_EQ(sum, 1'000'000L * 999'999 / 2 + 1'000'000);
}

ASYNCIO_TEST(Coro, RecursionTenThousandDeep) {
    EXPECT_EQ(co_await depth(10'000), 10'000);
    EXPECT_THROW(co_await depth_then_throw(10'000), asyncio::ValueError);
}

ASYNCIO_TEST(Coro, FrameAndArgumentsDestroyedWhenAwaitEnds) {
    Counted::reset();
    EXPECT_EQ(co_await keep(Counted{}, 5), 5);
    EXPECT_EQ(Counted::alive(), 0);
    {
        Coro<int> never = keep(Counted{}, 1);  // never awaited: destroyed with the Coro
        EXPECT_EQ(Counted::alive(), 1);
    }
    EXPECT_EQ(Counted::alive(), 0);
}

ASYNCIO_TEST(Coro, MovedFromCoroIsInvalid) {
    Coro<int> a = answer();
    Coro<int> b = std::move(a);
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(b.valid());
    EXPECT_THROW(co_await a, asyncio::RuntimeError);
    EXPECT_EQ(co_await b, 42);
}

static_assert(asyncio::iscoroutine<Coro<int>>);
static_assert(!asyncio::iscoroutine<int>);
