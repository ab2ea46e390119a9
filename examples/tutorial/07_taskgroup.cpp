// 07_taskgroup.cpp: the tutorial's asyncio.TaskGroup: 03_create_task's two say_after tasks,
// created in a TaskGroup, which waits for them when its scope ends; it also takes 2 seconds.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <string>

asyncio::Coro<void> say_after(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    std::cout << what << '\n';
}

asyncio::Coro<void> amain() {
    co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
        auto task1 = tg.create_task(
            say_after(1, "hello"));

        auto task2 = tg.create_task(
            say_after(2, "world"));

        std::cout << "started at " << tour::clock_hms() << '\n';
        co_return;
    });

    // The await is implicit when the group's scope ends.

    std::cout << "finished at " << tour::clock_hms() << '\n';
}

int main() { tour::run(amain()); }
