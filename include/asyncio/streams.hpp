// asyncio/streams.hpp: streams over a connection, CPython's asyncio/streams.py:
// open_connection, start_server, open_unix_connection, start_unix_server, StreamReader,
// StreamWriter, StreamReaderProtocol. The buffer and limit rules are docs/streams.md; how
// the pieces share their state is docs/design/streams.md.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/byte_buffer.hpp>
#include <asyncio/detail/ref.hpp>
#include <asyncio/detail/wait_queue.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/network.hpp>
#include <asyncio/protocols.hpp>
#include <asyncio/tasks.hpp>
#include <asyncio/transports.hpp>

#include <any>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {

/// The default limit of a stream: the longest line `readline` returns, and half the bytes
/// a reader buffers before it stops reading from the socket (64 KiB).
///
/// Python: `asyncio.streams._DEFAULT_LIMIT`
inline constexpr std::ptrdiff_t stream_default_limit = std::ptrdiff_t{64} * 1024;

class StreamReader;
class StreamWriter;
class StreamReaderProtocol;

namespace detail {

struct StreamAccess;  // below: how the pipes and the subprocesses make readers and writers

// What a StreamReader, its StreamWriter and the StreamReaderProtocol between them and the
// transport share: the reader's buffer and its waiting task (CPython's StreamReader), the
// writers' flow control (FlowControlMixin), and the close (StreamReaderProtocol._closed).
// Counted by hand (one thread): each of the three holds a reference, so that any of them may
// go first.
class StreamState {
public:
    explicit StreamState(std::ptrdiff_t limit_) : limit(static_cast<std::size_t>(limit_)) {}
    StreamState(const StreamState&) = delete;
    StreamState& operator=(const StreamState&) = delete;

    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) delete this;
    }

    // --- the reader ---
    void feed_data(std::string_view data);
    // After bytes were written straight into the buffer (the protocol's get_buffer).
    void data_fed();
    void feed_eof();
    void set_exception(std::exception_ptr exc);
    void maybe_resume_transport();
    // The wait of a read for more bytes (CPython's _wait_for_data); `what` names the call in
    // the RuntimeError a second concurrent reader gets.
    void check_no_reader(const char* what) const;
    void resume_if_paused();
    // After the wait: the error set_exception() woke it with, thrown; or CancelledError.
    void after_wait(WaitNode& node);

    ByteBuffer buffer;
    std::size_t limit;
    bool eof = false;
    bool paused = false;  // reading paused by the reader, above 2 × limit
    std::exception_ptr exception;
    std::exception_ptr wake_error;   // what set_exception() woke the waiting read with
    Transport* transport = nullptr;  // while connected: for pause_reading/resume_reading
    WaitQueue data_waiter;           // the one read waiting for bytes

    // --- the writer's flow control ---
    bool write_paused = false;  // between pause_writing and resume_writing
    bool connection_lost = false;
    std::exception_ptr lost_error;  // what connection_lost was called with
    WaitQueue drain_waiters;

    // --- the close ---
    bool closed = false;
    WaitQueue close_waiters;

private:
    ~StreamState() = default;
    int refs_ = 0;
};

Coro<std::string> stream_read(Ref<StreamState> ref, std::ptrdiff_t n);
Coro<std::string> stream_readuntil(Ref<StreamState> ref, std::vector<std::string> separators);
Coro<std::string> stream_readline(Ref<StreamState> ref);
Coro<std::optional<std::string>> stream_next_line(Ref<StreamState> ref);
Coro<std::string> stream_readexactly(Ref<StreamState> ref, std::ptrdiff_t n);
Coro<void> stream_drain(Ref<StreamState> ref, std::shared_ptr<Transport> t);
Coro<void> stream_wait_closed(Ref<StreamState> ref);

// The connection callback of a stream server, type-erased: a task when it is a coroutine
// function (nullopt: it was a plain function and has returned).
using ClientConnected = std::function<std::optional<Coro<void>>(StreamReader, StreamWriter)>;

}  // namespace detail

