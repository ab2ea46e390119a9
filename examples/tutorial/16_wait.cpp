// 16_wait.cpp: the tutorial's asyncio.wait: wait for the first of three tasks with
// FIRST_COMPLETED, then cancel the two still pending, since wait() leaves them running.
#include "tour.hpp"

#include <asyncio.hpp>

#include <initializer_list>
#include <iostream>
#include <vector>

asyncio::Coro<void> job(int delay) {
    co_await asyncio::sleep(delay);
    std::cout << "job " << delay << " finished\n";
}

asyncio::Coro<void> amain() {
    std::vector<asyncio::Task<>> tasks;
    for (int delay : {1, 2, 3}) tasks.push_back(asyncio::create_task(job(delay)));

    auto [done, pending] = co_await asyncio::wait(tasks, asyncio::FIRST_COMPLETED);
    std::cout << "done: " << done.size() << ", pending: " << pending.size() << '\n';

    // wait() cancels nothing: cancel the pending tasks, and wait until they have finished.
    for (const auto& task : pending) task.cancel();
    co_await asyncio::wait(pending);

    for (int i = 0; i < 3; ++i)
        std::cout << "job " << i + 1 << (tasks[i].cancelled() ? " cancelled" : " done") << '\n';
}

int main() { tour::run(amain()); }
