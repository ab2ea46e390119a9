// examples/deadlock.cpp: a hang that names itself (docs/debugging.md). On the virtual clock,
// two workers take two locks in opposite orders and wait for each other for ever; the
// loop, with nothing left that could wake it, raises DeadlockError instead of hanging, and
// its text says who waits on what.
#include <asyncio.hpp>
#include <asyncio/testing.hpp>

#include <cstdio>

asyncio::Coro<void> worker(asyncio::Lock& mine, asyncio::Lock& other) {
    auto held = co_await mine.scoped();
    co_await asyncio::sleep(1);  // long enough for the other worker to take its lock
    co_await other.acquire();
    other.release();
}

asyncio::Coro<void> amain() {
    asyncio::Lock accounts;
    asyncio::Lock ledger;
    auto a = asyncio::create_task(worker(accounts, ledger), "transfer");
    auto b = asyncio::create_task(worker(ledger, accounts), "audit");
    co_await asyncio::gather(std::move(a), std::move(b));
}

int main() {
    try {
        asyncio::testing::run(amain());
    } catch (const asyncio::DeadlockError& e) {
        std::printf("%s\n", e.what());
        return 0;
    }
    std::printf("no deadlock?\n");
    return 1;
}
