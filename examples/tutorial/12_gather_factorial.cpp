// 12_gather_factorial.cpp: the tutorial's asyncio.gather / 示例2:展示同时计算的细节: three
// factorials computed concurrently; their lines interleave, one step per second.
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <string>

// Computes number's factorial.
asyncio::Coro<int> factorial(std::string name, int number) {
    int f = 1;  // the factorial so far
    for (int i = 2; i <= number; ++i) {
        std::cout << "任务 " << name << ": 计算(" << number << ")的阶乘, 当前 i=" << i << "...\n";
        // Sleep 1 second, standing for a wait the computation might have to make.
        co_await asyncio::sleep(1);
        f *= i;
    }
    std::cout << "任务 " << name << ": (" << number << ")的阶乘 = " << f << '\n';
    co_return f;
}

asyncio::Coro<void> amain() {
    // Schedule three calls concurrently.
    auto L = co_await asyncio::gather(
        factorial("A", 2),
        factorial("B", 3),
        factorial("C", 4)
    );
    // print(L), as Python prints its list.
    auto& [a, b, c] = L;
    std::cout << '[' << a << ", " << b << ", " << c << "]\n";
}

int main() { tour::run(amain()); }
