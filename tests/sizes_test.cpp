// The sizes the benchmarks and docs/design/memory.md rely on, pinned at compile time: a change
// that grows a task or an awaiter fails here first, and must update memory.md with it.
#include <asyncio.hpp>

#include <memory>
#include <string>

namespace d = asyncio::detail;

// The task state: 80 bytes whatever the result type, as long as the value fits the 16 bytes
// the wait uses while the task runs (docs/design/tasks.md, "layout").
static_assert(sizeof(d::TaskCore) == 80);
static_assert(sizeof(d::TaskState<void>) == 80);
static_assert(sizeof(d::TaskState<int>) == 80);
static_assert(sizeof(d::TaskState<std::unique_ptr<int>>) == 80);
static_assert(d::fits_in_task<std::pair<void*, void*>>());
static_assert(!d::fits_in_task<std::string>());
// What a sleeping or awaiting frame holds.
static_assert(sizeof(d::SleepAwaiter<void>) == 40);
static_assert(sizeof(d::FutureAwaiter<int, d::TaskState<int>>) == 56);
// A plain future: the shared part and the value.
static_assert(sizeof(d::FutureState<int>) == 56);
// Handles are one pointer.
static_assert(sizeof(asyncio::Task<int>) == sizeof(void*));
static_assert(sizeof(asyncio::Future<int>) == sizeof(void*));
static_assert(sizeof(asyncio::Handle) == sizeof(void*));

// No run-time case: the build is the test (every CI configuration compiles this file).
