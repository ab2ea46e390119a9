// tour.hpp: tour::run and tour::clock_hms, shared by the tutorial programs in this folder.
// Real time by default; ASYNCIO_TOUR_VIRTUAL=1 (the tutorial.NN tests) runs on the virtual clock.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/runners.hpp>
#include <asyncio/testing.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <utility>

namespace tour {
namespace detail {

inline bool virtual_mode() {
    const char* value = std::getenv("ASYNCIO_TOUR_VIRTUAL");  // NOLINT(concurrency-mt-unsafe): nothing sets the environment
    return value != nullptr && std::string_view(value) == "1";
}

// The running loop's time since its clock's epoch, which on the virtual clock is the time
// since the run began; zero when no loop runs on this thread.
inline std::chrono::milliseconds loop_time() {
    try {
        auto since_epoch = asyncio::get_running_loop().time() - asyncio::EventLoop::time_point{};
        return std::chrono::floor<std::chrono::milliseconds>(since_epoch);
    } catch (const asyncio::RuntimeError&) {  // "no running event loop"
        return std::chrono::milliseconds::zero();
    }
}

// Passes characters on to `out`, writing "[t=1.000s] " before the first one of each line,
// so the time is taken when the line starts. Unbuffered: every character goes through
// overflow(), which keeps a line's time exact however the program flushes.
class TimestampBuf final : public std::streambuf {
public:
    explicit TimestampBuf(std::streambuf* out) : out_(out) {}

protected:
    int_type overflow(int_type ch) override {
        if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
        if (at_line_start_) {
            long long ms = loop_time().count();
            char prefix[64];
            int n = std::snprintf(prefix, sizeof prefix, "[t=%lld.%03llds] ", ms / 1000, ms % 1000);
            if (out_->sputn(prefix, n) != n) return traits_type::eof();
        }
        char c = traits_type::to_char_type(ch);
        at_line_start_ = (c == '\n');
        return out_->sputc(c);
    }
    int sync() override { return out_->pubsync(); }

private:
    std::streambuf* out_;
    bool at_line_start_ = true;
};

// Puts a TimestampBuf under std::cout for its lifetime, then flushes and puts the original
// streambuf back, on return and on an exception alike.
class TimestampedCout {
public:
    TimestampedCout() : buf_(std::cout.rdbuf()), original_(std::cout.rdbuf(&buf_)) {}
    TimestampedCout(const TimestampedCout&) = delete;
    TimestampedCout& operator=(const TimestampedCout&) = delete;
    ~TimestampedCout() {
        std::cout.flush();
        std::cout.rdbuf(original_);
    }

private:
    TimestampBuf buf_;
    std::streambuf* original_;
};

}  // namespace detail

/// Runs `main` with `asyncio::run`, or, when ASYNCIO_TOUR_VIRTUAL=1, with
/// `asyncio::testing::run` on the virtual clock, each line of std::cout prefixed by the
/// time it starts at, as "[t=1.000s] ".
template <class T>
T run(asyncio::Coro<T> main) {
    if (!detail::virtual_mode()) return asyncio::run(std::move(main));
    detail::TimestampedCout timestamped;
    return asyncio::testing::run(std::move(main));
}

/// The time of day as HH:MM:SS, like Python's `time.strftime('%X')`; on the virtual clock,
/// 17:13:52 plus the whole seconds elapsed, so that the output is the same on every run.
inline std::string clock_hms() {
    char text[64];
    if (detail::virtual_mode()) {
        long long s = 17 * 3600 + 13 * 60 + 52 + detail::loop_time().count() / 1000;
        std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld", s / 3600 % 24, s / 60 % 60, s % 60);
        return text;
    }
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
    return text;
}

}  // namespace tour
