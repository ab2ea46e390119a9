// tests/support/queues.hpp: the coroutines a queue test runs as tasks. put() and get() return
// awaiters, not coroutines, so CPython's `asyncio.create_task(q.get())` is
// `asyncio::create_task(get_from(q))` here.
#pragma once

#include <asyncio/coroutines.hpp>

#include <utility>

namespace asyncio_test {

// `await q.get()`
template <class Q>
asyncio::Coro<typename Q::value_type> get_from(Q& q) {
    co_return co_await q.get();
}

// `await q.put(item)`
template <class Q>
asyncio::Coro<void> put_into(Q& q, typename Q::value_type item) {
    co_await q.put(std::move(item));
}

// `await q.join()`
template <class Q>
asyncio::Coro<void> join_of(Q& q) {
    co_await q.join();
}

}  // namespace asyncio_test
