// asyncio/pipes.hpp: the loop's pipe transports, connect_read_pipe and connect_write_pipe
// (CPython's unix_events.py), and stream wrappers over them, open_read_pipe and
// open_write_pipe. The transport is the stream transport of sockets in pipe mode
// (src/stream_transport.cpp); its rules: docs/design/transports.md.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/events.hpp>
#include <asyncio/network.hpp>
#include <asyncio/protocols.hpp>
#include <asyncio/socket.hpp>
#include <asyncio/streams.hpp>
#include <asyncio/transports.hpp>

#include <cstddef>
#include <memory>
#include <utility>

namespace asyncio {

namespace detail {

// A pipe transport over the fd `owner` holds (src/pipes.cpp), connection_made called.
std::shared_ptr<Transport> make_pipe_transport(EventLoop& loop, Socket owner, bool write_end, std::unique_ptr<BaseProtocol> protocol);

// The fd of a pipe, owned by the coroutine's frame until the transport takes it, so that a
// connect never awaited closes it too.
inline Socket own_pipe_fd(int fd) noexcept { return SocketAccess::adopt(fd, AF_UNSPEC, 0, 0, false); }

template <class P>
Coro<std::pair<std::shared_ptr<Transport>, P*>> connect_pipe(EventLoop& loop, Socket owner, bool write_end, ProtocolFactory factory) {
    std::unique_ptr<BaseProtocol> protocol = factory();
    auto* p = static_cast<P*>(protocol.get());
    std::shared_ptr<Transport> t = make_pipe_transport(loop, std::move(owner), write_end, std::move(protocol));
    co_return std::pair<std::shared_ptr<Transport>, P*>(std::move(t), p);
}

}  // namespace detail

template <class F>
auto EventLoop::connect_read_pipe(F&& protocol_factory, int fd) {
    using P = detail::factory_protocol_t<F>;
    return detail::connect_pipe<P>(*this, detail::own_pipe_fd(fd), false, detail::make_protocol_factory(std::forward<F>(protocol_factory)));
}

template <class F>
auto EventLoop::connect_write_pipe(F&& protocol_factory, int fd) {
    using P = detail::factory_protocol_t<F>;
    return detail::connect_pipe<P>(*this, detail::own_pipe_fd(fd), true, detail::make_protocol_factory(std::forward<F>(protocol_factory)));
}

/// A StreamReader over the read end of a pipe `fd` (owned from now on): what CPython
/// programs build by hand from a StreamReader, a StreamReaderProtocol and
/// `connect_read_pipe`. Reading pauses above 2 × `limit` as for a connection.
///
/// Python: `reader = asyncio.StreamReader(limit=limit);
///   await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)`
/// Throws: what connect_read_pipe throws; `ValueError` for a limit <= 0.
/// Differs from CPython: a name of this library's; CPython has no such helper.
[[nodiscard]] Coro<StreamReader> open_read_pipe(int fd, std::ptrdiff_t limit = stream_default_limit);

/// A StreamWriter over the write end of a pipe `fd` (owned from now on): write, drain
/// under flow control, close, wait_closed. `drain()` raises BrokenPipeError once the
/// reader has gone with bytes unsent, ConnectionResetError once it has gone otherwise.
///
/// Python: `transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, pipe);
///   writer = asyncio.StreamWriter(transport, protocol, None, loop)`
/// Differs from CPython: a name of this library's; CPython has no such helper.
[[nodiscard]] Coro<StreamWriter> open_write_pipe(int fd);

}  // namespace asyncio
