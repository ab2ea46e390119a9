// expect: create_task() takes a coroutine: a Task or Future is already scheduled
#include <asyncio.hpp>
asyncio::Coro<int> f() { co_return 1; }
asyncio::Coro<void> misuse() {
    auto t = asyncio::create_task(f());
    auto u = asyncio::create_task(t);
    co_return;
}
