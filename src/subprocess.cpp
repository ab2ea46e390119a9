// src/subprocess.cpp: Process, create_subprocess_exec and create_subprocess_shell, over the
// subprocess transport with CPython's SubprocessStreamProtocol (asyncio/subprocess.py): the
// child's stdout and stderr feed StreamReaders, its stdin is a StreamWriter.
#include <asyncio/subprocess.hpp>

#include <asyncio/tasks.hpp>

#include <set>

namespace asyncio {
namespace detail {

// CPython's SubprocessStreamProtocol.
class SubprocessStreamProtocol final : public SubprocessProtocol {
public:
    explicit SubprocessStreamProtocol(std::ptrdiff_t limit) : limit_(limit) {}

    void connection_made(SubprocessTransport& transport) override {
        transport_ = &transport;
        for (int fd = 1; fd <= 2; ++fd) {
            Transport* pipe = transport.get_pipe_transport(fd);
            if (!pipe) continue;
            StreamReader reader(limit_);
            reader.set_transport(*pipe);
            state(fd) = StreamAccess::state(reader);
            (fd == 1 ? out_ : err_).emplace(std::move(reader));
            pipe_fds_.insert(fd);
        }
        if (Transport* pipe = transport.get_pipe_transport(0)) {
            Ref<StreamState> s(new StreamState(limit_));
            in_state_ = s;
            in_.emplace(StreamAccess::writer(pipe->shared_from_this(), std::move(s)));
        }
    }

    void pipe_data_received(int fd, std::string_view data) override {
        if ((fd == 1 || fd == 2) && state(fd)) state(fd)->feed_data(data);
    }

    void pipe_connection_lost(int fd, std::exception_ptr exc) override {
        if (fd == 0) {
            if (in_state_) {
                StreamState& s = *in_state_;
                s.closed = true;
                s.connection_lost = true;
                s.lost_error = exc;
                s.close_waiters.grant_all();
                s.drain_waiters.grant_all();
            }
            return;
        }
        if (Ref<StreamState>& s = state(fd)) {
            s->transport = nullptr;
            if (exc)
                s->set_exception(exc);
            else
                s->feed_eof();
        }
        pipe_fds_.erase(fd);
        maybe_close_transport();
    }

    void process_exited() override {
        exited_ = true;
        maybe_close_transport();
    }

    void pause_writing() override {
        if (in_state_) in_state_->write_paused = true;
    }
    void resume_writing() override {
        if (!in_state_) return;
        in_state_->write_paused = false;
        in_state_->drain_waiters.grant_all();
    }

    // What Process takes over once the transport is made.
    std::optional<StreamWriter> in_;
    std::optional<StreamReader> out_;
    std::optional<StreamReader> err_;

private:
    Ref<StreamState>& state(int fd) { return fd == 1 ? out_state_ : err_state_; }
    void maybe_close_transport() {
        if (pipe_fds_.empty() && exited_ && transport_) {
            SubprocessTransport* t = transport_;
            transport_ = nullptr;
            t->close();
        }
    }

    std::ptrdiff_t limit_;
    SubprocessTransport* transport_ = nullptr;
    Ref<StreamState> out_state_;
    Ref<StreamState> err_state_;
    Ref<StreamState> in_state_;
    std::set<int> pipe_fds_;
    bool exited_ = false;
};

// What a Process and its running wait()/communicate() share. The last of them to go closes
// the child's pipes: nobody can write or read them any more.
class ProcessState {
public:
    ProcessState(std::shared_ptr<SubprocessTransport> t, SubprocessStreamProtocol& p)
        : transport(std::move(t)), in(std::move(p.in_)), out(std::move(p.out_)), err(std::move(p.err_)) {}
    ProcessState(const ProcessState&) = delete;
    ProcessState& operator=(const ProcessState&) = delete;
    ~ProcessState() {
        in.reset();  // an open StreamWriter closes its pipe
        for (int fd = 1; fd <= 2; ++fd)
            if (Transport* pipe = transport->get_pipe_transport(fd); pipe && !pipe->is_closing()) pipe->close();
    }

