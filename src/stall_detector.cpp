// src/stall_detector.cpp: debug::StallDetector (asyncio/debug.hpp). The loop counts its
// steps (src/stall_watch.hpp); a watchdog thread compares the count once per threshold and,
// when a step has not ended for a whole period, interrupts the loop's thread with a queued
// signal carrying the detector's state. The handler, on the loop's thread and in the middle
// of the stuck step, writes the report with write(2) from a buffer on its stack: the running
// task's number, its chain of coroutines (the frames' noted places are constant strings) and
// backtrace_symbols_fd. Nothing in it allocates or takes a lock. docs/design/debugging.md.
#include <asyncio/debug.hpp>
#include <asyncio/detail/task_core.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/graph.hpp>

#include "stall_watch.hpp"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace asyncio::detail {

struct StallDetectorState : StallWatch {
    EventLoop* loop = nullptr;
    debug::StallDetector::Options options;
    int signal = 0;
    pthread_t loop_thread{};
    std::thread watchdog;
    std::mutex mutex;
    std::condition_variable wake;
    bool stop = false;
    std::atomic<std::uint64_t> reports{0};
    std::atomic<std::uint64_t> suppressed{0};
    std::atomic<std::uint64_t> suppressed_unsaid{0};           // left out since the last report
    std::atomic<std::int64_t> reported_at{0};                  // steady_clock ticks of the last report
    std::atomic<std::uint64_t> stalled_task{0};                // the reported step's task id (0: a callback), from the handler
    std::deque<std::chrono::steady_clock::time_point> recent;  // watchdog only: the last minute's reports

    void watch();
};

namespace {

// Appends to a fixed buffer, for the signal handler: no allocation, truncates when full.
class Text {
public:
    void add(std::string_view s) noexcept {
        const std::size_t n = std::min(s.size(), sizeof buf_ - len_);
        std::memcpy(buf_ + len_, s.data(), n);
        len_ += n;
    }
    void add(std::uint64_t v) noexcept {
        char digits[24];
        std::size_t n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v > 0);
        while (n > 0) add(std::string_view(&digits[--n], 1));
    }
    void write_to(int fd) noexcept {
        std::size_t done = 0;
        while (done < len_) {
            const ssize_t w = ::write(fd, buf_ + done, len_ - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            done += static_cast<std::size_t>(w);
        }
        len_ = 0;
    }

private:
    char buf_[4096];
    std::size_t len_ = 0;
};

void add_site(Text& t, const SourceSite& site) {
    t.add(site_function_view(site.function()));
    t.add(" at ");
    t.add(site.file());
    t.add(":");
    t.add(site.line());
}

// On the loop's thread, inside the stuck step.
void on_stall_signal(int, siginfo_t* info, void*) {
    if (info->si_code != SI_QUEUE || !info->si_value.sival_ptr) return;
    const int saved_errno = errno;
    auto& s = *static_cast<StallDetectorState*>(info->si_value.sival_ptr);
    Text t;
    t.add("asyncio: stall detector: the loop has been running one step for more than ");
    t.add(static_cast<std::uint64_t>(s.options.threshold.count()));
    t.add(" ms (report ");
    t.add(s.reports.load(std::memory_order_relaxed));
    const std::uint64_t left_out = s.suppressed_unsaid.exchange(0, std::memory_order_relaxed);
    if (left_out > 0) {
        t.add("; ");
        t.add(left_out);
        t.add(" left out before it by the rate limit");
    }
    t.add(")\n");
    TaskCore* task = TaskCore::running();
    s.stalled_task.store(task ? task->id() : 0, std::memory_order_relaxed);
    if (task) {
        t.add("  task: Task-");
        t.add(task->id());
        t.add(" (its name is in the line written when the step ends)\n  its coroutines, innermost first, each at the co_await it last passed:\n");
        void* frame = task->innermost_frame();
        for (int depth = 0; frame && depth < 32; ++depth) {
            t.add("    ");
            add_site(t, frame_header(frame).where);
            t.add("\n");
            CoroLinkBase* link = frame_header(frame).link;
            frame = link ? link->continuation.address() : nullptr;
        }
    } else {
        t.add("  in a callback, not a task's step\n");
    }
    t.add("  native backtrace of the loop thread:\n");
    t.write_to(s.options.fd);
    void* frames[64];
    const int n = ::backtrace(frames, 64);
    ::backtrace_symbols_fd(frames, n, s.options.fd);
    errno = saved_errno;
}

}  // namespace

// One handler per signal number for every detector of the process (each signal carries its
// detector), installed with the first and taken away with the last.
namespace {
std::mutex handlers_mutex;
int handler_users[65] = {};
struct sigaction previous_actions[65];
}  // namespace

