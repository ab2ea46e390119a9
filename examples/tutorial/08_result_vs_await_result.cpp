// 08_result_vs_await_result.cpp: the tutorial's .result() 和 await的区别 / .result()示例代码:
// once the TaskGroup's scope has ended its tasks are done, and result() reads their values.
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

    // The TaskGroup has ended: the tasks are done, so their results can be read.
    std::cout << "Task 1 result: " << t1.result() << '\n';
    std::cout << "Task 2 result: " << t2.result() << '\n';
}

int main() { tour::run(amain()); }
