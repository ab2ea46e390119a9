// tests/consumer/shared_library/uses_lib.cpp: an executable linked with the consumer's shared
// library (it does not link asyncio itself), calling it on the main thread and on two more.
#include "consumer_checks.hpp"
#include "consumer_lib.hpp"

#include <thread>

int main() {
    consumer::Checks checks;
    constexpr long long want = 30000LL * 1000000 + 100 * 101 / 2;
    checks.expect_eq("consumer_lib_run on the main thread", consumer_lib_run(3, 100), want);
    long long a = 0;
    long long b = 0;
    std::thread ta([&] { a = consumer_lib_run(2, 100); });
    std::thread tb([&] { b = consumer_lib_run(5, 100); });
    ta.join();
    tb.join();
    checks.expect_eq("consumer_lib_run on a second thread", a, want);
    checks.expect_eq("consumer_lib_run on a third thread", b, want);
    return checks.exit_code();
}
