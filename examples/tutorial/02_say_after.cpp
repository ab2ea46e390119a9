// 02_say_after.cpp: the tutorial's 写法示例 / 多个 await 示例: "hello" after 1 second, then
// "world" after 2 more; the awaits run one after the other, so it takes 3 seconds.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <string>

asyncio::Coro<void> say_after(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    std::cout << what << '\n';
}

asyncio::Coro<void> amain() {
    std::cout << "started at " << tour::clock_hms() << '\n';

    co_await say_after(1, "hello");
    co_await say_after(2, "world");

    std::cout << "finished at " << tour::clock_hms() << '\n';
}

int main() { tour::run(amain()); }
