// expect: TaskGroup::run() takes a callable (TaskGroup&) -> Coro<T>
#include <asyncio.hpp>
asyncio::Coro<int> f() { co_return 1; }
asyncio::Coro<void> misuse() {
    co_await asyncio::TaskGroup::run([](asyncio::TaskGroup& tg) { tg.create_task(f()); });
}
