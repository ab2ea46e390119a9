// 05_set_managed_tasks.cpp: the tutorial's asyncio.create_task() / 使用set管理任务: ten tasks
// kept in a set, each erasing itself from it when done, and a gather over them all.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <unordered_set>
#include <vector>

// An example coroutine function.
asyncio::Coro<void> some_coro(int param) {
    co_await asyncio::sleep(3);  // stands for some asynchronous work
    std::cout << "Task with param " << param << " completed\n";
}

asyncio::Coro<void> amain() {
    // main creates and starts 10 some_coro tasks and adds each to background_tasks; each task
    // removes itself from the set through add_done_callback once it is done.
    std::unordered_set<asyncio::Task<>> background_tasks;

    for (int i = 0; i < 10; ++i) {
        auto task = asyncio::create_task(some_coro(i));

        // Adding the task to the set makes a strong reference to it.
        background_tasks.insert(task);

        // Once the task is done, the callback removes it from the set, so that the set does
        // not grow without bound. (Python: background_tasks.discard)
        task.add_done_callback([&background_tasks](const asyncio::Task<>& t) { background_tasks.erase(t); });
    }

    // Wait for all the tasks. Python's *background_tasks unpacks the set here, so gather
    // gets a snapshot that the callbacks cannot change under it: copy the set the same way.
    std::vector<asyncio::Task<>> snapshot(background_tasks.begin(), background_tasks.end());
    co_await asyncio::gather(snapshot);
}

int main() { tour::run(amain()); }
