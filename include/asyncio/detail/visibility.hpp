// asyncio/detail/visibility.hpp: ASYNCIO_SHARED_STATE, for the library's per-thread state
// defined in headers (inline variables).
#pragma once

// Default visibility for an inline variable the library's out-of-line code and the inline
// code in a user's binary must share (the running task, the frame pool): even in a user's
// shared library compiled with -fvisibility=hidden, which would otherwise get a copy of its
// own while libasyncio.so (BUILD_SHARED_LIBS=ON) uses another. Everything else in the
// library has default visibility anyway; this only matters to hidden-visibility users.
#if defined(__GNUC__) || defined(__clang__)
#define ASYNCIO_SHARED_STATE __attribute__((visibility("default")))
#else
#define ASYNCIO_SHARED_STATE
#endif
