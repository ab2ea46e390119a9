// src/transports.cpp: what every Transport shares: the write buffer's marks, checked as
// CPython's _FlowControlMixin checks them.
#include <asyncio/exceptions.hpp>
#include <asyncio/transports.hpp>

#include <string>

namespace asyncio {

void Transport::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
    std::size_t h = high ? *high : (low ? 4 * *low : std::size_t{64} * 1024);
    std::size_t l = low ? *low : h / 4;
    if (h < l) throw ValueError("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ") must be >= 0");
    high_water_ = h;
    low_water_ = l;
    write_buffer_limits_changed();
}

}  // namespace asyncio