    std::shared_ptr<SubprocessTransport> transport;
    std::optional<StreamWriter> in;
    std::optional<StreamReader> out;
    std::optional<StreamReader> err;
};

namespace {

Coro<int> process_wait(std::shared_ptr<ProcessState> s) { co_return co_await s->transport->wait(); }

// CPython's _feed_stdin: a reader that went away is no error of communicate's.
Coro<void> feed_stdin(std::shared_ptr<ProcessState> s, std::optional<std::string> input) {
    try {
        if (input) s->in->write(*input);
        co_await s->in->drain();
    } catch (const BrokenPipeError&) {
    } catch (const ConnectionResetError&) {
    }
    s->in->close();
}

// CPython's _read_stream: all of it, then the pipe's transport closed.
Coro<std::optional<std::string>> read_stream(std::shared_ptr<ProcessState> s, int fd) {
    StreamReader* r = fd == 1 ? (s->out ? &*s->out : nullptr) : (s->err ? &*s->err : nullptr);
    if (!r) co_return std::nullopt;
    std::string output = co_await r->read();
    if (Transport* pipe = s->transport->get_pipe_transport(fd)) pipe->close();
    co_return output;
}

Coro<void> nothing() { co_return; }

Coro<std::pair<std::optional<std::string>, std::optional<std::string>>> process_communicate(std::shared_ptr<ProcessState> s, std::optional<std::string> input) {
    if (input && !s->in) throw ValueError("communicate(input): stdin is not a pipe");
    Coro<void> stdin_part = s->in ? feed_stdin(s, std::move(input)) : nothing();
    auto got = co_await gather(std::move(stdin_part), read_stream(s, 1), read_stream(s, 2));
    co_await s->transport->wait();
    co_return std::pair<std::optional<std::string>, std::optional<std::string>>(std::move(std::get<1>(got)), std::move(std::get<2>(got)));
}

}  // namespace
}  // namespace detail

Process::~Process() = default;

int Process::pid() const noexcept { return s_->transport->get_pid(); }
std::optional<int> Process::returncode() const noexcept { return s_->transport->get_returncode(); }
Coro<int> Process::wait() { return detail::process_wait(s_); }
Coro<std::pair<std::optional<std::string>, std::optional<std::string>>> Process::communicate(std::optional<std::string> input) {
    return detail::process_communicate(s_, std::move(input));
}
void Process::send_signal(int sig) { s_->transport->send_signal(sig); }
StreamWriter* Process::std_in() const noexcept { return s_->in ? &*s_->in : nullptr; }
StreamReader* Process::std_out() const noexcept { return s_->out ? &*s_->out : nullptr; }
StreamReader* Process::std_err() const noexcept { return s_->err ? &*s_->err : nullptr; }
SubprocessTransport& Process::transport() const noexcept { return *s_->transport; }

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args, SubprocessOptions options, std::ptrdiff_t limit) {
    if (limit <= 0) throw ValueError("Limit cannot be <= 0");
    args.insert(args.begin(), std::move(program));
    const SubprocessProtocolFactory factory = [limit]() -> std::unique_ptr<SubprocessProtocol> { return std::make_unique<detail::SubprocessStreamProtocol>(limit); };
    auto made = co_await detail::start_subprocess(get_running_loop(), factory, std::move(args), std::move(options));
    auto* protocol = static_cast<detail::SubprocessStreamProtocol*>(made.second);
    co_return Process(std::make_shared<detail::ProcessState>(std::move(made.first), *protocol));
}

Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options, std::ptrdiff_t limit) {
    std::vector<std::string> args;
    args.emplace_back("-c");
    args.push_back(std::move(cmd));
    return create_subprocess_exec("/bin/sh", std::move(args), std::move(options), limit);
}

}  // namespace asyncio