/// Reads from a stream: the bytes a connection received, buffered, read by size, by line or
/// up to a separator.
///
/// Python: `asyncio.StreamReader(limit=2**16)`
/// Differs from CPython: a handle (move-only) on state it shares with the writer and the
///   protocol: a read in progress keeps that state alive, and moving the handle is safe;
///   dropping it does not stop the connection (bytes are buffered up to 2 × limit, then the
///   transport stops reading). Reads return `std::string`; `async for line in reader` is
///   `while (auto line = co_await reader.next_line())`.
class StreamReader {
public:
    /// A reader with nothing fed yet.
    ///
    /// Python: `asyncio.StreamReader(limit=_DEFAULT_LIMIT)`
    /// Throws: `ValueError("Limit cannot be <= 0")`.
    explicit StreamReader(std::ptrdiff_t limit = stream_default_limit);
    /// Takes over the handle (a read in progress keeps the shared state alive).
    StreamReader(StreamReader&&) noexcept = default;
    /// Takes over the handle.
    StreamReader& operator=(StreamReader&&) noexcept = default;
    StreamReader(const StreamReader&) = delete;
    StreamReader& operator=(const StreamReader&) = delete;
    ~StreamReader() = default;

    /// Up to `n` bytes, as soon as at least one is buffered; `n < 0`: everything to EOF (read
    /// in chunks of `limit`, so that a large body never stalls the transport). Empty at EOF.
    ///
    /// Python: `await reader.read(n=-1)`
    /// Throws: the error the stream was ended with (`set_exception`); `RuntimeError` if
    ///   another read is waiting. Cancellation: nothing is consumed.
    [[nodiscard]] Coro<std::string> read(std::ptrdiff_t n = -1) const { return detail::stream_read(s_, n); }
    /// A line with its "\n"; at EOF the last bytes without one, then "".
    ///
    /// Python: `await reader.readline()`
    /// Throws: `ValueError` when the line is longer than `limit`, having dropped it (up to its
    ///   "\n" if that came, else the whole buffer), as CPython.
    [[nodiscard]] Coro<std::string> readline() const { return detail::stream_readline(s_); }
    /// The bytes up to and with `separator`.
    ///
    /// Python: ``await reader.readuntil(separator=b'\n')``
    /// Throws: `IncompleteReadError` at EOF (with the bytes read, the buffer emptied);
    ///   `LimitOverrunError` if the limit is passed first (the bytes stay buffered);
    ///   `ValueError` for an empty separator.
    [[nodiscard]] Coro<std::string> readuntil(std::string separator = "\n") const {
        std::vector<std::string> one;
        one.push_back(std::move(separator));
        return detail::stream_readuntil(s_, std::move(one));
    }
    /// Up to the first of several separators: the shortest result wins (3.13).
    ///
    /// Python: ``await reader.readuntil((b'\\r\\n', b'\\n'))``
    /// Throws: as readuntil(separator); `ValueError` for no separator or an empty one.
    [[nodiscard]] Coro<std::string> readuntil(std::vector<std::string> separators) const { return detail::stream_readuntil(s_, std::move(separators)); }
    /// `readuntil(a, b, ...)`: the separators as arguments (no braced list in the co_await,
    /// which g++ 12 rejects).
    template <class... S>
        requires(sizeof...(S) >= 2 && (std::is_convertible_v<const S&, std::string_view> && ...))
    [[nodiscard]] Coro<std::string> readuntil(const S&... separators) const {
        std::vector<std::string> v;
        v.reserve(sizeof...(S));
        (v.emplace_back(std::string_view(separators)), ...);
        return detail::stream_readuntil(s_, std::move(v));
    }
    /// Exactly `n` bytes (not bounded by the limit).
    ///
    /// Python: `await reader.readexactly(n)`
    /// Throws: `IncompleteReadError` (the partial bytes, and `n`) at EOF first; `ValueError`
    ///   for `n < 0`.
    [[nodiscard]] Coro<std::string> readexactly(std::ptrdiff_t n) const { return detail::stream_readexactly(s_, n); }
    /// The next line, or nullopt at the end: `async for line in reader`.
    ///
    /// Python: `async for line in reader:` (`await anext(reader)`)
    /// Differs from CPython: C++ has no asynchronous range-for; the loop is
    ///   `while (auto line = co_await reader.next_line()) { ... *line ... }`.
    [[nodiscard]] Coro<std::optional<std::string>> next_line() const { return detail::stream_next_line(s_); }

