// 01_hello_world.cpp: the tutorial's 写法示例 / 单 await 示例: print "hello", wait 1 second,
// print "world".
#include "tour.hpp"

#include <asyncio.hpp>

#include <chrono>
#include <iostream>

using namespace std::chrono_literals;

asyncio::Coro<void> amain() {
    std::cout << "hello\n";
    co_await asyncio::sleep(1s);
    std::cout << "world\n";
}

int main() { tour::run(amain()); }
