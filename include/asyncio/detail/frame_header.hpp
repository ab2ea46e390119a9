// asyncio/detail/frame_header.hpp: what every Coro frame carries for the library, whatever
// its result type (coroutines.hpp has the promises): the link to the frame awaiting it, for
// a task's teardown, and the place it is suspended in, for the await graph and the reports
// (docs/design/debugging.md).
#pragma once

#include <asyncio/detail/source_site.hpp>

#include <coroutine>

namespace asyncio::detail {

// Where an inline-awaited Coro leaves its outcome and whom it resumes: part of the awaiting
// frame's CoroAwaiter, so the child frame carries only this header of bookkeeping. A task's
// root has no link: its outcome goes straight into the running task.
// The untyped part is what a task's teardown walks (destroy_suspended_frames): whom the
// awaited frame resumes, and the awaited frame itself, which the awaiter owns.
struct CoroLinkBase {
    std::coroutine_handle<> continuation;
    std::coroutine_handle<> frame;
};

// The first base of every Coro promise, the same for every T, so that a task's teardown
// can follow the links of frames whose result types it does not know, and the await graph
// can say where each frame of a chain waits.
struct CoroFrameHeader {
    CoroLinkBase* link = nullptr;  // null: the root of a task (or not started yet)
    // The co_await the frame is suspended in, or was last: each library awaiter's
    // await_suspend takes its call site as a default argument (ASYNCIO_SOURCE_SITE) and
    // notes it here, one store per suspension. Before the first one, the coroutine's own
    // place (noted by get_return_object: the function's name; the line g++ gives is the
    // closing brace's).
    SourceSite where;
};

// The header of a suspended Coro frame known only by its address. Every Coro promise has
// CoroFrameHeader as its first base and the same alignment (coroutines.hpp checks it), so
// the promise (and its header) sits at the same offset in every Coro frame.
inline CoroFrameHeader& frame_header(void* frame) noexcept { return std::coroutine_handle<CoroFrameHeader>::from_address(frame).promise(); }

}  // namespace asyncio::detail
