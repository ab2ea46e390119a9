// 06_list_managed_tasks.cpp: the tutorial's asyncio.create_task() / 拓展:使用list管理任务: as
// 05_set_managed_tasks, with the tasks kept in a list (a std::vector) instead of a set.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <vector>

// An example coroutine function.
asyncio::Coro<void> some_coro(int param) {
    co_await asyncio::sleep(3);
    std::cout << "Task with param " << param << " completed\n";
}

asyncio::Coro<void> amain() {
    std::vector<asyncio::Task<>> tasks;

    for (int i = 0; i < 10; ++i) {
        auto task = asyncio::create_task(some_coro(i));
        tasks.push_back(task);
        // A done callback removes the task from the list once it is done.
        // (Python: tasks.remove)
        task.add_done_callback([&tasks](const asyncio::Task<>& t) { std::erase(tasks, t); });
    }

    // Wait for all the tasks with gather. Python's *tasks passes a snapshot of the list,
    // which the callbacks cannot change under gather: pass a copy the same way.
    std::vector<asyncio::Task<>> snapshot = tasks;
    co_await asyncio::gather(snapshot);
}

int main() { tour::run(amain()); }
