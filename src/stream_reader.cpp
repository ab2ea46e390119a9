// src/stream_reader.cpp: StreamReader (asyncio/streams.hpp), CPython's streams.py
// StreamReader: the buffer, the one waiting read, the limit rules of readline and readuntil.
#include <asyncio/streams.hpp>

#include <algorithm>
#include <string>

namespace asyncio {

namespace detail {

void StreamState::feed_data(std::string_view data) {
    if (eof) throw RuntimeError("feed_data after feed_eof");
    if (data.empty()) return;
    buffer.append(data);
    data_fed();
}

void StreamState::data_fed() {
    data_waiter.grant_all();
    if (transport && !paused && buffer.size() > 2 * limit) {
        transport->pause_reading();
        paused = true;
    }
}

void StreamState::feed_eof() {
    eof = true;
    data_waiter.grant_all();
}

void StreamState::set_exception(std::exception_ptr exc) {
    exception = exc;
    if (!data_waiter.empty()) {
        wake_error = std::move(exc);
        data_waiter.grant_all();
    }
}

void StreamState::maybe_resume_transport() {
    if (paused && buffer.size() <= limit) {
        paused = false;
        if (transport) transport->resume_reading();
    }
}

void StreamState::check_no_reader(const char* what) const {
    if (!data_waiter.empty()) throw RuntimeError(std::string(what) + "() called while another coroutine is already waiting for incoming data");
}

void StreamState::resume_if_paused() {
    // Waiting while paused would never end: readexactly(n) with n > 2 × limit needs it.
    if (paused) {
        paused = false;
        if (transport) transport->resume_reading();
    }
}

void StreamState::after_wait(WaitNode& node) {
    std::exception_ptr error = std::exchange(wake_error, nullptr);
    if (node.cancelled()) throw CancelledError(node.cancel_message());
    if (error) std::rethrow_exception(error);
}

namespace {

// CPython's _wait_for_data: suspends the read until feed_data, feed_eof or set_exception;
// the node is in the reading coroutine's frame, so waiting allocates nothing.
class DataWait final : public WaitNode {
public:
    explicit DataWait(StreamState& s) noexcept : s_(s) {}
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h, SourceSite site = ASYNCIO_SOURCE_SITE) {
        enqueue(h, s_.data_waiter, site);
    }
    void await_resume() {
        settle();
        s_.after_wait(*this);
    }

private:
    StreamState& s_;
};

DataWait wait_for_data(StreamState& s, const char* what) {
    s.check_no_reader(what);
    s.resume_if_paused();
    return DataWait(s);
}

}  // namespace

Coro<std::string> stream_read(Ref<StreamState> ref, std::ptrdiff_t n) {
    StreamState& s = *ref;
    if (s.exception) std::rethrow_exception(s.exception);
    if (n == 0) co_return std::string();
    if (n < 0) {
        // Chunks of `limit` until EOF: waiting for everything at once would stall a
        // transport paused above 2 × limit (CPython's comment).
        std::string all;
        for (;;) {
            std::string block = co_await stream_read(ref, static_cast<std::ptrdiff_t>(s.limit));
            if (block.empty()) break;
            if (all.empty())
                all = std::move(block);
            else
                all += block;
        }
        co_return all;
    }
    if (s.buffer.empty() && !s.eof) co_await wait_for_data(s, "read");
    std::string data = s.buffer.take(std::min(s.buffer.size(), static_cast<std::size_t>(n)));
    s.maybe_resume_transport();
    co_return data;
}

Coro<std::string> stream_readuntil(Ref<StreamState> ref, std::vector<std::string> separators) {
    StreamState& s = *ref;
    // The shortest separator first: it decides the match when two end together.
    std::stable_sort(separators.begin(), separators.end(), [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
    if (separators.empty()) throw ValueError("Separator should contain at least one element");
    const std::size_t min_seplen = separators.front().size();
    const std::size_t max_seplen = separators.back().size();
    if (min_seplen == 0) throw ValueError("Separator should be at least one-byte string");
    if (s.exception) std::rethrow_exception(s.exception);

    // `offset`: how far from the start no separator can begin (CPython's comments explain
    // why the last max_seplen - 1 bytes are looked at again).
    std::size_t offset = 0;
    std::size_t match_start = 0;
    std::size_t match_end = 0;
    std::uint64_t scanned_at = s.buffer.consumes();
    for (;;) {
        // Another read may have taken bytes while this one waited (a read that need not wait
        // is allowed beside a waiting one): the offset is stale then; scan again from the
        // start. CPython keeps it and can miss a separator (docs/differences.md).
        if (s.buffer.consumes() != scanned_at) {
            offset = 0;
            scanned_at = s.buffer.consumes();
        }
        const std::string_view buf = s.buffer.view();
        if (buf.size() >= offset && buf.size() - offset >= min_seplen) {
            bool found = false;
            for (const std::string& sep : separators) {
                const std::size_t at = buf.find(sep, offset);
                if (at == std::string_view::npos) continue;
                const std::size_t end = at + sep.size();
                if (!found || end < match_end) {
                    found = true;
                    match_end = end;
                    match_start = at;
                }
            }
            if (found) break;
            offset = buf.size() + 1 > max_seplen ? buf.size() + 1 - max_seplen : 0;
            if (offset > s.limit) throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
        }
        // A complete separator may have come with the last bytes before EOF: the buffer is
        // looked at first.
        if (s.eof) {
            std::string chunk(buf);
            s.buffer.clear();
            throw IncompleteReadError(std::move(chunk), std::nullopt);
        }
        co_await wait_for_data(s, "readuntil");
    }
    if (match_start > s.limit) throw LimitOverrunError("Separator is found, but chunk is longer than limit", match_start);
    std::string chunk = s.buffer.take(match_end);
    s.maybe_resume_transport();
    co_return chunk;
}

Coro<std::string> stream_readline(Ref<StreamState> ref) {
    StreamState& s = *ref;
    std::vector<std::string> newline;
    newline.emplace_back("\n");
    std::string message;
    try {
        co_return co_await stream_readuntil(ref, std::move(newline));
    } catch (IncompleteReadError& e) {
        co_return std::string(e.partial());
    } catch (const LimitOverrunError& e) {
        // Over the limit: drop the line up to its "\n" if it came, else the whole buffer.
        const std::string_view buf = s.buffer.view();
        if (e.consumed() < buf.size() && buf[e.consumed()] == '\n')
            s.buffer.consume(e.consumed() + 1);
        else
            s.buffer.clear();
        s.maybe_resume_transport();
        message = e.what();
    }
    throw ValueError(message);
}

Coro<std::optional<std::string>> stream_next_line(Ref<StreamState> ref) {
    std::string line = co_await stream_readline(std::move(ref));
    if (line.empty()) co_return std::nullopt;
    co_return line;
}

Coro<std::string> stream_readexactly(Ref<StreamState> ref, std::ptrdiff_t n) {
    StreamState& s = *ref;
    if (n < 0) throw ValueError("readexactly size can not be less than zero");
    if (s.exception) std::rethrow_exception(s.exception);
    if (n == 0) co_return std::string();
    const auto want = static_cast<std::size_t>(n);
    while (s.buffer.size() < want) {
        if (s.eof) {
            std::string partial(s.buffer.view());
            s.buffer.clear();
            throw IncompleteReadError(std::move(partial), want);
        }
        co_await wait_for_data(s, "readexactly");
    }
    std::string data = s.buffer.take(want);
    s.maybe_resume_transport();
    co_return data;
}

}  // namespace detail

StreamReader::StreamReader(std::ptrdiff_t limit) {
    if (limit <= 0) throw ValueError("Limit cannot be <= 0");
    s_ = detail::Ref<detail::StreamState>(new detail::StreamState(limit));
}

void StreamReader::set_transport(Transport& transport) {
    if (s_->transport) throw RuntimeError("Transport already set");
    s_->transport = &transport;
}

}  // namespace asyncio
