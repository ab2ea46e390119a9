// src/child_watcher.hpp: how a loop learns that a child it spawned has exited, and how no
// child is left a zombie (CPython's PidfdChildWatcher and ThreadedChildWatcher; Tokio's orphan
// queue). Never installed. The rules: docs/design/subprocesses.md.
#pragma once

#include <asyncio/detail/io_watcher.hpp>
#include <asyncio/detail/ready_queue.hpp>
#include <asyncio/events.hpp>

#include <sys/types.h>

#include <memory>

namespace asyncio::detail {

// Told once, on the loop's thread in its ready phase, that the child exited, with CPython's
// returncode (the exit status, or minus the signal that ended it).
struct ChildExitSink {
    virtual void child_exited(int returncode) = 0;

protected:
    ~ChildExitSink() = default;
};

class ChildWaitOp;

// Watches one child. With a pidfd (Linux 5.3+) the loop's epoll tells when it exits; where
// pidfd_open is refused (old kernels, seccomp filters), a thread of its own waits in
// waitpid and sends the status home. Either way the child is reaped by this watcher and
// nobody else. If the loop closes (or the watcher goes) before the child exits, the child
// becomes an orphan: reaped by the next spawn or loop close of the process (pidfd), or by its
// thread (fallback).
class ChildWatcher final : IoWatcher, Runnable {
public:
    // Starts watching `pid`, a child of this process not reaped yet, through `pidfd` if the
    // spawn made one (the watcher owns it then; -1: it opens its own). Throws std::bad_alloc
    // or std::system_error (no thread could be started); the child is made an orphan then.
    static std::unique_ptr<ChildWatcher> start(EventLoop& loop, pid_t pid, int pidfd, ChildExitSink& sink);
    ChildWatcher(EventLoop& loop, pid_t pid, ChildExitSink& sink);
    ChildWatcher(const ChildWatcher&) = delete;
    ChildWatcher& operator=(const ChildWatcher&) = delete;
    ~ChildWatcher();

private:
    friend class ChildWaitOp;
    void io_ready(std::uint32_t events) noexcept override;
    void io_loop_closed() noexcept override;
    void run() override;
    void drop() noexcept override { queued_ = false; }
    void reaped(int status);
    void orphan() noexcept;

    EventLoop* loop_;
    pid_t pid_;
    ChildExitSink* sink_;
    int pidfd_ = -1;
    ChildWaitOp* op_ = nullptr;  // the fallback thread's message home, until it comes
    bool queued_ = false;
    bool done_ = false;  // reaped
};

// Reaps what exited among the orphans (waitpid WNOHANG on each); called at each spawn and
// each loop close.
void reap_orphans() noexcept;
// How many orphans are not reaped yet (tests).
std::size_t orphan_count() noexcept;
// Tests: pretend pidfd_open is refused, so that the fallback is used (process-wide).
void set_pidfd_refused(bool refused) noexcept;
// Whether pidfds are refused (then the spawn asks for none either).
bool pidfd_refused() noexcept;

}  // namespace asyncio::detail
