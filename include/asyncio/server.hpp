// asyncio/server.hpp: Server, what loop.create_server and create_unix_server return
// (CPython's asyncio.Server, base_events.py): its listening sockets, accepting, closing,
// and waiting for its connections to end. How it accepts: docs/design/transports.md.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/futures.hpp>
#include <asyncio/protocols.hpp>
#include <asyncio/socket.hpp>

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asyncio {

class EventLoop;
namespace detail {
class ServerListener;
class StreamTransport;
struct ServerAccess;
}  // namespace detail

/// What makes a protocol for each connection a server accepts.
///
/// Python: the `protocol_factory` argument
using ProtocolFactory = std::function<std::unique_ptr<BaseProtocol>()>;

/// A listening server: accepts connections on its sockets, each with a transport and a new
/// protocol, until closed. Owned through a std::shared_ptr; its connections hold it too.
///
/// Python: `asyncio.Server`
/// Differs from CPython: `wait_closed()` waits for the connections as 3.12.1 does (earlier
///   versions returned at once); no `async with` (destroying the last reference closes the
///   listening sockets; call `close()` and `co_await wait_closed()` to end cleanly).
class Server : public std::enable_shared_from_this<Server> {
public:
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    /// Closes the listening sockets still open (the connections, which hold the server,
    /// are gone by then).
    ~Server();

    /// Python: `server.get_loop()`
    [[nodiscard]] EventLoop& get_loop() const noexcept { return *loop_; }
    /// True while accepting connections.
    ///
    /// Python: `server.is_serving()`
    [[nodiscard]] bool is_serving() const noexcept { return serving_; }
    /// The listening sockets; empty once closed.
    ///
    /// Python: `server.sockets`
    [[nodiscard]] std::vector<const Socket*> sockets() const;
    /// Starts accepting if not yet (create_server(start_serving = false)), then yields once.
    ///
    /// Python: `await server.start_serving()`
    Coro<void> start_serving();
    /// Accepts connections until cancelled; then closes the server and waits for it.
    ///
    /// Python: `await server.serve_forever()`
    /// Throws: `RuntimeError` if the server is closed or another serve_forever() runs.
    Coro<void> serve_forever();
    /// Stops accepting and closes the listening sockets; connections go on. A Unix server
    /// removes its socket file (cleanup_socket, 3.13).
    ///
    /// Python: `server.close()`
    void close();
    /// Closes every connection of the server (their buffered bytes are still sent).
    ///
    /// Python: `server.close_clients()` (3.13)
    void close_clients();
    /// Aborts every connection of the server.
    ///
    /// Python: `server.abort_clients()` (3.13)
    void abort_clients();
    /// Waits until the server is closed and every one of its connections is gone.
    ///
    /// Python: `await server.wait_closed()` (3.12.1's semantics)
    Coro<void> wait_closed();
    /// How many connections are open.
    [[nodiscard]] std::size_t active_connections() const noexcept { return active_; }

private:
    friend struct detail::ServerAccess;
    friend class detail::ServerListener;
    Server(EventLoop& loop, ProtocolFactory factory, int backlog);

    void start_listening();
    void accept_from(detail::ServerListener& l) noexcept;
    void attach(detail::StreamTransport* t) noexcept;
    void detach(detail::StreamTransport* t) noexcept;
    void wake_up_if_done();

    EventLoop* loop_;
    ProtocolFactory factory_;
    int backlog_;
    std::vector<std::unique_ptr<detail::ServerListener>> listeners_;
    bool closed_ = false;
    bool serving_ = false;
    std::size_t active_ = 0;
    detail::StreamTransport* clients_ = nullptr;  // intrusive list (server_next)
    std::vector<Future<void>> waiters_;           // wait_closed()
    bool woken_ = false;                          // CPython's `_waiters is None`
    std::optional<Future<void>> serving_forever_;
    std::string unix_path_;  // a Unix server's socket file, removed by close()
    dev_t unix_device_ = 0;  // and its identity, which close() checks before removing it
    ino_t unix_inode_ = 0;
};

}  // namespace asyncio
