// src/pipes.cpp: the pipe transports (connect_read_pipe, connect_write_pipe) and the stream
// wrappers over them (asyncio/pipes.hpp).
#include <asyncio/pipes.hpp>

#include "stream_transport.hpp"

namespace asyncio {
namespace detail {

std::shared_ptr<Transport> make_pipe_transport(EventLoop& loop, Socket owner, bool write_end, std::unique_ptr<BaseProtocol> protocol) {
    return StreamTransport::create_pipe(loop, owner.detach(), write_end ? StreamKind::write_pipe : StreamKind::read_pipe, std::move(protocol));
}

}  // namespace detail

Coro<StreamReader> open_read_pipe(int fd, std::ptrdiff_t limit) {
    Socket owner = detail::own_pipe_fd(fd);
    StreamReader reader(limit);
    const ProtocolFactory factory = [&reader]() -> std::unique_ptr<BaseProtocol> { return std::make_unique<StreamReaderProtocol>(reader); };
    co_await detail::connect_pipe<StreamReaderProtocol>(get_running_loop(), std::move(owner), false, factory);
    co_return reader;
}

Coro<StreamWriter> open_write_pipe(int fd) {
    Socket owner = detail::own_pipe_fd(fd);
    // The writer's flow control and close live in a stream state, as a connection's: its
    // reader half stays empty.
    StreamReader unused;
    const ProtocolFactory factory = [&unused]() -> std::unique_ptr<BaseProtocol> { return std::make_unique<StreamReaderProtocol>(unused); };
    auto made = co_await detail::connect_pipe<StreamReaderProtocol>(get_running_loop(), std::move(owner), true, factory);
    co_return detail::StreamAccess::writer(std::move(made.first), detail::StreamAccess::state(unused));
}

}  // namespace asyncio
