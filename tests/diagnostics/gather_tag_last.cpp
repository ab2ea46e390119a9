// expect: gather(): return_exceptions goes first
#include <asyncio.hpp>
#include <vector>
asyncio::Coro<int> f() { co_return 1; }
asyncio::Coro<void> misuse() {
    std::vector<asyncio::Task<int>> tasks;
    tasks.push_back(asyncio::create_task(f()));
    co_await asyncio::gather(tasks, asyncio::return_exceptions);
}
