// src/child_watcher.cpp: ChildWatcher, the orphan queue and the fallback thread
// (src/child_watcher.hpp).
#include "child_watcher.hpp"

#include "loop_internal.hpp"

#include <asyncio/detail/remote_op.hpp>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace asyncio::detail {
namespace {

struct Orphan {
    pid_t pid;
    int pidfd;  // closed once reaped (-1: none)
};

std::mutex g_orphans_mutex;
std::vector<Orphan> g_orphans;  // children whose loop or watcher went before they exited
std::atomic<bool> g_pidfd_refused{false};

int returncode_of(int status) noexcept {
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return status;
}

int open_pidfd(pid_t pid) noexcept {
    if (g_pidfd_refused.load(std::memory_order_relaxed)) return -1;
#ifdef SYS_pidfd_open
    // The flag is PIDFD_NONBLOCK-free: the fd is only polled. Close-on-exec by default.
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    return -1;
#endif
}

}  // namespace

// The fallback thread's message home: the child's wait status.
class ChildWaitOp final : public RemoteOp {
public:
    ChildWaitOp(EventLoop& loop, ChildWatcher* w) : RemoteOp(loop), watcher_(w) {}
    int status = 0;
    // The watcher goes before the status came: nothing to tell (the thread still reaps).
    void forget() noexcept {
        watcher_ = nullptr;
        let_go_early();
    }

private:
    void complete() override {
        ChildWatcher* w = watcher_;
        if (!w) return;
        watcher_ = nullptr;
        w->op_ = nullptr;
        w->reaped(status);
    }
    void let_go() noexcept override {
        // The loop closes first: the thread still reaps the child; nobody is told.
        if (watcher_) {
            watcher_->op_ = nullptr;
            watcher_->loop_ = nullptr;
        }
        watcher_ = nullptr;
    }
    ChildWatcher* watcher_;
};

std::unique_ptr<ChildWatcher> ChildWatcher::start(EventLoop& loop, pid_t pid, int pidfd, ChildExitSink& sink) {
    std::unique_ptr<ChildWatcher> w;
    try {
        w = std::make_unique<ChildWatcher>(loop, pid, sink);
    } catch (...) {
        std::lock_guard lock(g_orphans_mutex);
        g_orphans.push_back({pid, pidfd});  // may throw too: then it stays a zombie until exit
        throw;
    }
    const int fd = pidfd >= 0 ? pidfd : open_pidfd(pid);
    if (fd >= 0) {
        try {
            LoopAccess::watch_io(loop, fd, w.get());
            w->pidfd_ = fd;
            return w;
        } catch (...) {
            ::close(fd);  // (the thread below instead)
        }
    }
    // CPython's ThreadedChildWatcher: a thread blocks in waitpid and sends the status home.
    // It holds the op (atomic count) and never the loop; if the loop has closed by then the
    // op is refused and the thread just ends, having reaped the child.
    Ref<RemoteOp> op(new ChildWaitOp(loop, w.get()), adopt_ref);
    w->op_ = static_cast<ChildWaitOp*>(op.get());
    std::thread([pid, op]() mutable {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        static_cast<ChildWaitOp*>(op.get())->status = status;
        op->post_home();
        op = {};
    }).detach();
    return w;
}

ChildWatcher::ChildWatcher(EventLoop& loop, pid_t pid, ChildExitSink& sink) : loop_(&loop), pid_(pid), sink_(&sink) {
    LoopAccess::ready(loop).reserve();  // the exit step is queued without allocating
}

ChildWatcher::~ChildWatcher() {
    // Its owner keeps it while its step is queued (until child_exited, or the loop closed).
    if (loop_) LoopAccess::ready(*loop_).unreserve();
    if (op_) op_->forget();
    if (!done_ && pidfd_ >= 0) orphan();
    if (pidfd_ >= 0) {
        if (loop_) LoopAccess::unwatch_io(*loop_, pidfd_);
        ::close(pidfd_);
    }
}

void ChildWatcher::io_ready(std::uint32_t) noexcept {
    if (queued_ || done_ || !loop_) return;
    queued_ = true;
    LoopAccess::ready(*loop_).push(this);
}

void ChildWatcher::run() {
    queued_ = false;
    if (done_) return;
    int status = 0;
    pid_t got;
    while ((got = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (got == 0) return;  // not yet (a spurious wake-up): the next edge comes at its exit
    if (got < 0) {
        // ECHILD: someone else reaped it (SIGCHLD ignored, or a waitpid(-1) of the user's).
        // CPython reports 255 with a warning.
        if (loop_)
            loop_->call_exception_handler({"Unknown child process pid " + std::to_string(pid_) + ", will report returncode 255", nullptr, {}});
        status = 255 << 8;
    }
    LoopAccess::unwatch_io(*loop_, pidfd_);
    ::close(pidfd_);
    pidfd_ = -1;
    reaped(status);
}

void ChildWatcher::reaped(int status) {
    done_ = true;
    sink_->child_exited(returncode_of(status));
}

void ChildWatcher::io_loop_closed() noexcept {
    // The loop goes first: the child is an orphan, reaped later; the pidfd goes with it.
    // (The loop's reservation for our step dies with it.)
    loop_ = nullptr;
    queued_ = false;
    if (!done_) {
        orphan();
        pidfd_ = -1;  // the orphan queue owns it now
    }
    reap_orphans();
}

void ChildWatcher::orphan() noexcept {
    done_ = true;
    try {
        std::lock_guard lock(g_orphans_mutex);
        g_orphans.push_back({pid_, pidfd_});
        if (loop_ && pidfd_ >= 0) LoopAccess::unwatch_io(*loop_, pidfd_);
        pidfd_ = -1;
    } catch (...) {
        // No memory for the queue: the child stays a zombie until this process exits.
    }
}

void reap_orphans() noexcept {
    std::lock_guard lock(g_orphans_mutex);
    std::erase_if(g_orphans, [](const Orphan& o) {
        int status = 0;
        pid_t got;
        while ((got = ::waitpid(o.pid, &status, WNOHANG)) < 0 && errno == EINTR) {
        }
        if (got == 0) return false;
        if (o.pidfd >= 0) ::close(o.pidfd);
        return true;
    });
}

std::size_t orphan_count() noexcept {
    std::lock_guard lock(g_orphans_mutex);
    return g_orphans.size();
}

void set_pidfd_refused(bool refused) noexcept { g_pidfd_refused.store(refused, std::memory_order_relaxed); }
bool pidfd_refused() noexcept { return g_pidfd_refused.load(std::memory_order_relaxed); }

}  // namespace asyncio::detail
