// expect: create_task() takes a coroutine, or a callable that returns one
#include <asyncio.hpp>
int plain() { return 1; }
asyncio::Coro<void> misuse() {
    auto t = asyncio::create_task(plain);
    co_return;
}
