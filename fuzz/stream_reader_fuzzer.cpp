// fuzz/stream_reader_fuzzer.cpp: libFuzzer drives a StreamReader (asyncio/streams.hpp) with
// arbitrary feeds, EOF, errors and reads (read, readline, readuntil with one or two
// separators, readexactly), and checks every outcome against a small model of CPython's
// rules (Lib/asyncio/streams.py), evaluated from scratch on the model's buffer after each
// event: the value, the exception type, what stays buffered, and whether a read is still
// waiting. Any difference aborts (a finding).
//
//     build/clang-asan/fuzz/stream_reader_fuzzer -runs=10000000    (CTest: fuzz.stream_reader, short)
#include <asyncio.hpp>
#include <asyncio/testing.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace {

[[noreturn]] void finding(const char* what) {
    std::fprintf(stderr, "stream_reader_fuzzer: %s\n", what);
    std::abort();
}

// What one read ended with.
struct Outcome {
    enum Kind {
        value,
        value_error,
        incomplete,
        limit_overrun,
        runtime_error,
        set_error
    } kind = value;
    std::string data;  // the value, or IncompleteReadError's partial
    friend bool operator==(const Outcome&, const Outcome&) = default;
};

// A read as the input names it.
struct Op {
    enum Kind {
        read,
        readline,
        readuntil,
        readexactly
    } kind = read;
    long n = 0;
    std::vector<std::string> seps;
};

// CPython's rules on a plain buffer. `step` answers the read's outcome, or nullopt while it
// must wait; it consumes from `buf` as CPython would.
struct Model {
    std::string buf;
    std::size_t limit = 1;
    bool eof = false;
    bool failed = false;  // set_exception was called
    std::string acc;      // read(-1): what it has taken so far

    std::optional<Outcome> step(const Op& op) {
        switch (op.kind) {
            case Op::read:
                if (failed) return Outcome{Outcome::set_error, {}};
                if (op.n == 0) return Outcome{Outcome::value, {}};
                if (op.n < 0) {  // chunks of limit until EOF: takes what comes as it comes
                    acc += buf;
                    buf.clear();
                    if (!eof) return std::nullopt;
                    return Outcome{Outcome::value, acc};
                }
                if (buf.empty() && !eof) return std::nullopt;
                return take(std::min(buf.size(), static_cast<std::size_t>(op.n)));
            case Op::readexactly: {
                if (op.n < 0) return Outcome{Outcome::value_error, {}};
                if (failed) return Outcome{Outcome::set_error, {}};
                if (op.n == 0) return Outcome{Outcome::value, {}};
                const auto n = static_cast<std::size_t>(op.n);
                if (buf.size() >= n) return take(n);
                if (eof) {
                    Outcome o{Outcome::incomplete, buf};
                    buf.clear();
                    return o;
                }
                return std::nullopt;
            }
            case Op::readuntil:
                return readuntil(op.seps);
            case Op::readline: {
                std::optional<Outcome> o = readuntil({"\n"});
                if (!o) return o;
                if (o->kind == Outcome::incomplete) return Outcome{Outcome::value, o->data};
                if (o->kind == Outcome::limit_overrun) {
                    const std::size_t consumed = o->data.size();  // carried in data's length
                    if (consumed < buf.size() && buf[consumed] == '\n')
                        buf.erase(0, consumed + 1);
                    else
                        buf.clear();
                    return Outcome{Outcome::value_error, {}};
                }
                return o;
            }
        }
        return std::nullopt;
    }

    Outcome take(std::size_t n) {
        Outcome o{Outcome::value, buf.substr(0, n)};
        buf.erase(0, n);
        return o;
    }

