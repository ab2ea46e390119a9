// src/streams.cpp: StreamWriter, StreamReaderProtocol, open_connection and
// open_unix_connection (asyncio/streams.hpp), as CPython's streams.py; the reader is
// src/stream_reader.cpp.
#include <asyncio/streams.hpp>

#include "network_internal.hpp"

#include <algorithm>
#include <string>

namespace asyncio {

namespace {

// A reader's buffer with at least this much room at the back is received into directly.
constexpr std::size_t direct_receive = std::size_t{64} * 1024;

}  // namespace

namespace detail {

// CPython's drain(): the reader's error first; a closing transport gets one step so that
// connection_lost can run (bpo-25441: else write(); drain() in a loop never sees the error);
// then FlowControlMixin._drain_helper.
Coro<void> stream_drain(Ref<StreamState> ref, std::shared_ptr<Transport> t) {
    StreamState& s = *ref;
    if (s.exception) std::rethrow_exception(s.exception);
    if (t->is_closing()) co_await sleep(0);
    if (s.connection_lost) {
        if (s.lost_error) std::rethrow_exception(s.lost_error);
        throw ConnectionResetError("Connection lost");
    }
    if (!s.write_paused) co_return;
    WaitOn w(s.drain_waiters, "StreamWriter.drain()");
    co_await w;
    if (w.cancelled()) throw CancelledError(w.cancel_message());
    // Woken by connection_lost with an error: that error (CPython sets it on the waiter).
    if (s.connection_lost && s.lost_error) std::rethrow_exception(s.lost_error);
}

Coro<void> stream_wait_closed(Ref<StreamState> ref) {
    StreamState& s = *ref;
    if (!s.closed) {
        WaitOn w(s.close_waiters, "StreamWriter.wait_closed()");
        co_await w;
        if (w.cancelled()) throw CancelledError(w.cancel_message());
    }
    if (s.lost_error) std::rethrow_exception(s.lost_error);
}

}  // namespace detail

// ------------------------------------------------------------------------- StreamWriter

StreamWriter& StreamWriter::operator=(StreamWriter&& other) noexcept {
    if (this != &other) {
        if (transport_ && !transport_->is_closing()) transport_->close();
        transport_ = std::move(other.transport_);
        s_ = std::move(other.s_);
    }
    return *this;
}

StreamWriter::~StreamWriter() {
    // CPython's __del__: an open writer that nobody holds any more closes its transport.
    if (transport_ && !transport_->is_closing()) transport_->close();
}

// ---------------------------------------------------------------- StreamReaderProtocol

StreamReaderProtocol::StreamReaderProtocol(std::ptrdiff_t limit, detail::ClientConnected client_connected) : client_connected_(std::move(client_connected)) {
    if (limit <= 0) throw ValueError("Limit cannot be <= 0");
    s_ = detail::Ref<detail::StreamState>(new detail::StreamState(limit));
}

StreamReaderProtocol::~StreamReaderProtocol() {
    if (s_) s_->transport = nullptr;  // the reader may outlive the transport
}

void StreamReaderProtocol::connection_made(Transport& transport) {
    s_->transport = &transport;
    if (!client_connected_) return;
    std::shared_ptr<Transport> t = transport.shared_from_this();
    std::optional<Coro<void>> body = client_connected_(StreamReader(s_), StreamWriter(t, s_));
    if (!body) return;
    // A coroutine function: its own task; an error out of it is reported and closes the
    // connection, a cancellation just closes it (CPython's callback on the task).
    EventLoop& loop = get_running_loop();
    task_ = loop.create_task(std::move(*body));
    std::weak_ptr<Transport> weak = t;
    task_->add_done_callback([weak, &loop](const auto& done) {
        std::shared_ptr<Transport> tr = weak.lock();
        if (!done.cancelled()) {
            std::exception_ptr exc = done.exception();
            if (!exc) return;
            loop.call_exception_handler({"Unhandled exception in client_connected_cb", exc, {}});
        }
        if (tr) tr->close();
    });
}

std::span<std::byte> StreamReaderProtocol::get_buffer(std::size_t) {
    // Never more than 2 × limit + 1 bytes buffered: one past the mark that pauses reading.
    const std::size_t size = s_->buffer.size();
    const std::size_t mark = 2 * s_->limit + 1;
    const std::size_t want = size < mark ? mark - size : 1;
    // Straight into the reader's buffer when it already has room for a large read (a bulk
    // transfer grew it); else into the thread's read buffer, and buffer_updated copies the
    // bytes in: the reader's buffer then grows only as far as the bytes need, so a
    // connection that sees short messages keeps a small one (docs/design/streams.md).
    const std::span<std::byte> spare = s_->buffer.spare();
    if (spare.size() >= std::min(want, direct_receive)) {
        in_shared_ = false;
        return spare.first(std::min(spare.size(), want));
    }
    in_shared_ = true;
    const std::span<std::byte> shared = detail::thread_read_buffer();
    return shared.first(std::min(shared.size(), want));
}

void StreamReaderProtocol::buffer_updated(std::size_t nbytes) {
    if (in_shared_)
        s_->buffer.append(std::string_view(reinterpret_cast<const char*>(detail::thread_read_buffer().data()), nbytes));
    else
        s_->buffer.commit(nbytes);
    s_->data_fed();
}

bool StreamReaderProtocol::eof_received() {
    s_->feed_eof();
    return true;  // half-closed: the writer may still answer (CPython, without TLS)
}

void StreamReaderProtocol::connection_lost(std::exception_ptr exc) {
    detail::StreamState& s = *s_;
    if (exc)
        s.set_exception(exc);
    else
        s.feed_eof();
    s.closed = true;
    s.connection_lost = true;
    s.lost_error = exc;
    s.close_waiters.grant_all();
    if (s.write_paused) s.drain_waiters.grant_all();  // with the error, if there is one
    s.transport = nullptr;
    task_.reset();
}

void StreamReaderProtocol::pause_writing() { s_->write_paused = true; }

void StreamReaderProtocol::resume_writing() {
    s_->write_paused = false;
    s_->drain_waiters.grant_all();
}

// ------------------------------------------------------- open_connection, start_server

namespace detail {

ProtocolFactory stream_protocol_factory(ClientConnected client_connected, std::ptrdiff_t limit) {
    return [cb = std::move(client_connected), limit]() -> std::unique_ptr<BaseProtocol> { return std::make_unique<StreamReaderProtocol>(limit, cb); };
}

Coro<std::shared_ptr<Server>> start_stream_server(ProtocolFactory factory, std::string host, int port, ServerOptions options, std::ptrdiff_t limit) {
    if (limit <= 0) throw ValueError("Limit cannot be <= 0");
    co_return co_await get_running_loop().create_server(std::move(factory), std::move(host), port, options);
}

Coro<std::shared_ptr<Server>> start_unix_stream_server(ProtocolFactory factory, std::string path, UnixServerOptions options, std::ptrdiff_t limit) {
    if (limit <= 0) throw ValueError("Limit cannot be <= 0");
    co_return co_await get_running_loop().create_unix_server(std::move(factory), std::move(path), options);
}

}  // namespace detail

Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port, ConnectionOptions options, std::ptrdiff_t limit) {
    StreamReader reader(limit);
    // Named, not a temporary in the co_await (g++ 12, see start_server).
    const ProtocolFactory factory = [&reader]() -> std::unique_ptr<BaseProtocol> { return std::make_unique<StreamReaderProtocol>(reader); };
    auto made = co_await get_running_loop().create_connection(factory, std::move(host), port, options);
    StreamWriter writer(std::move(made.first), reader.s_);
    co_return std::pair<StreamReader, StreamWriter>(std::move(reader), std::move(writer));
}

Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path, std::ptrdiff_t limit) {
    StreamReader reader(limit);
    const ProtocolFactory factory = [&reader]() -> std::unique_ptr<BaseProtocol> { return std::make_unique<StreamReaderProtocol>(reader); };
    auto made = co_await get_running_loop().create_unix_connection(factory, std::move(path));
    StreamWriter writer(std::move(made.first), reader.s_);
    co_return std::pair<StreamReader, StreamWriter>(std::move(reader), std::move(writer));
}

}  // namespace asyncio
