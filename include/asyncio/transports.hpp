// asyncio/transports.hpp: BaseTransport and Transport, the stream transport a protocol
// writes to and the loop reads for (Lib/asyncio/transports.py; the implementation for
// sockets and pipes, CPython's _SelectorSocketTransport and Unix pipe transports, is
// src/stream_transport.cpp). Buffering and flow control: docs/design/transports.md.
#pragma once

#include <any>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace asyncio {

class BaseProtocol;
class EventLoop;

/// What every transport has: closing, and facts about the connection.
///
/// Python: `asyncio.BaseTransport`
class BaseTransport {
public:
    virtual ~BaseTransport() = default;
    BaseTransport() = default;
    BaseTransport(const BaseTransport&) = delete;
    BaseTransport& operator=(const BaseTransport&) = delete;

    /// Closes the transport: buffered bytes are still sent, then the protocol's
    /// `connection_lost(nullptr)` is called (in a later step, never inside this call).
    ///
    /// Python: `transport.close()`
    virtual void close() = 0;
    /// True once `close()` or `abort()` was called or the connection was lost.
    ///
    /// Python: `transport.is_closing()`
    [[nodiscard]] virtual bool is_closing() const noexcept = 0;
    /// Facts about the connection by name: "peername" and "sockname" (SocketAddress),
    /// "socket" (Socket*: owned by the transport, not to be closed), or `default_value`.
    ///
    /// Python: `transport.get_extra_info(name, default=None)`
    /// Differs from CPython: a std::any (std::any_cast<SocketAddress>(...)); "socket" is the
    ///   transport's Socket itself (CPython gives a restricted TransportSocket view).
    [[nodiscard]] std::any get_extra_info(std::string_view name, std::any default_value = {}) const {
        std::any v = extra_info(name);
        return v.has_value() ? v : std::move(default_value);
    }
    /// The protocol the transport drives (it owns it).
    ///
    /// Python: `transport.get_protocol()`
    [[nodiscard]] virtual BaseProtocol* get_protocol() const noexcept = 0;
    /// Hands the connection to `protocol`: the next callbacks go to it (a server switching
    /// from HTTP to WebSocket, say). connection_made is not called on it, as CPython's.
    ///
    /// Python: `transport.set_protocol(protocol)`
    /// Throws: `ValueError` for no protocol, or one of a kind the transport cannot drive (a
    ///   stream transport takes a Protocol or a BufferedProtocol).
    /// Differs from CPython: the transport owns its protocol, so the old one is destroyed,
    ///   once no callback of this transport is running (at once when called from a task;
    ///   after the callback returns when a protocol switches itself in data_received).
    virtual void set_protocol(std::unique_ptr<BaseProtocol> protocol) = 0;
    /// `set_protocol` with a protocol by value.
    template <class P>
        requires std::is_base_of_v<BaseProtocol, std::remove_cvref_t<P>>
    void set_protocol(P&& protocol) {
        set_protocol(std::unique_ptr<BaseProtocol>(std::make_unique<std::remove_cvref_t<P>>(std::forward<P>(protocol))));
    }

protected:
    // One fact by name; empty if unknown.
    [[nodiscard]] virtual std::any extra_info(std::string_view name) const = 0;
};

/// A stream transport: a TCP or Unix stream socket (both directions), or one end of a pipe
/// (connect_read_pipe, connect_write_pipe: one direction).
///
/// Python: `asyncio.Transport` (ReadTransport + WriteTransport)
/// Differs from CPython: `write()` on a transport that is closing raises (see `write`);
///   small writes made in one loop iteration leave in one system call at its end.
class Transport : public BaseTransport, public std::enable_shared_from_this<Transport> {
public:
    /// Queues `data` for the peer, without blocking: it leaves at once or, for small writes,
    /// at the end of this loop iteration together with the others; what the kernel does not
    /// take is buffered and sent when the socket is writable. Above the high-water mark the
    /// protocol's `pause_writing()` is called.
    ///
    /// Python: `transport.write(data)`
    /// Throws: `RuntimeError` after `write_eof()`, `close()` or `abort()`; the error that
    ///   ended the connection (ConnectionResetError, BrokenPipeError ...) once it is lost,
    ///   or ConnectionResetError("Connection lost") if it ended without one.
    /// Differs from CPython: CPython drops such writes silently (logging a warning after
    ///   five); here they fail visibly.
    virtual void write(std::string_view data) = 0;
    /// Writes each element in turn; they leave together.
    ///
    /// Python: `transport.writelines(list_of_data)`
    template <class Range>
    void writelines(const Range& lines) {
        for (const auto& line : lines) write(std::string_view(line));
    }
    /// Closes the write side after the buffered bytes are sent (shutdown(SHUT_WR)); the
    /// transport goes on reading.
    ///
    /// Python: `transport.write_eof()`
    virtual void write_eof() = 0;
    /// True: a socket can half-close.
    ///
    /// Python: `transport.can_write_eof()`
    [[nodiscard]] virtual bool can_write_eof() const noexcept = 0;
    /// Closes at once: buffered bytes are dropped; `connection_lost(nullptr)` follows.
    ///
    /// Python: `transport.abort()`
    virtual void abort() = 0;
    /// Stops calling `data_received` until `resume_reading()`; costs no system call.
    ///
    /// Python: `transport.pause_reading()`
    virtual void pause_reading() = 0;
    /// Python: `transport.resume_reading()`
    virtual void resume_reading() = 0;
    /// Python: `transport.is_reading()`
    [[nodiscard]] virtual bool is_reading() const noexcept = 0;
    /// Sets the write buffer's marks: `pause_writing()` above `high`, `resume_writing()` at
    /// or below `low`. Defaults as CPython: high 64 KiB (or 4 × low), low high / 4.
    ///
    /// Python: `transport.set_write_buffer_limits(high=None, low=None)`
    /// Throws: `ValueError("high (H) must be >= low (L) must be >= 0")`.
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt, std::optional<std::size_t> low = std::nullopt);
    /// The (low, high) marks.
    ///
    /// Python: `transport.get_write_buffer_limits()`
    [[nodiscard]] std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept { return {low_water_, high_water_}; }
    /// Bytes buffered and not yet taken by the kernel, in O(1).
    ///
    /// Python: `transport.get_write_buffer_size()`
    [[nodiscard]] virtual std::size_t get_write_buffer_size() const noexcept = 0;

protected:
    // The marks changed: pause or resume the protocol as the buffer now stands.
    virtual void write_buffer_limits_changed() = 0;
    std::size_t high_water_ = std::size_t{64} * 1024;
    std::size_t low_water_ = std::size_t{16} * 1024;
};

}  // namespace asyncio