void install_stall_handler(int sig) {
    std::lock_guard lock(handlers_mutex);
    if (handler_users[sig]++ > 0) return;
    struct sigaction sa {};
    sa.sa_sigaction = on_stall_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(sig, &sa, &previous_actions[sig]) != 0) {
        --handler_users[sig];
        throw_os_error(errno, "stall detector: sigaction");
    }
}

void remove_stall_handler(int sig) noexcept {
    std::lock_guard lock(handlers_mutex);
    if (--handler_users[sig] == 0) ::sigaction(sig, &previous_actions[sig], nullptr);
}

void StallDetectorState::watch() {
    using clock = std::chrono::steady_clock;
    std::uint64_t last = steps.load(std::memory_order_relaxed);
    bool stall_reported = false;
    std::unique_lock lock(mutex);
    while (!wake.wait_for(lock, options.threshold, [this] { return stop; })) {
        const std::uint64_t now_steps = steps.load(std::memory_order_relaxed);
        const bool waiting = idle.load(std::memory_order_relaxed);
        if (now_steps != last || waiting) {
            last = now_steps;
            stall_reported = false;
            continue;
        }
        if (stall_reported || now_steps == 0) continue;  // one report per stall; none before the first step
        stall_reported = true;
        const auto now = clock::now();
        while (!recent.empty() && now - recent.front() >= std::chrono::minutes(1)) recent.pop_front();
        if (static_cast<int>(recent.size()) >= options.max_reports_per_minute) {
            suppressed.fetch_add(1, std::memory_order_relaxed);
            suppressed_unsaid.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        recent.push_back(now);
        reports.fetch_add(1, std::memory_order_relaxed);
        reported_at.store(now.time_since_epoch().count(), std::memory_order_relaxed);
        reported.store(true, std::memory_order_relaxed);
        union sigval value {};
        value.sival_ptr = this;
        (void)::pthread_sigqueue(loop_thread, signal, value);
    }
}

// The loop's thread, after the step that was reported: the name the handler could not read.
void stall_step_ended(StallWatch& w) noexcept {
    auto& s = static_cast<StallDetectorState&>(w);
    s.reported.store(false, std::memory_order_relaxed);
    try {
        using namespace std::chrono;
        const auto since = steady_clock::now().time_since_epoch().count() - s.reported_at.load(std::memory_order_relaxed);
        std::string line = "asyncio: stall detector: the step reported ended " + std::to_string(duration_cast<milliseconds>(steady_clock::duration(since)).count()) + " ms after the report";
        if (const std::uint64_t id = s.stalled_task.load(std::memory_order_relaxed)) line += " (Task-" + std::to_string(id) + " is '" + task_name_by_id(id) + "')";
        line += "\n";
        Text t;
        t.add(line);
        t.write_to(s.options.fd);
    } catch (...) {  // out of memory: the line is left out
    }
}

}  // namespace asyncio::detail

namespace asyncio::debug {

StallDetector::StallDetector(std::chrono::milliseconds threshold) : StallDetector(get_running_loop(), Options{threshold}) {}

StallDetector::StallDetector(EventLoop& loop, Options options) : state_(std::make_unique<detail::StallDetectorState>()) {
    if (options.threshold <= std::chrono::milliseconds::zero()) throw ValueError("stall detector: the threshold must be positive");
    detail::StallWatch*& slot = detail::LoopAccess::stall_watch(loop);
    if (slot) throw RuntimeError("the loop has a stall detector already");
    auto& s = *state_;
    s.loop = &loop;
    s.options = options;
    s.signal = options.signal != 0 ? options.signal : SIGRTMAX - 1;
    s.loop_thread = ::pthread_self();
    s.step_begins();  // made inside a step (from a task), that step counts: it may stall too
    void* warm[1];
    (void)::backtrace(warm, 1);  // the first call loads the unwinder (it allocates): not in the handler
    detail::install_stall_handler(s.signal);
    try {
        // The watchdog takes no signal: the loop's thread is the one to interrupt.
        sigset_t all;
        sigset_t old;
        sigfillset(&all);
        ::pthread_sigmask(SIG_BLOCK, &all, &old);
        try {
            s.watchdog = std::thread([&s] { s.watch(); });
        } catch (...) {
            ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
            throw;
        }
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    } catch (...) {
        detail::remove_stall_handler(s.signal);
        throw;
    }
    slot = &s;
}

StallDetector::~StallDetector() {
    auto& s = *state_;
    {
        std::lock_guard lock(s.mutex);
        s.stop = true;
    }
    s.wake.notify_one();
    s.watchdog.join();
    detail::LoopAccess::stall_watch(*s.loop) = nullptr;
    detail::remove_stall_handler(s.signal);
}

std::uint64_t StallDetector::reports() const noexcept { return state_->reports.load(std::memory_order_relaxed); }
std::uint64_t StallDetector::suppressed() const noexcept { return state_->suppressed.load(std::memory_order_relaxed); }

}  // namespace asyncio::debug
