// tests/consumer/shared_library/dlopens_lib.cpp: loads the consumer's shared library with
// dlopen() (as a plugin is loaded), calls it, unloads it, and does it again.
#include "consumer_checks.hpp"
#include "consumer_lib.hpp"

#include <dlfcn.h>

#include <iostream>

int main() {
    consumer::Checks checks;
    constexpr long long want = 30000LL * 1000000 + 50 * 51 / 2;
    for (int round = 1; round <= 2; ++round) {
        void* lib = ::dlopen(CONSUMER_LIB_PATH, RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) {
            std::cout << "FAILED dlopen: " << ::dlerror() << '\n';
            return 1;
        }
        auto run = reinterpret_cast<consumer_lib_run_fn>(::dlsym(lib, "consumer_lib_run"));
        if (run == nullptr) {
            std::cout << "FAILED dlsym: " << ::dlerror() << '\n';
            return 1;
        }
        checks.expect_eq("consumer_lib_run through dlopen, round " + std::to_string(round), run(4, 50), want);
        checks.expect_eq("dlclose", ::dlclose(lib), 0);
    }
    return checks.exit_code();
}
