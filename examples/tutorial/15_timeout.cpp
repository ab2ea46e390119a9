// 15_timeout.cpp: the tutorial's asyncio.timeout / 使用示例: a 3-second timeout over a
// 5-second coroutine: at 3 seconds it is cancelled and TimeoutError is raised.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>

asyncio::Coro<void> my_coroutine() {
    std::cout << "Task started\n";
    co_await asyncio::sleep(5);  // stands for 5 seconds of asynchronous work
    std::cout << "Task finished\n";
}

asyncio::Coro<void> amain() {
    try {
        co_await asyncio::timeout(3, my_coroutine());  // a timeout of 3 seconds
    } catch (const asyncio::TimeoutError&) {
        std::cout << "The task took too long and was cancelled\n";
    }
}

int main() { tour::run(amain()); }
