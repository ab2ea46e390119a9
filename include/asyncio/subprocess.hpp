// asyncio/subprocess.hpp: child processes. The high-level API, create_subprocess_exec,
// create_subprocess_shell and Process (CPython's asyncio/subprocess.py), and the low-level
// loop.subprocess_exec / subprocess_shell with SubprocessProtocol and SubprocessTransport
// (base_subprocess.py, unix_events.py). Spawning, watching and reaping:
// docs/design/subprocesses.md.
#pragma once

#include <asyncio/coroutines.hpp>
#include <asyncio/detail/protocol_factory.hpp>
#include <asyncio/events.hpp>
#include <asyncio/streams.hpp>
#include <asyncio/transports.hpp>

#include <signal.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {

/// The special values of a child's stdin, stdout and stderr, as CPython's.
///
/// Python: `asyncio.subprocess.PIPE`, `STDOUT`, `DEVNULL`
namespace subprocess {
/// A new pipe to the child: its stream is the Process's `std_in()` / `std_out()` /
/// `std_err()` (a pipe transport for the low-level API).
inline constexpr int PIPE = -1;
/// stderr only: the child's stderr goes where its stdout goes.
inline constexpr int STDOUT = -2;
/// /dev/null.
inline constexpr int DEVNULL = -3;
}  // namespace subprocess

/// The keyword arguments of the subprocess calls that apply here.
///
/// Python: `stdin=None, stdout=None, stderr=None, cwd=None, env=None, executable=None,
///   close_fds=True, start_new_session=False, process_group=None, restore_signals=True`
/// Differs from CPython: the streams are `std_in`, `std_out`, `std_err` (stdin, stdout and
///   stderr are macros of the C library); unset is CPython's None (inherit the parent's).
struct SubprocessOptions {
    /// PIPE, DEVNULL, an fd of the caller's (not taken), or unset: the parent's stdin.
    std::optional<int> std_in = std::nullopt;
    /// PIPE, DEVNULL, an fd, or unset: the parent's stdout.
    std::optional<int> std_out = std::nullopt;
    /// PIPE, DEVNULL, STDOUT, an fd, or unset: the parent's stderr.
    std::optional<int> std_err = std::nullopt;
    /// The child's working directory (a relative program is found from there).
    std::optional<std::string> cwd = std::nullopt;
    /// The child's whole environment; unset: the parent's. A program without '/' is looked
    /// up in this environment's PATH, as CPython does.
    std::optional<std::map<std::string, std::string>> env = std::nullopt;
    /// The program to run, if not args[0] (which is still the child's argv[0]).
    std::optional<std::string> executable = std::nullopt;
    bool close_fds = true;                            ///< close every fd above 2 in the child
    bool start_new_session = false;                   ///< setsid() in the child
    std::optional<int> process_group = std::nullopt;  ///< setpgid(0, this) in the child (3.11)
    bool restore_signals = true;                      ///< SIGPIPE and SIGXFSZ back to their default action
};

class SubprocessTransport;

/// What a child process's transport tells: its pipes' data and ends, and its exit. Each
/// default does nothing; every method is called on the loop's thread, in its ready phase.
///
/// Python: `asyncio.SubprocessProtocol`
/// Differs from CPython: not a BaseProtocol (its connection_made takes the
///   SubprocessTransport); the transport owns it.
class SubprocessProtocol {
public:
    virtual ~SubprocessProtocol() = default;
    /// The child runs; its pipes are connected.
    ///
    /// Python: `connection_made(transport)`
    virtual void connection_made(SubprocessTransport& transport) { (void)transport; }
    /// The child wrote `data` to its stdout (fd 1) or stderr (fd 2); a view valid during
    /// the call only.
    ///
    /// Python: `pipe_data_received(fd, data)`
    virtual void pipe_data_received(int fd, std::string_view data) {
        (void)fd;
        (void)data;
    }
    /// One of the child's pipes closed: `exc` null at its end of stream, else the error.
    ///
    /// Python: `pipe_connection_lost(fd, exc)`
    virtual void pipe_connection_lost(int fd, std::exception_ptr exc) {  // NOLINT(performance-unnecessary-value-param): by value, for overriders to keep
        (void)fd;
        (void)exc;
    }
    /// The child exited (its returncode is known).
    ///
    /// Python: `process_exited()`
    virtual void process_exited() {}
    /// Last: the child exited and every pipe closed.
    ///
    /// Python: `connection_lost(exc)`
    virtual void connection_lost(std::exception_ptr exc) { (void)exc; }  // NOLINT(performance-unnecessary-value-param): by value, for overriders to keep
    /// The stdin pipe's buffer went over its high-water mark.
    ///
    /// Python: `pause_writing()`
    virtual void pause_writing() {}
    /// The stdin pipe's buffer drained to its low-water mark.
    ///
    /// Python: `resume_writing()`
    virtual void resume_writing() {}
};