    /// True once EOF was fed and every byte read.
    ///
    /// Python: `reader.at_eof()`
    [[nodiscard]] bool at_eof() const noexcept { return s_->eof && s_->buffer.empty(); }
    /// The error the stream was ended with, or null.
    ///
    /// Python: `reader.exception()`
    [[nodiscard]] std::exception_ptr exception() const noexcept { return s_->exception; }
    /// Ends the stream with `exc`: the waiting read raises it, and so does every read after.
    ///
    /// Python: `reader.set_exception(exc)`
    void set_exception(std::exception_ptr exc) { s_->set_exception(std::move(exc)); }
    /// Adds bytes, as the protocol does with what the connection received.
    ///
    /// Python: `reader.feed_data(data)`
    /// Throws: `RuntimeError("feed_data after feed_eof")` (CPython asserts).
    void feed_data(std::string_view data) { s_->feed_data(data); }
    /// Marks the end of the stream.
    ///
    /// Python: `reader.feed_eof()`
    void feed_eof() { s_->feed_eof(); }
    /// The transport the reader pauses and resumes (the protocol sets it).
    ///
    /// Python: `reader.set_transport(transport)`
    /// Throws: `RuntimeError("Transport already set")` (CPython asserts).
    void set_transport(Transport& transport);
    /// How many bytes are buffered, unread.
    ///
    /// Python: `len(reader._buffer)` (private there)
    [[nodiscard]] std::size_t buffered() const noexcept { return s_->buffer.size(); }
    /// The limit given at construction.
    ///
    /// Python: `reader._limit` (private there)
    [[nodiscard]] std::size_t limit() const noexcept { return s_->limit; }

private:
    friend class StreamReaderProtocol;
    friend class StreamWriter;
    friend Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string, int, ConnectionOptions, std::ptrdiff_t);
    friend Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string, std::ptrdiff_t);
    friend struct detail::StreamAccess;
    explicit StreamReader(detail::Ref<detail::StreamState> s) noexcept : s_(std::move(s)) {}
    detail::Ref<detail::StreamState> s_;
};

/// Writes to a stream: the transport's writes, plus `drain()` to wait for room under flow
/// control.
///
/// Python: `asyncio.StreamWriter` (made by open_connection and start_server)
/// Differs from CPython: move-only; destroying a writer whose transport is still open
///   closes it (CPython's __del__ does, with a ResourceWarning).
class StreamWriter {
public:
    /// Takes over the handle.
    StreamWriter(StreamWriter&&) noexcept = default;
    /// Closes this writer's transport if it is open, then takes over `other`'s.
    StreamWriter& operator=(StreamWriter&& other) noexcept;
    StreamWriter(const StreamWriter&) = delete;
    StreamWriter& operator=(const StreamWriter&) = delete;
    ~StreamWriter();

