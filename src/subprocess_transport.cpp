// src/subprocess_transport.cpp: the child process transport (CPython's
// BaseSubprocessTransport and _UnixSubprocessTransport): the spawn (src/spawn.cpp), a pipe
// transport per piped stream (src/stream_transport.cpp in pipe mode), the child's exit from
// its watcher (src/child_watcher.cpp); connection_lost once the child exited and every pipe
// closed. The rules: docs/design/subprocesses.md.
#include <asyncio/subprocess.hpp>

#include "child_watcher.hpp"
#include "loop_internal.hpp"
#include "spawn.hpp"
#include "stream_transport.hpp"

#include <asyncio/detail/wait_queue.hpp>

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace asyncio::detail {
namespace {

class UnixSubprocessTransport;

// CPython's ReadSubprocessPipeProto / WriteSubprocessPipeProto: what one pipe tells the
// process transport.
class PipeProto final : public Protocol {
public:
    PipeProto(UnixSubprocessTransport& owner, int fd) noexcept : owner_(&owner), fd_(fd) {}
    void data_received(std::string_view data) override;
    void connection_lost(std::exception_ptr exc) override;
    void pause_writing() override;
    void resume_writing() override;
    bool disconnected = false;

private:
    UnixSubprocessTransport* owner_;
    int fd_;
};

class UnixSubprocessTransport final : public SubprocessTransport, public std::enable_shared_from_this<UnixSubprocessTransport>, ChildExitSink, LoopCloseHook {
public:
    UnixSubprocessTransport(EventLoop& loop, std::unique_ptr<SubprocessProtocol> protocol) : loop_(&loop), protocol_(std::move(protocol)) {
        if (!protocol_) throw ValueError("protocol_factory returned no protocol");
    }
    ~UnixSubprocessTransport() override {
        if (loop_) LoopAccess::remove_close_hook(*loop_, this);
    }

    void start(const std::vector<std::string>& args, const SubprocessOptions& options) {
        reap_orphans();  // Tokio's rule: each spawn reaps what exited among the orphans
        SpawnedChild child = spawn_child(args, options);
        pid_ = child.pid;
        // From here the child runs: whatever fails below, it is watched or made an orphan,
        // and the pipes are owned by their transports or closed.
        try {
            watcher_ = ChildWatcher::start(*loop_, pid_, child.pidfd, *this);
        } catch (...) {
            for (int fd : child.pipes)
                if (fd >= 0) ::close(fd);
            ::kill(pid_, SIGKILL);  // an orphan now: reaped later
            strong_self_.reset();
            throw;
        }
        LoopAccess::add_close_hook(*loop_, this);
        try {
            for (int i = 0; i < 3; ++i) {
                const int fd = child.pipes[static_cast<std::size_t>(i)];
                if (fd < 0) continue;
                child.pipes[static_cast<std::size_t>(i)] = -1;
                auto proto = std::make_unique<PipeProto>(*this, i);
                protos_[static_cast<std::size_t>(i)] = proto.get();
                pipes_[static_cast<std::size_t>(i)] = StreamTransport::create_pipe(*loop_, fd, i == 0 ? StreamKind::write_pipe : StreamKind::read_pipe, std::move(proto));
            }
        } catch (...) {
            for (int fd : child.pipes)
                if (fd >= 0) ::close(fd);
            close();  // kills the child; its exit still finishes the transport
            throw;
        }
        // CPython calls connection_made with call_soon after connecting the pipes; here the
        // caller is a task's step already, so at once.
        protocol_->connection_made(*this);
    }

    [[nodiscard]] int get_pid() const noexcept override { return pid_; }
    [[nodiscard]] std::optional<int> get_returncode() const noexcept override { return returncode_; }
    [[nodiscard]] Transport* get_pipe_transport(int fd) const noexcept override {
        if (fd < 0 || fd > 2) return nullptr;
        return pipes_[static_cast<std::size_t>(fd)].get();
    }
    [[nodiscard]] SubprocessProtocol* get_protocol() const noexcept override { return protocol_.get(); }
    [[nodiscard]] bool is_closing() const noexcept override { return closed_; }

    void send_signal(int sig) override {
        if (finished_) throw ProcessLookupError(ESRCH);
        if (returncode_) return;  // reaped: its pid may be another process's now
        if (::kill(pid_, sig) != 0 && errno != ESRCH) throw_os_error(errno);
    }

    void close() override {
        if (closed_) return;
        closed_ = true;
        for (auto& p : pipes_)
            if (p) p->close();
        if (!returncode_ && pid_ > 0) ::kill(pid_, SIGKILL);  // CPython: kill a running child
    }

    Coro<int> wait() override {
        std::shared_ptr<UnixSubprocessTransport> keep = shared_from_this();  // held by the frame
        if (returncode_) co_return *returncode_;
        WaitOn w(exit_waiters_, "Process.wait()");
        co_await w;
        if (w.cancelled()) throw CancelledError(w.cancel_message());
        co_return *returncode_;
    }

    // --- from the pipes and the watcher ---
    void pipe_data(int fd, std::string_view data) { protocol_->pipe_data_received(fd, data); }
    void pipe_lost(int fd, std::exception_ptr exc) {
        protocol_->pipe_connection_lost(fd, std::move(exc));
        try_finish();
    }
    void pause_writing() { protocol_->pause_writing(); }
    void resume_writing() { protocol_->resume_writing(); }

private:
    void child_exited(int returncode) override {
        returncode_ = returncode;
        protocol_->process_exited();
        try_finish();
    }

    void try_finish() {
        if (finished_ || !returncode_) return;
        for (std::size_t i = 0; i < 3; ++i)
            if (pipes_[i] && !protos_[i]->disconnected) return;
        finished_ = true;
        // CPython: call_soon(_call_connection_lost, None).
        loop_->call_soon([self = strong_self_] { self->call_connection_lost(); });
    }

    void call_connection_lost() {
        std::shared_ptr<UnixSubprocessTransport> last = std::move(strong_self_);  // may be the last reference
        try {
            protocol_->connection_lost(nullptr);
        } catch (...) {
            exit_waiters_.grant_all();
            drop_loop();
            throw;
        }
        exit_waiters_.grant_all();
        drop_loop();
    }

    void drop_loop() noexcept {
        watcher_.reset();  // done: the child was reaped
        if (loop_) LoopAccess::remove_close_hook(*loop_, this);
        loop_ = nullptr;
    }

    void loop_closed() noexcept override {
        EventLoop& loop = *loop_;
        loop_ = nullptr;
        closed_ = true;
        finished_ = true;
        // The watcher makes the child an orphan (reaped later); the pipes let go themselves.
        LoopAccess::bury(loop, std::move(strong_self_));
    }

    EventLoop* loop_;
    std::unique_ptr<SubprocessProtocol> protocol_;
    pid_t pid_ = -1;
    std::optional<int> returncode_;
    std::array<std::shared_ptr<Transport>, 3> pipes_;
    std::array<PipeProto*, 3> protos_{};
    std::unique_ptr<ChildWatcher> watcher_;
    std::shared_ptr<UnixSubprocessTransport> strong_self_;  // while the child runs or a pipe is open
    WaitQueue exit_waiters_;
    bool closed_ = false;
    bool finished_ = false;  // connection_lost is due or done

    friend Coro<std::pair<std::shared_ptr<SubprocessTransport>, SubprocessProtocol*>> asyncio::detail::start_subprocess(EventLoop&, SubprocessProtocolFactory, std::vector<std::string>,
                                                                                                                        SubprocessOptions);
};

void PipeProto::data_received(std::string_view data) { owner_->pipe_data(fd_, data); }
void PipeProto::connection_lost(std::exception_ptr exc) {
    disconnected = true;
    owner_->pipe_lost(fd_, std::move(exc));
}
void PipeProto::pause_writing() { owner_->pause_writing(); }
void PipeProto::resume_writing() { owner_->resume_writing(); }

}  // namespace

Coro<std::pair<std::shared_ptr<SubprocessTransport>, SubprocessProtocol*>> start_subprocess(EventLoop& loop, SubprocessProtocolFactory factory, std::vector<std::string> args,
                                                                                            SubprocessOptions options) {
    LoopAccess::check_open(loop);
    auto t = std::make_shared<UnixSubprocessTransport>(loop, factory());
    t->strong_self_ = t;
    try {
        t->start(args, options);
    } catch (...) {
        if (t->pid_ < 0) {
            t->strong_self_.reset();  // never started
            if (t->loop_) LoopAccess::remove_close_hook(loop, t.get());
        }
        throw;
    }
    SubprocessProtocol* p = t->protocol_.get();
    co_return std::pair<std::shared_ptr<SubprocessTransport>, SubprocessProtocol*>(std::move(t), p);
}

}  // namespace asyncio::detail
