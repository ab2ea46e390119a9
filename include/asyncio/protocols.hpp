// asyncio/protocols.hpp: BaseProtocol, Protocol and BufferedProtocol, the callback interfaces
// a transport drives (Lib/asyncio/protocols.py). A protocol is owned by its transport and
// lives as long as it; every method is called on the loop's thread, in the ready phase.
#pragma once

#include <cstddef>
#include <exception>
#include <span>
#include <string_view>

namespace asyncio {

class Transport;

/// What every protocol is told: the connection's start and end, and flow control of its
/// writes. Each default does nothing.
///
/// Python: `asyncio.BaseProtocol`
class BaseProtocol {
public:
    virtual ~BaseProtocol() = default;
    /// The connection is made; `transport` lives at least as long as this protocol (it owns
    /// it), so keeping its address is safe.
    ///
    /// Python: `connection_made(transport)`
    virtual void connection_made(Transport& transport) { (void)transport; }
    /// The connection is gone: `exc` is null after an end of stream, `close()` or
    /// `abort()`, else the error (ConnectionResetError ...). Called once, last.
    ///
    /// Python: `connection_lost(exc)`
    virtual void connection_lost(std::exception_ptr exc) { (void)exc; }  // NOLINT(performance-unnecessary-value-param): by value, for overriders to keep
    /// The transport's write buffer went over its high-water mark: stop writing until
    /// `resume_writing`.
    ///
    /// Python: `pause_writing()`
    virtual void pause_writing() {}
    /// The write buffer drained to its low-water mark after a `pause_writing`.
    ///
    /// Python: `resume_writing()`
    virtual void resume_writing() {}
};

/// A stream protocol that receives bytes as they arrive.
///
/// Python: `asyncio.Protocol`
/// Differs from CPython: `data_received` gets a view of the transport's read buffer, valid
///   only during the call (copy what you keep); CPython hands over a new bytes object.
class Protocol : public BaseProtocol {
public:
    /// Bytes arrived (never empty).
    ///
    /// Python: `data_received(data)`
    virtual void data_received(std::string_view data) { (void)data; }
    /// The peer ended its side of the stream. Return true to keep the transport open for
    /// writing (a half-closed connection); false, the default, closes it.
    ///
    /// Python: `eof_received()`
    virtual bool eof_received() { return false; }
};

/// A stream protocol that gives the buffer to read into: no copy between the kernel and
/// the protocol's own memory.
///
/// Python: `asyncio.BufferedProtocol`
class BufferedProtocol : public BaseProtocol {
public:
    /// The buffer for the next read; it must not be empty. `sizehint` is 0 (no preference;
    /// CPython passes -1).
    ///
    /// Python: `get_buffer(sizehint)`
    virtual std::span<std::byte> get_buffer(std::size_t sizehint) = 0;
    /// `nbytes` bytes were written at the start of the last buffer.
    ///
    /// Python: `buffer_updated(nbytes)`
    virtual void buffer_updated(std::size_t nbytes) = 0;
    /// As `Protocol::eof_received`.
    ///
    /// Python: `eof_received()`
    virtual bool eof_received() { return false; }
};

}  // namespace asyncio