    /// Python: `writer.transport`
    [[nodiscard]] Transport& transport() const noexcept { return *transport_; }
    /// Queues `data` (sent at once if it can be, as the transport does).
    ///
    /// Python: `writer.write(data)`
    /// Throws: what `Transport::write` throws (after close: RuntimeError).
    void write(std::string_view data) { transport_->write(data); }
    /// Python: `writer.writelines(data)`
    template <class R>
    void writelines(const R& lines) {
        transport_->writelines(lines);
    }
    /// Python: `writer.write_eof()`
    void write_eof() { transport_->write_eof(); }
    /// Python: `writer.can_write_eof()`
    [[nodiscard]] bool can_write_eof() const noexcept { return transport_->can_write_eof(); }
    /// Closes the transport (what is buffered is still sent).
    ///
    /// Python: `writer.close()`
    void close() { transport_->close(); }
    /// Python: `writer.is_closing()`
    [[nodiscard]] bool is_closing() const noexcept { return transport_->is_closing(); }
    /// Waits until the connection is closed (connection_lost).
    ///
    /// Python: `await writer.wait_closed()`
    /// Throws: the error the connection was lost with, if any.
    [[nodiscard]] Coro<void> wait_closed() const { return detail::stream_wait_closed(s_); }
    /// Waits until the transport's buffer is below its low-water mark, if writing is paused;
    /// several tasks may drain at once.
    ///
    /// Python: `await writer.drain()`
    /// Throws: the reader's error, if it has one; `ConnectionResetError("Connection lost")`
    ///   once the connection is lost (or the error it was lost with).
    [[nodiscard]] Coro<void> drain() const { return detail::stream_drain(s_, transport_); }
    /// Python: `writer.get_extra_info(name, default=None)`
    [[nodiscard]] std::any get_extra_info(std::string_view name, std::any default_value = {}) const {
        return transport_->get_extra_info(name, std::move(default_value));
    }

private:
    friend class StreamReaderProtocol;
    friend Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string, int, ConnectionOptions, std::ptrdiff_t);
    friend Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string, std::ptrdiff_t);
    friend struct detail::StreamAccess;
    StreamWriter(std::shared_ptr<Transport> transport, detail::Ref<detail::StreamState> s) noexcept : transport_(std::move(transport)), s_(std::move(s)) {}

    std::shared_ptr<Transport> transport_;
    detail::Ref<detail::StreamState> s_;
};

/// The protocol between a transport and a StreamReader / StreamWriter pair: what the
/// connection receives goes into the reader, and the transport's flow control reaches
/// `drain()`. With a callback (a server's), each connection calls it with a new pair.
///
/// Python: `asyncio.StreamReaderProtocol(stream_reader, client_connected_cb=None)`
/// Differs from CPython: a BufferedProtocol, not a Protocol: a reader never buffers more
///   than 2 × limit + 1 bytes (CPython's can hold 2 × limit plus one 256 KiB read), and a
///   large transfer is received straight into the reader's buffer, without a copy.
class StreamReaderProtocol final : public BufferedProtocol {
public:
    /// The protocol of `reader` (open_connection's).
    explicit StreamReaderProtocol(const StreamReader& reader) : s_(reader.s_) {}
    /// A server's protocol: each connection makes a reader with `limit` and calls
    /// `client_connected(reader, writer)`.
    StreamReaderProtocol(std::ptrdiff_t limit, detail::ClientConnected client_connected);
    ~StreamReaderProtocol() override;

    void connection_made(Transport& transport) override;
    std::span<std::byte> get_buffer(std::size_t size_hint) override;
    void buffer_updated(std::size_t nbytes) override;
    bool eof_received() override;
    void connection_lost(std::exception_ptr exc) override;
    void pause_writing() override;
    void resume_writing() override;

private:
    detail::Ref<detail::StreamState> s_;
    detail::ClientConnected client_connected_;
    std::optional<Task<void>> task_;  // the callback's task, if it is a coroutine function
    bool in_shared_ = false;          // the last get_buffer() gave the thread's read buffer
};