/// A running (or exited) child process and its pipes.
///
/// Python: `asyncio.SubprocessTransport`
/// Differs from CPython: held by shared_ptr; `get_pipe_transport` gives null for a stream
///   that is no pipe (CPython None).
class SubprocessTransport {
public:
    virtual ~SubprocessTransport() = default;
    SubprocessTransport() = default;
    SubprocessTransport(const SubprocessTransport&) = delete;
    SubprocessTransport& operator=(const SubprocessTransport&) = delete;

    /// Python: `transport.get_pid()`
    [[nodiscard]] virtual int get_pid() const noexcept = 0;
    /// The exit status, or minus the signal that ended the child; unset while it runs.
    ///
    /// Python: `transport.get_returncode()`
    [[nodiscard]] virtual std::optional<int> get_returncode() const noexcept = 0;
    /// The transport of pipe `fd` (0 stdin, 1 stdout, 2 stderr), or null.
    ///
    /// Python: `transport.get_pipe_transport(fd)`
    [[nodiscard]] virtual Transport* get_pipe_transport(int fd) const noexcept = 0;
    /// Sends `sig` to the child; nothing once it has exited.
    ///
    /// Python: `transport.send_signal(signal)`
    /// Throws: `ProcessLookupError` once the transport is finished (connection_lost).
    /// Differs from CPython: never signals a pid the system may have reused (CPython's can,
    ///   between the child's reaping and connection_lost).
    virtual void send_signal(int sig) = 0;
    /// Python: `transport.terminate()` (SIGTERM)
    void terminate() { send_signal(SIGTERM); }
    /// Python: `transport.kill()` (SIGKILL)
    void kill() { send_signal(SIGKILL); }
    /// Closes the pipes and kills the child if it still runs (SIGKILL); connection_lost
    /// follows once it has exited.
    ///
    /// Python: `transport.close()`
    virtual void close() = 0;
    /// Python: `transport.is_closing()`
    [[nodiscard]] virtual bool is_closing() const noexcept = 0;
    /// Python: `transport.get_protocol()`
    [[nodiscard]] virtual SubprocessProtocol* get_protocol() const noexcept = 0;
    /// Waits until the child exited and every pipe closed; gives the returncode (at once
    /// if it is known).
    ///
    /// Python: `await transport._wait()` (what Process.wait() uses)
    [[nodiscard]] virtual Coro<int> wait() = 0;
};

/// What subprocess_exec makes the protocol with, once typed.
using SubprocessProtocolFactory = std::function<std::unique_ptr<SubprocessProtocol>()>;

namespace detail {

class ProcessState;

// src/subprocess_transport.cpp: spawns `args` and makes its transport, connection_made
// called. `shell`: args is {cmd}, run by /bin/sh -c.
Coro<std::pair<std::shared_ptr<SubprocessTransport>, SubprocessProtocol*>> start_subprocess(EventLoop& loop, SubprocessProtocolFactory factory, std::vector<std::string> args, SubprocessOptions options);

inline SubprocessOptions all_pipes() {
    SubprocessOptions o;
    o.std_in = subprocess::PIPE;
    o.std_out = subprocess::PIPE;
    o.std_err = subprocess::PIPE;
    return o;
}

inline std::vector<std::string> shell_args(std::string cmd) {
    std::vector<std::string> args;
    args.emplace_back("/bin/sh");
    args.emplace_back("-c");
    args.push_back(std::move(cmd));
    return args;
}

}  // namespace detail

template <class F>
// NOLINTNEXTLINE(performance-unnecessary-value-param): moved on; clang-tidy 14 misreads the dependent call
auto EventLoop::subprocess_exec(F&& protocol_factory, std::vector<std::string> args, const SubprocessOptions& options) {
    using P = typename detail::MadeProtocol<SubprocessProtocol, F>::type;
    return detail::typed_pair<P>(
        detail::start_subprocess(*this, detail::make_factory_of<SubprocessProtocol>(std::forward<F>(protocol_factory)), std::move(args), options));
}

template <class F>
auto EventLoop::subprocess_exec(F&& protocol_factory, std::vector<std::string> args) {
    return subprocess_exec(std::forward<F>(protocol_factory), std::move(args), detail::all_pipes());
}

