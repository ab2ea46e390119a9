// 10_gather_basic.cpp: the tutorial's asyncio.gather / 基本用法: three coroutines run
// concurrently; gather returns their results in argument order once all are done (3 seconds).
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <string>

asyncio::Coro<std::string> foo(int x) {
    co_await asyncio::sleep(x);
    co_return "foo: " + std::to_string(x);
}

asyncio::Coro<std::string> bar(int y) {
    co_await asyncio::sleep(y);
    co_return "bar: " + std::to_string(y);
}

asyncio::Coro<void> amain() {
    auto results = co_await asyncio::gather(
        foo(1),
        bar(2),
        foo(3)
    );
    // print(results): the results come as a tuple; print it as Python prints its list.
    auto& [r1, r2, r3] = results;
    std::cout << "['" << r1 << "', '" << r2 << "', '" << r3 << "']\n";
}

int main() { tour::run(amain()); }
