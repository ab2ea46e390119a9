// 03_create_task.cpp: the tutorial's asyncio.create_task(): the two say_after calls of
// 02_say_after run concurrently as tasks, so it takes 2 seconds instead of 3.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <string>

asyncio::Coro<void> say_after(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    std::cout << what << '\n';
}

asyncio::Coro<void> amain() {
    auto task1 = asyncio::create_task(
        say_after(1, "hello"));

    auto task2 = asyncio::create_task(
        say_after(2, "world"));

    std::cout << "started at " << tour::clock_hms() << '\n';

    // Wait until both tasks are done (about 2 seconds).
    co_await task1;
    co_await task2;

    std::cout << "finished at " << tour::clock_hms() << '\n';
}

int main() { tour::run(amain()); }