    // LimitOverrunError's `consumed` travels as the length of `data` (its bytes unused).
    std::optional<Outcome> readuntil(std::vector<std::string> seps) {
        std::stable_sort(seps.begin(), seps.end(), [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
        if (seps.empty() || seps.front().empty()) return Outcome{Outcome::value_error, {}};
        if (failed) return Outcome{Outcome::set_error, {}};
        const std::size_t min_len = seps.front().size();
        const std::size_t max_len = seps.back().size();
        if (buf.size() >= min_len) {
            std::optional<std::size_t> start;
            std::size_t end = 0;
            for (const std::string& s : seps) {
                const std::size_t at = buf.find(s);
                if (at == std::string::npos) continue;
                if (!start || at + s.size() < end) {
                    start = at;
                    end = at + s.size();
                }
            }
            if (start) {
                if (*start > limit) return Outcome{Outcome::limit_overrun, std::string(*start, '.')};
                return take(end);
            }
            const std::size_t offset = buf.size() + 1 > max_len ? buf.size() + 1 - max_len : 0;
            if (offset > limit) return Outcome{Outcome::limit_overrun, std::string(offset, '.')};
        }
        if (eof) {
            Outcome o{Outcome::incomplete, buf};
            buf.clear();
            return o;
        }
        return std::nullopt;
    }
};

// The real reader's outcome of a finished task.
template <class T>
Outcome outcome_of(T& task) {
    try {
        return Outcome{Outcome::value, task.result()};
    } catch (const asyncio::IncompleteReadError& e) {
        return Outcome{Outcome::incomplete, e.partial()};
    } catch (const asyncio::LimitOverrunError& e) {
        return Outcome{Outcome::limit_overrun, std::string(e.consumed(), '.')};
    } catch (const asyncio::ValueError& e) {
        if (std::string(e.what()) == "set") return Outcome{Outcome::set_error, {}};
        return Outcome{Outcome::value_error, {}};
    } catch (const asyncio::RuntimeError&) {
        return Outcome{Outcome::runtime_error, {}};
    }
}

struct Input {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t next() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    [[nodiscard]] bool done() const { return n == 0; }
};

const bool trace = std::getenv("FUZZ_TRACE") != nullptr;  // prints each event

asyncio::Coro<void> drive(Input in) {
    const std::size_t limit = 1 + in.next() % 12;
    asyncio::StreamReader reader(static_cast<std::ptrdiff_t>(limit));
    Model model;
    model.limit = limit;
    static const char alphabet[] = {'a', 'b', '\n', 'x'};
    static const std::vector<std::vector<std::string>> separator_sets = {{"\n"}, {"ab"}, {"aab"}, {"x"}, {"a", "bb"}, {"\n", "xa\n"}, {""}, {}};
    std::optional<asyncio::Task<std::string>> pending;
    Op pending_op;

    // After each event: a waiting read that finished must have finished as the model says.
    auto check_pending = [&]() {
        if (!pending) return;
        std::optional<Outcome> expected = model.step(pending_op);
        if (pending->done() != expected.has_value()) finding(pending->done() ? "a read finished that should still wait" : "a read still waits that should have finished");
        if (!expected) return;
        if (outcome_of(*pending) != *expected) finding("a waiting read ended differently");
        pending.reset();
        model.acc.clear();
    };

    while (!in.done()) {
        const std::uint8_t b = in.next();
        switch (b % 8) {
            case 0:
            case 1: {  // feed
                if (model.eof) {
                    bool refused = false;
                    try {
                        reader.feed_data("z");
                    } catch (const asyncio::RuntimeError&) {
                        refused = true;
                    }
                    if (!refused) finding("feed_data after feed_eof was accepted");
                    break;
                }
                std::string chunk;
                const std::size_t len = 1 + in.next() % 8;
                for (std::size_t i = 0; i < len; ++i) chunk += alphabet[in.next() % 4];
                reader.feed_data(chunk);
                model.buf += chunk;
                if (trace) std::fprintf(stderr, "feed %zu bytes\n", chunk.size());
                break;
            }
            case 2:  // EOF
                if (!model.eof) {
                    reader.feed_eof();
                    model.eof = true;
                    if (trace) std::fprintf(stderr, "eof\n");
                }
                break;
            case 3:  // the error that ends the stream (rare)
                if (in.next() % 8 == 0 && !model.failed) {
                    reader.set_exception(std::make_exception_ptr(asyncio::ValueError("set")));
                    model.failed = true;
                    if (trace) std::fprintf(stderr, "set_exception\n");
                }
                break;
            default: {  // a read
                Op op;
                const std::uint8_t k = in.next();
                op.kind = static_cast<Op::Kind>(k % 4);
                op.n = static_cast<long>(in.next() % 24) - 2;
                op.seps = separator_sets[in.next() % separator_sets.size()];
                if (trace) std::fprintf(stderr, "read kind %d n %ld seps %zu%s\n", static_cast<int>(op.kind), op.n, op.seps.size(), pending ? " (second)" : "");
                asyncio::Task<std::string> task = [&]() {
                    switch (op.kind) {
                        case Op::read:
                            return asyncio::create_task(reader.read(op.n));
                        case Op::readline:
                            return asyncio::create_task(reader.readline());
                        case Op::readuntil:
                            return asyncio::create_task(reader.readuntil(op.seps));
                        case Op::readexactly:
                            return asyncio::create_task(reader.readexactly(op.n));
                    }
                    std::abort();
                }();
                co_await asyncio::testing::run_until_idle();
                if (pending) {
                    // A second read: it may finish at once; if it must wait, RuntimeError.
                    // (read(-1) takes what is there before it finds it must wait, as CPython's.)
                    Model probe = model;
                    probe.acc.clear();  // the waiting read's, not this one's
                    std::optional<Outcome> expected = probe.step(op);
                    if (!expected) expected = Outcome{Outcome::runtime_error, {}};
                    probe.acc = model.acc;
                    model = probe;
                    if (!task.done()) finding("a second read waits");
                    if (outcome_of(task) != *expected) finding("a second read ended differently");
                    break;
                }
                pending_op = op;
                pending = task;
                model.acc.clear();
                break;
            }
        }
        co_await asyncio::testing::run_until_idle();
        check_pending();
        if (reader.buffered() != model.buf.size()) finding("the buffer holds a different number of bytes");
        if (reader.at_eof() != (model.eof && model.buf.empty())) finding("at_eof differs");
    }
    if (pending) {
        pending->cancel();
        co_await asyncio::testing::run_until_idle();
        if (!pending->cancelled()) finding("a waiting read was not cancelled");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    asyncio::testing::run(drive(Input{data, size}));
    return 0;
}
