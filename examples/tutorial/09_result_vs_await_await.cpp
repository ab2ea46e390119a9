// 09_result_vs_await_await.cpp: the tutorial's .result() 和 await的区别 / await示例代码: as
// 08_result_vs_await_result, but awaiting the tasks, which are already done: nothing waits.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <string>

asyncio::Coro<std::string> task1() {
    std::cout << "Task 1 started\n";
    co_await asyncio::sleep(2);
    std::cout << "Task 1 completed\n";
    co_return "Result from task 1";
}

asyncio::Coro<std::string> task2() {
    std::cout << "Task 2 started\n";
    co_await asyncio::sleep(1);
    std::cout << "Task 2 completed\n";
    co_return "Result from task 2";
}

asyncio::Coro<void> amain() {
    asyncio::Task<std::string> t1;
    asyncio::Task<std::string> t2;
    co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
        t1 = tg.create_task(task1());
        t2 = tg.create_task(task2());
        co_return;
    });

    // The TaskGroup has ended: the tasks are done, so awaiting them just gives their results.
    auto result1 = co_await t1;
    auto result2 = co_await t2;

    std::cout << "Task 1 result: " << result1 << '\n';
    std::cout << "Task 2 result: " << result2 << '\n';
}

int main() { tour::run(amain()); }
