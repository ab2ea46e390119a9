// tests/consumer/shared_library/consumer_lib.hpp: the consumer library's one exported
// function; asyncio does not show in its interface.
#pragma once

#define CONSUMER_LIB_API __attribute__((visibility("default")))

extern "C" {

/// Runs `workers` tasks that each take numbers from a queue of 1..n and sum them, on a new
/// loop of the calling thread, plus a 30-second timeout on the virtual clock; returns the sum
/// plus the virtual milliseconds the timeout took times 1000000 (30000000000 + n(n+1)/2 when
/// all is well).
CONSUMER_LIB_API long long consumer_lib_run(int workers, int n);

using consumer_lib_run_fn = long long (*)(int, int);
}
