// src/network_internal.hpp: what the networking sources share (network.cpp, connect.cpp,
// stream_transport.cpp, streams.cpp).
#pragma once

#include <asyncio/exceptions.hpp>
#include <asyncio/socket.hpp>

#include <cstddef>
#include <span>

namespace asyncio::detail {

// The receive buffer of this thread (one loop per thread), CPython's max_size (256 KiB):
// what a Protocol's data_received sees a view of, and what a stream receives into before
// its bytes are copied into the reader's own buffer. Allocated on first use; only the
// pages a read touched are resident.
std::span<std::byte> thread_read_buffer();

// CPython's bind error: "error while attempting to bind on address ('127.0.0.1', 80):
// permission denied", of the errno's OSError subclass.
[[noreturn]] void throw_bind_error(const OSError& e, const SocketAddress& address);

}  // namespace asyncio::detail
