// examples/subprocess_pool.cpp: 50 shell commands, at most 4 running at a time (a Semaphore
// and a TaskGroup); every exit code collected in the commands' order. CTest checks the output
// (examples.subprocess_pool).
//
// Python:
//     async def run(i, slots):
//         async with slots:
//             proc = await asyncio.create_subprocess_shell(f'exit $(({i} % 5))')
//             return await proc.wait()
//     async with asyncio.TaskGroup() as tg:
//         tasks = [tg.create_task(run(i, slots)) for i in range(50)]
//     codes = [t.result() for t in tasks]
#include <asyncio.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>

struct Pool {
    asyncio::Semaphore slots{4};
    int running = 0;
    int most = 0;
};

asyncio::Coro<int> run(int i, Pool& pool) {
    co_await pool.slots.acquire();
    ++pool.running;
    pool.most = std::max(pool.most, pool.running);
    asyncio::Process proc = co_await asyncio::create_subprocess_shell("sleep 0.01; exit $((" + std::to_string(i) + " % 5))");
    const int code = co_await proc.wait();
    --pool.running;
    pool.slots.release();
    co_return code;
}

asyncio::Coro<void> amain() {
    Pool pool;
    std::vector<asyncio::Task<int>> tasks;
    auto body = [&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
        for (int i = 0; i < 50; ++i) tasks.push_back(tg.create_task(run(i, pool)));
        co_return;
    };
    co_await asyncio::TaskGroup::run(body);
    std::map<int, int> count;
    std::cout << "exit codes:";
    for (auto& t : tasks) {
        std::cout << ' ' << t.result();
        ++count[t.result()];
    }
    std::cout << "\n";
    for (auto [code, n] : count) std::cout << "exit " << code << ": " << n << " commands\n";
    std::cout << "at most " << pool.most << " at once\n";
}

int main() { asyncio::run(amain()); }
