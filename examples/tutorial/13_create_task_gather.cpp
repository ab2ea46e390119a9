// 13_create_task_gather.cpp: the tutorial's asyncio.gather / 示例3: asyncio.create_task 结合
// asyncio.gather: gather also takes tasks already started; it returns after 2 seconds.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <string>

// coro1 waits 1 second, then returns the string "Result 1".
asyncio::Coro<std::string> coro1() {
    co_await asyncio::sleep(1);
    co_return "Result 1";
}

// coro2 waits 2 seconds, then returns the string "Result 2".
asyncio::Coro<std::string> coro2() {
    co_await asyncio::sleep(2);
    co_return "Result 2";
}

asyncio::Coro<void> amain() {
    // Create task1, running coro1.
    auto task1 = asyncio::create_task(coro1());
    // Create task2, running coro2.
    auto task2 = asyncio::create_task(coro2());
    // Wait for both tasks with gather and keep their results.
    auto results = co_await asyncio::gather(task1, task2);
    // Print the results, as Python prints its list.
    auto& [result1, result2] = results;
    std::cout << "Results: ['" << result1 << "', '" << result2 << "']\n";
}

int main() { tour::run(amain()); }
