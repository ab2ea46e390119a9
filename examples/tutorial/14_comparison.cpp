// 14_comparison.cpp: the tutorial's asyncio.gather、asyncio.create_task 和 asyncio.TaskGroup:
// the same two say_after jobs run concurrently three ways; each way takes 2 seconds.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <string>

asyncio::Coro<void> say_after(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    std::cout << what << '\n';
}

// 1. create_task schedules each job at once and returns its Task; await the tasks later.
asyncio::Coro<void> with_create_task() {
    std::cout << "asyncio.create_task:\n";
    auto task1 = asyncio::create_task(say_after(1, "hello"));
    auto task2 = asyncio::create_task(say_after(2, "world"));
    co_await task1;
    co_await task2;
    std::cout << "finished at " << tour::clock_hms() << '\n';
}

// 2. gather runs the jobs together and returns once all are done, with their results.
asyncio::Coro<void> with_gather() {
    std::cout << "asyncio.gather:\n";
    co_await asyncio::gather(say_after(1, "hello"), say_after(2, "world"));
    std::cout << "finished at " << tour::clock_hms() << '\n';
}

// 3. A TaskGroup waits for its tasks when its scope ends, and if one fails, cancels the rest.
asyncio::Coro<void> with_task_group() {
    std::cout << "asyncio.TaskGroup:\n";
    co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
        tg.create_task(say_after(1, "hello"));
        tg.create_task(say_after(2, "world"));
        co_return;
    });
    std::cout << "finished at " << tour::clock_hms() << '\n';
}

asyncio::Coro<void> amain() {
    std::cout << "started at " << tour::clock_hms() << '\n';
    co_await with_create_task();
    co_await with_gather();
    co_await with_task_group();
}

int main() { tour::run(amain()); }