namespace detail {

// How the pipes and the subprocesses make readers and writers around a state of their own.
struct StreamAccess {
    static const Ref<StreamState>& state(const StreamReader& r) noexcept { return r.s_; }
    static StreamReader reader(Ref<StreamState> s) noexcept { return StreamReader(std::move(s)); }
    static StreamWriter writer(std::shared_ptr<Transport> t, Ref<StreamState> s) noexcept { return {std::move(t), std::move(s)}; }
};

template <class Fn>
Coro<void> keep_closure(std::shared_ptr<Fn> fn, Coro<void> body) {
    (void)fn;                  // held for as long as the body runs
    co_await std::move(body);  // NOLINT(bugprone-use-after-move): clang-tidy 14 misreads the co_await
}

template <class F>
ClientConnected make_client_connected(F&& f) {
    using R = std::invoke_result_t<std::decay_t<F>&, StreamReader, StreamWriter>;
    static_assert(std::is_void_v<R> || std::is_same_v<R, Coro<void>>,
                  "start_server's callback takes (asyncio::StreamReader, asyncio::StreamWriter) and returns void or asyncio::Coro<void>");
    // Shared, so that a coroutine lambda's captures outlive every task it started (the task
    // holds the closure too), even after the server and the protocol are gone.
    auto fn = std::make_shared<std::decay_t<F>>(std::forward<F>(f));
    if constexpr (std::is_void_v<R>) {
        return [fn](StreamReader r, StreamWriter w) -> std::optional<Coro<void>> {
            (*fn)(std::move(r), std::move(w));
            return std::nullopt;
        };
    } else {
        return [fn](StreamReader r, StreamWriter w) -> std::optional<Coro<void>> { return keep_closure(fn, (*fn)(std::move(r), std::move(w))); };
    }
}

// A server's protocol factory: a StreamReaderProtocol with a new reader per connection.
ProtocolFactory stream_protocol_factory(ClientConnected client_connected, std::ptrdiff_t limit);
Coro<std::shared_ptr<Server>> start_stream_server(ProtocolFactory factory, std::string host, int port, ServerOptions options, std::ptrdiff_t limit);
Coro<std::shared_ptr<Server>> start_unix_stream_server(ProtocolFactory factory, std::string path, UnixServerOptions options, std::ptrdiff_t limit);

}  // namespace detail

/// Connects to `host`:`port` and returns a (reader, writer) pair.
///
/// Python: `reader, writer = await asyncio.open_connection(host, port, *, limit=2**16, **kwds)`
/// Throws: what `loop.create_connection` throws.
/// Differs from CPython: the create_connection keywords are the ConnectionOptions, `limit`
///   comes after them.
Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port, ConnectionOptions options = {}, std::ptrdiff_t limit = stream_default_limit);

/// Connects to the Unix socket at `path` and returns a (reader, writer) pair.
///
/// Python: `await asyncio.open_unix_connection(path, *, limit=2**16)`
Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path, std::ptrdiff_t limit = stream_default_limit);

/// Starts a server on `host`:`port` that calls `client_connected(reader, writer)` for each
/// connection; a coroutine function runs as a task per connection, and an error out of it
/// is reported ("Unhandled exception in client_connected_cb"), its connection closed, and
/// the server serves on.
///
/// Python: `await asyncio.start_server(client_connected_cb, host, port, *, limit=2**16, **kwds)`
/// Differs from CPython: the create_server keywords are the ServerOptions, `limit` after them.
template <class F>
// NOLINTNEXTLINE(performance-unnecessary-value-param): moved on; clang-tidy 14 misreads the dependent call
Coro<std::shared_ptr<Server>> start_server(F client_connected, std::string host, int port, ServerOptions options = {}, std::ptrdiff_t limit = stream_default_limit) {
    // The factory is made here, outside any coroutine (g++ 12 mishandles a capturing lambda
    // made inside a co_await expression, docs/differences.md).
    return detail::start_stream_server(detail::stream_protocol_factory(detail::make_client_connected(std::move(client_connected)), limit), std::move(host), port,
                                       options, limit);
}

/// Starts a server on the Unix socket at `path`, as start_server.
///
/// Python: `await asyncio.start_unix_server(client_connected_cb, path, *, limit=2**16, **kwds)`
template <class F>
// NOLINTNEXTLINE(performance-unnecessary-value-param): moved on; clang-tidy 14 misreads the dependent call
Coro<std::shared_ptr<Server>> start_unix_server(F client_connected, std::string path, UnixServerOptions options = {}, std::ptrdiff_t limit = stream_default_limit) {
    return detail::start_unix_stream_server(detail::stream_protocol_factory(detail::make_client_connected(std::move(client_connected)), limit), std::move(path), options,
                                            limit);
}

}  // namespace asyncio
