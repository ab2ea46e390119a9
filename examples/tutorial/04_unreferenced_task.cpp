// 04_unreferenced_task.cpp: the tutorial's asyncio.create_task() / 强引用与弱引用, as a
// demonstration: a task whose handle is dropped at once still runs to completion.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>

asyncio::Coro<void> some_coro(int param) {
    co_await asyncio::sleep(3);  // stands for some asynchronous work
    std::cout << "Task with param " << param << " completed\n";
}

asyncio::Coro<void> amain() {
    // 1. Not assigned ("weak reference"): the Task handle is a temporary, gone at the `;`.
    //    CPython's loop keeps only a weak reference to a task, so there such a task may be
    //    garbage-collected before it finishes. Here the loop keeps every unfinished task
    //    alive until it is done, so this one runs to completion although nothing holds it.
    asyncio::create_task(some_coro(1));

    // 2. Assigned (strong reference): task2 holds the task while it is in scope.
    auto task2 = asyncio::create_task(some_coro(2));

    // The loop's own count: main, task 1 and task 2.
    std::cout << "unfinished tasks: " << asyncio::all_tasks().size() << '\n';

    // Wait long enough for both, without awaiting either: task 1 cannot be awaited anyway.
    co_await asyncio::sleep(4);

    std::cout << "unfinished tasks: " << asyncio::all_tasks().size() << '\n';
}

int main() { tour::run(amain()); }
