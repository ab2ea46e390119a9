// expect: asyncio::wait() takes tasks, not coroutines
#include <asyncio.hpp>
#include <utility>
#include <vector>
asyncio::Coro<int> f() { co_return 1; }
asyncio::Coro<void> misuse() {
    std::vector<asyncio::Coro<int>> coros;
    coros.push_back(f());
    co_await asyncio::wait(std::move(coros));
}
