// src/network_internal.hpp: what src/network.cpp and src/connect.cpp share.
#pragma once

#include <asyncio/exceptions.hpp>
#include <asyncio/socket.hpp>

namespace asyncio::detail {

// CPython's bind error: "error while attempting to bind on address ('127.0.0.1', 80):
// permission denied", of the errno's OSError subclass.
[[noreturn]] void throw_bind_error(const OSError& e, const SocketAddress& address);

}  // namespace asyncio::detail