template <class F>
auto EventLoop::subprocess_shell(F&& protocol_factory, std::string cmd, const SubprocessOptions& options) {
    return subprocess_exec(std::forward<F>(protocol_factory), detail::shell_args(std::move(cmd)), options);
}

template <class F>
auto EventLoop::subprocess_shell(F&& protocol_factory, std::string cmd) {
    return subprocess_exec(std::forward<F>(protocol_factory), detail::shell_args(std::move(cmd)), detail::all_pipes());
}

/// A child process started by create_subprocess_exec or create_subprocess_shell, with its
/// piped streams.
///
/// Python: `asyncio.subprocess.Process`
/// Differs from CPython: move-only; the streams are `std_in()`, `std_out()`, `std_err()`
///   (null where not a pipe: CPython's None). Destroying the last Process of a child that
///   still runs closes the child's pipes (it sees the end of its stdin, and EPIPE on its
///   stdout) but does not kill it; it is reaped when it exits. CPython keeps the pipes open.
class Process {
public:
    /// Takes over the handle (`other` is left empty).
    Process(Process&&) noexcept = default;
    /// Lets go of this handle (as the destructor) and takes over `other`'s.
    Process& operator=(Process&&) noexcept = default;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    /// Python: `process.pid`
    [[nodiscard]] int pid() const noexcept;
    /// Unset while the child runs; then its exit status, or minus the signal that ended it.
    ///
    /// Python: `process.returncode`
    [[nodiscard]] std::optional<int> returncode() const noexcept;
    /// Waits for the child to exit and gives its returncode. With stdout or stderr a pipe,
    /// a child that writes more than the pipe holds waits for a reader: read the streams
    /// (or use communicate) meanwhile.
    ///
    /// Python: `await process.wait()`
    /// Cancellation: the child keeps running and is still reaped.
    [[nodiscard]] Coro<int> wait();
    /// Writes `input` to stdin (if given) and closes it, reads stdout and stderr to their
    /// ends, all at once (no deadlock however large), then waits for the exit. Gives what
    /// stdout and stderr carried (unset where not a pipe).
    ///
    /// Python: `await process.communicate(input=None)`
    /// Throws: `ValueError` if `input` is given and stdin is no pipe.
    /// Cancellation: the child keeps running; what was read is lost.
    [[nodiscard]] Coro<std::pair<std::optional<std::string>, std::optional<std::string>>> communicate(std::optional<std::string> input = std::nullopt);
    /// Python: `process.send_signal(signal)`
    void send_signal(int sig);
    /// Python: `process.terminate()` (SIGTERM)
    void terminate() { send_signal(SIGTERM); }
    /// Python: `process.kill()` (SIGKILL)
    void kill() { send_signal(SIGKILL); }
    /// The child's stdin as a stream, if it is a pipe.
    ///
    /// Python: `process.stdin`
    [[nodiscard]] StreamWriter* std_in() const noexcept;
    /// Python: `process.stdout`
    [[nodiscard]] StreamReader* std_out() const noexcept;
    /// Python: `process.stderr`
    [[nodiscard]] StreamReader* std_err() const noexcept;
    /// The transport under it.
    [[nodiscard]] SubprocessTransport& transport() const noexcept;

private:
    friend Coro<Process> create_subprocess_exec(std::string, std::vector<std::string>, SubprocessOptions, std::ptrdiff_t);
    explicit Process(std::shared_ptr<detail::ProcessState> s) noexcept : s_(std::move(s)) {}
    std::shared_ptr<detail::ProcessState> s_;
};

/// Runs `program` with `args` as a child process; its streams are as `options` say (unset:
/// the parent's). The program is looked up in PATH unless it has a '/'.
///
/// Python: `await asyncio.create_subprocess_exec(program, *args, stdin=None, stdout=None,
///   stderr=None, limit=2**16, **kwds)`
/// Throws: ``FileNotFoundError("[Errno 2] No such file or directory: 'prog'")``,
///   `PermissionError` ..., as the spawn fails; `ValueError` for bad arguments.
[[nodiscard]] Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {}, SubprocessOptions options = {},
                                                   std::ptrdiff_t limit = stream_default_limit);

/// Runs `cmd` with /bin/sh -c, as create_subprocess_exec.
///
/// Python: `await asyncio.create_subprocess_shell(cmd, stdin=None, stdout=None,
///   stderr=None, limit=2**16, **kwds)`
[[nodiscard]] Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options = {}, std::ptrdiff_t limit = stream_default_limit);

}  // namespace asyncio
