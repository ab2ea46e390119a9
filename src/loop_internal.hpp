// src/loop_internal.hpp: helpers shared by the loop's translation units. Never installed.
#pragma once

#include <asyncio/events.hpp>

namespace asyncio::detail {

// What the default exception handler prints, usable without a loop.
void print_exception_context(const ExceptionContext& context) noexcept;

}  // namespace asyncio::detail
