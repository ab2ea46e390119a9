// Child processes (asyncio/subprocess.hpp): CPython's test_subprocess.py behaviours that
// apply (SubprocessMixin: stdin/stdout/stderr combinations, communicate, large output,
// kill/terminate, returncode after a signal, cancelled wait/communicate, the protocol's
// events), one case each, with the CPython test name in a comment; each test ends with no
// child of this process left, running or zombie.
#include "support/async_test.hpp"
#include "support/children.hpp"
#include "support/greeted_clients.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using asyncio::Coro;
using asyncio::Process;
using asyncio::SubprocessOptions;
namespace sp = asyncio::subprocess;

namespace {

SubprocessOptions pipes(bool in, bool out, bool err) {
    SubprocessOptions o;
    if (in) o.std_in = sp::PIPE;
    if (out) o.std_out = sp::PIPE;
    if (err) o.std_err = sp::PIPE;
    return o;
}

std::vector<std::string> argv(std::initializer_list<const char*> a) { return {a.begin(), a.end()}; }

std::string big_text(std::size_t n) {
    std::string s;
    s.reserve(n);
    for (std::size_t i = 0; s.size() < n; ++i) s += std::to_string(i) + '\n';
    s.resize(n);
    return s;
}

// Blocks until `pid` has exited, without reaping it (the library must).
void wait_exited_unreaped(pid_t pid) {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
}

// The text of the E that spawning `program` raises ("no error" if it starts, and then it is
// waited for); any other exception goes through.
template <class E>
Coro<std::string> spawn_error(std::string program, SubprocessOptions options) {
    try {
        Process p = co_await asyncio::create_subprocess_exec(program, std::vector<std::string>{}, options);
        co_await p.wait();
    } catch (const E& e) {
        co_return e.what();
    }
    co_return "no error";
}

}  // namespace

// test_stdin_stdout: bytes through cat, written, drained, closed; its output read.
ASYNCIO_TEST(Subprocess, StdinStdout) {
    const std::vector<std::string> no_args;
    Process proc = co_await asyncio::create_subprocess_exec("cat", no_args, pipes(true, true, false));
    EXPECT_GT(proc.pid(), 0);
    EXPECT_FALSE(proc.returncode());
    EXPECT_EQ(proc.std_err(), nullptr);
    proc.std_in()->write("Python The Winner");
    co_await proc.std_in()->drain();
    proc.std_in()->close();
    std::string out = co_await proc.std_out()->read();
    int rc = co_await proc.wait();
    EXPECT_EQ(out, "Python The Winner");
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(proc.returncode(), std::optional<int>(0));
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// test_communicate: input in, output out, exit code.
ASYNCIO_TEST(Subprocess, Communicate) {
    const std::vector<std::string> no_args;
    Process proc = co_await asyncio::create_subprocess_exec("cat", no_args, pipes(true, true, false));
    std::optional<std::string> input("Python The Winner");
    auto [out, err] = co_await proc.communicate(std::move(input));
    EXPECT_EQ(out, std::optional<std::string>("Python The Winner"));
    EXPECT_FALSE(err);
    EXPECT_EQ(proc.returncode(), std::optional<int>(0));
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// test_communicate_none_input, and communicate's input refused without a stdin pipe.
ASYNCIO_TEST(Subprocess, CommunicateWithoutInput) {
    const std::vector<std::string> args = argv({"-c", "echo out; echo err >&2"});
    Process proc = co_await asyncio::create_subprocess_exec("sh", args, pipes(false, true, true));
    bool refused = false;
    try {
        std::optional<std::string> input("x");
        co_await proc.communicate(std::move(input));
    } catch (const asyncio::ValueError&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out, std::optional<std::string>("out\n"));
    EXPECT_EQ(err, std::optional<std::string>("err\n"));
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// test_large_output / communicate with large data on both pipes at once: 4 MiB in, the same
// 4 MiB out on stdout and on stderr (tee), no deadlock, byte-exact.
ASYNCIO_TEST(Subprocess, CommunicateLargeBothPipes) {
    const std::string data = big_text(std::size_t{4} << 20);
    const std::vector<std::string> args = argv({"-c", "tee /dev/fd/2"});
    Process proc = co_await asyncio::create_subprocess_exec("sh", args, pipes(true, true, true));
    std::optional<std::string> input(data);
    auto [out, err] = co_await proc.communicate(std::move(input));
    EXPECT_TRUE(out && *out == data);
    EXPECT_TRUE(err && *err == data);
    EXPECT_EQ(proc.returncode(), std::optional<int>(0));
}

// test_shell: the exit code of a shell command.
ASYNCIO_TEST(Subprocess, ShellExitCode) {
    Process proc = co_await asyncio::create_subprocess_shell("exit 7");
    EXPECT_EQ(co_await proc.wait(), 7);
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// test_kill: a sleeping child killed: returncode -SIGKILL.
ASYNCIO_TEST(Subprocess, Kill) {
    const std::vector<std::string> args = argv({"100"});
    Process proc = co_await asyncio::create_subprocess_exec("sleep", args);
    proc.kill();
    EXPECT_EQ(co_await proc.wait(), -SIGKILL);
    bool lookup = false;
    try {
        proc.kill();  // finished: CPython's ProcessLookupError, never a signal to a reused pid
    } catch (const asyncio::ProcessLookupError&) {
        lookup = true;
    }
    EXPECT_TRUE(lookup);
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// test_terminate: returncode -SIGTERM.
ASYNCIO_TEST(Subprocess, Terminate) {
    const std::vector<std::string> args = argv({"100"});
    Process proc = co_await asyncio::create_subprocess_exec("sleep", args);
    proc.terminate();
    EXPECT_EQ(co_await proc.wait(), -SIGTERM);
}

// test_send_signal: a child that handles SIGHUP exits as its handler says.
ASYNCIO_TEST(Subprocess, SendSignal) {
    SubprocessOptions o = pipes(false, true, false);
    const std::vector<std::string> args = argv({"-c", "trap 'exit 3' HUP; echo ready; while :; do sleep 0.01; done"});
    Process proc = co_await asyncio::create_subprocess_exec("sh", args, o);
    EXPECT_EQ(co_await proc.std_out()->readline(), "ready\n");
    proc.send_signal(SIGHUP);
    EXPECT_EQ(co_await proc.wait(), 3);
}

// test_stdin_broken_pipe: writing to a child that exited without reading raises
// BrokenPipeError or ConnectionResetError from drain, never SIGPIPE.
ASYNCIO_TEST(Subprocess, StdinBrokenPipe) {
    const std::vector<std::string> no_args;
    Process proc = co_await asyncio::create_subprocess_exec("true", no_args, pipes(true, false, false));
    wait_exited_unreaped(proc.pid());
    bool raised = false;
    try {
        for (int i = 0; i < 100; ++i) {
            proc.std_in()->write(std::string(65536, 'x'));
            co_await proc.std_in()->drain();
        }
    } catch (const asyncio::BrokenPipeError&) {
        raised = true;
    } catch (const asyncio::ConnectionResetError&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(co_await proc.wait(), 0);
}

// test_communicate_ignore_broken_pipe: communicate ignores a reader that went away.
ASYNCIO_TEST(Subprocess, CommunicateIgnoresBrokenPipe) {
    const std::vector<std::string> no_args;
    Process proc = co_await asyncio::create_subprocess_exec("true", no_args, pipes(true, true, false));
    std::optional<std::string> input(std::string(std::size_t{1} << 20, 'y'));
    auto [out, err] = co_await proc.communicate(std::move(input));
    EXPECT_EQ(out, std::optional<std::string>(""));
    EXPECT_EQ(proc.returncode(), std::optional<int>(0));
}

// test_devnull_input / output / error, and stderr into stdout (STDOUT).
ASYNCIO_TEST(Subprocess, DevnullAndStdout) {
    SubprocessOptions o;
    o.std_in = sp::DEVNULL;
    o.std_out = sp::PIPE;
    o.std_err = sp::STDOUT;
    const std::vector<std::string> args = argv({"-c", "cat; echo out; echo err >&2"});
    Process proc = co_await asyncio::create_subprocess_exec("sh", args, o);
    EXPECT_EQ(proc.std_in(), nullptr);
    EXPECT_EQ(proc.std_err(), nullptr);
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out, std::optional<std::string>("out\nerr\n"));
    EXPECT_FALSE(err);
    SubprocessOptions quiet;
    quiet.std_out = sp::DEVNULL;
    quiet.std_err = sp::DEVNULL;
    Process p2 = co_await asyncio::create_subprocess_shell("echo lost; echo lost >&2; exit 4", quiet);
    auto r2 = co_await p2.communicate();
    EXPECT_FALSE(r2.first);
    EXPECT_EQ(p2.returncode(), std::optional<int>(4));
}

// test_read_stdout_after_process_exit: what the child wrote is still there after its exit.
ASYNCIO_TEST(Subprocess, ReadStdoutAfterExit) {
    Process proc = co_await asyncio::create_subprocess_shell("echo hello; exit 0", pipes(false, true, false));
    wait_exited_unreaped(proc.pid());
    EXPECT_EQ(co_await proc.std_out()->read(), "hello\n");
    EXPECT_EQ(co_await proc.wait(), 0);
}

// test_create_subprocess_env_shell / _exec, and cwd: the child's environment and directory;
// a program found in the given environment's PATH.
ASYNCIO_TEST(Subprocess, EnvAndCwd) {
    SubprocessOptions o = pipes(false, true, false);
    o.env = std::map<std::string, std::string>{{"FOO", "bar baz"}, {"PATH", "/usr/bin:/bin"}};
    o.cwd = "/";
    const std::vector<std::string> args = argv({"-c", "echo \"$FOO\"; pwd"});
    Process proc = co_await asyncio::create_subprocess_exec("sh", args, o);
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out, std::optional<std::string>("bar baz\n/\n"));
}

// test_process_create_warning's cousin: a program that does not exist is FileNotFoundError
// with CPython's text; a bad cwd names the directory; no child, no fd left.
ASYNCIO_TEST(Subprocess, SpawnErrors) {
    const std::size_t fds = asyncio_test::open_fds();
    const std::string missing = co_await spawn_error<asyncio::FileNotFoundError>("no-such-program-here", pipes(true, true, true));
    EXPECT_EQ(missing, "[Errno 2] No such file or directory: 'no-such-program-here'");
    SubprocessOptions bad_cwd;
    bad_cwd.cwd = "/no/such/dir";
    const std::string cwd = co_await spawn_error<asyncio::FileNotFoundError>("true", bad_cwd);
    EXPECT_EQ(cwd, "[Errno 2] No such file or directory: '/no/such/dir'");
    const SubprocessOptions defaults;
    const std::string denied = co_await spawn_error<asyncio::PermissionError>("/etc/passwd", defaults);
    EXPECT_EQ(denied, "[Errno 13] Permission denied: '/etc/passwd'");
    bool raised = false;
    try {
        const std::vector<std::string> bad = argv({"a"});
        std::vector<std::string> with_nul = bad;
        with_nul[0].push_back('\0');
        co_await asyncio::create_subprocess_exec("echo", with_nul);
    } catch (const asyncio::ValueError&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(asyncio_test::open_fds(), fds);
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// close_fds (CPython's default): an fd of the parent's without close-on-exec is not
// inherited; stdio is.
ASYNCIO_TEST(Subprocess, CloseFds) {
    int fd = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC: it would be inherited
    EXPECT_GT(fd, 2);
    const std::string cmd = "[ -e /proc/self/fd/" + std::to_string(fd) + " ] && echo open || echo closed";
    Process a = co_await asyncio::create_subprocess_shell(cmd, pipes(false, true, false));
    auto ra = co_await a.communicate();
    EXPECT_EQ(ra.first, std::optional<std::string>("closed\n"));
    SubprocessOptions keep = pipes(false, true, false);
    keep.close_fds = false;
    Process b = co_await asyncio::create_subprocess_shell(cmd, keep);
    auto rb = co_await b.communicate();
    EXPECT_EQ(rb.first, std::optional<std::string>("open\n"));
    ::close(fd);
}

// test_cancel_process_wait: a cancelled wait() leaves the child running; it is still reaped.
ASYNCIO_TEST(Subprocess, CancelWait) {
    const std::vector<std::string> args = argv({"100"});
    Process proc = co_await asyncio::create_subprocess_exec("sleep", args);
    auto waiter = asyncio::get_running_loop().create_task(proc.wait());
    co_await asyncio::sleep(0);
    waiter.cancel();
    bool cancelled = false;
    try {
        co_await waiter;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(proc.returncode());
    EXPECT_EQ(::kill(proc.pid(), 0), 0);  // still running
    proc.kill();
    EXPECT_EQ(co_await proc.wait(), -SIGKILL);
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// test_cancel_communicate (make_subprocess + communicate cancelled): the child keeps running.
ASYNCIO_TEST(Subprocess, CancelCommunicate) {
    const std::vector<std::string> no_args;
    Process proc = co_await asyncio::create_subprocess_exec("cat", no_args, pipes(true, true, false));
    proc.std_in()->write("partial");
    auto talking = asyncio::get_running_loop().create_task(proc.communicate());
    co_await asyncio::sleep(0);
    talking.cancel();
    bool cancelled = false;
    try {
        co_await talking;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    proc.kill();
    const int rc = co_await proc.wait();
    EXPECT_TRUE(rc == -SIGKILL || rc == 0);  // cat may have seen its stdin closed first
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

namespace {

struct Events : asyncio::SubprocessProtocol {
    std::vector<std::string> events;
    std::string out;
    std::string err;
    asyncio::Event done;
    asyncio::SubprocessTransport* transport = nullptr;
    void connection_made(asyncio::SubprocessTransport& t) override {
        transport = &t;
        events.emplace_back("made");
    }
    void pipe_data_received(int fd, std::string_view data) override { (fd == 1 ? out : err).append(data); }
    void pipe_connection_lost(int fd, std::exception_ptr exc) override { events.push_back("pipe_lost " + std::to_string(fd) + (exc ? " error" : "")); }
    void process_exited() override { events.emplace_back("exited " + std::to_string(transport->get_returncode().value_or(-1000))); }
    void connection_lost(std::exception_ptr exc) override {
        events.emplace_back(exc ? "lost error" : "lost");
        done.set();
    }
};

}  // namespace

// test_subprocess_exec (test_events.py SubprocessTestsMixin): the low-level protocol's
// events: made first, each pipe's end, the exit, connection_lost last; the transport's
// pid, returncode and pipe transports.
ASYNCIO_TEST(Subprocess, ProtocolEvents) {
    auto& loop = asyncio::get_running_loop();
    const std::vector<std::string> args = argv({"sh", "-c", "read line; echo \"got $line\"; echo oops >&2; exit 5"});
    auto [transport, proto] = co_await loop.subprocess_exec([] { return std::make_unique<Events>(); }, args);
    EXPECT_EQ(proto->events, std::vector<std::string>{"made"});
    EXPECT_GT(transport->get_pid(), 0);
    asyncio::Transport* in = transport->get_pipe_transport(0);
    EXPECT_NE(in, nullptr);
    EXPECT_NE(transport->get_pipe_transport(1), nullptr);
    EXPECT_NE(transport->get_pipe_transport(2), nullptr);
    EXPECT_EQ(transport->get_pipe_transport(3), nullptr);
    in->write("hi\n");
    co_await proto->done.wait();
    EXPECT_EQ(proto->out, "got hi\n");
    EXPECT_EQ(proto->err, "oops\n");
    EXPECT_EQ(transport->get_returncode(), std::optional<int>(5));
    EXPECT_EQ(proto->events.front(), "made");
    EXPECT_EQ(proto->events.back(), "lost");
    EXPECT_EQ(proto->events.size(), 6u);  // made, 3 pipe ends, exited, lost
    bool lookup = false;
    try {
        transport->kill();
    } catch (const asyncio::ProcessLookupError&) {
        lookup = true;  // CPython's _check_proc after connection_lost
    }
    EXPECT_TRUE(lookup);
    EXPECT_EQ(co_await transport->wait(), 5);
}

// test_close_kill_running (test_subprocess.py): close() kills a running child; its exit
// still ends the transport.
ASYNCIO_TEST(Subprocess, CloseKillsRunningChild) {
    auto& loop = asyncio::get_running_loop();
    const std::vector<std::string> args = argv({"sleep", "100"});
    auto [transport, proto] = co_await loop.subprocess_exec([] { return std::make_unique<Events>(); }, args);
    transport->close();
    EXPECT_TRUE(transport->is_closing());
    co_await proto->done.wait();
    EXPECT_EQ(transport->get_returncode(), std::optional<int>(-SIGKILL));
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// The fallback watcher (pidfd refused: a thread per child in waitpid) gives the same
// results, also for a killed child.
ASYNCIO_TEST(Subprocess, ThreadWatcherFallback) {
    asyncio::testing::set_pidfd_refused(true);
    Process a = co_await asyncio::create_subprocess_shell("echo via thread; exit 9", pipes(false, true, false));
    auto [out, err] = co_await a.communicate();
    EXPECT_EQ(out, std::optional<std::string>("via thread\n"));
    EXPECT_EQ(a.returncode(), std::optional<int>(9));
    const std::vector<std::string> args = argv({"100"});
    Process b = co_await asyncio::create_subprocess_exec("sleep", args);
    b.kill();
    EXPECT_EQ(co_await b.wait(), -SIGKILL);
    asyncio::testing::set_pidfd_refused(false);
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

namespace {

// The child's mask of blocked signals and of ignored ones, from its /proc/self/status.
struct ChildSignals {
    unsigned long long blocked = ~0ULL;
    unsigned long long ignored = ~0ULL;
};

Coro<ChildSignals> child_signals(bool restore_signals) {
    SubprocessOptions o = pipes(false, true, false);
    o.restore_signals = restore_signals;
    const std::vector<std::string> args = argv({"-E", "^Sig(Blk|Ign):", "/proc/self/status"});
    Process p = co_await asyncio::create_subprocess_exec("grep", args, o);
    auto [out, err] = co_await p.communicate();
    ChildSignals got;
    const std::string text = out.value_or("");
    for (const char* key : {"SigBlk:", "SigIgn:"}) {
        const std::size_t at = text.find(key);
        if (at == std::string::npos) continue;
        const unsigned long long v = std::stoull(text.substr(at + 7), nullptr, 16);
        (key[3] == 'B' ? got.blocked : got.ignored) = v;
    }
    co_return got;
}

// What the spawn sets up, seen from the child, for both spawn paths (the clone3 fast path
// and posix_spawn): stdio with stderr into stdout, the environment with its own PATH for the
// lookup, cwd, a new session and a process group, the errors with CPython's texts, and the
// signals: the parent thread's mask is not inherited (emptied), and an ignored SIGPIPE is
// back to its default action unless restore_signals is false (CPython's restore_signals).
Coro<void> check_spawn_setup() {
    {
        SubprocessOptions o = pipes(true, true, false);
        o.std_err = sp::STDOUT;
        const std::vector<std::string> args = argv({"-c", "read line; echo \"out:$line\"; echo err >&2"});
        Process p = co_await asyncio::create_subprocess_exec("sh", args, o);
        auto [out, err] = co_await p.communicate(std::string("hi\n"));
        EXPECT_EQ(out, std::optional<std::string>("out:hi\nerr\n"));
        EXPECT_EQ(p.returncode(), std::optional<int>(0));
    }
    {
        SubprocessOptions o = pipes(false, true, false);
        o.env = std::map<std::string, std::string>{{"FOO", "x"}, {"PATH", "/nonexistent:/usr/bin:/bin"}};
        o.cwd = "/tmp";
        const std::vector<std::string> args = argv({"-c", "echo \"$FOO\"; pwd"});
        Process p = co_await asyncio::create_subprocess_exec("sh", args, o);
        auto [out, err] = co_await p.communicate();
        EXPECT_EQ(out, std::optional<std::string>("x\n/tmp\n"));
    }
    {
        SubprocessOptions o = pipes(false, true, false);
        o.start_new_session = true;
        const std::vector<std::string> args = argv({"-c", "read pid comm state ppid pgrp sid rest < /proc/$$/stat; [ \"$sid\" = \"$$\" ] && echo leader"});
        Process p = co_await asyncio::create_subprocess_exec("sh", args, o);
        auto [out, err] = co_await p.communicate();
        EXPECT_EQ(out, std::optional<std::string>("leader\n"));
    }
    {
        SubprocessOptions o = pipes(false, true, false);
        o.process_group = 0;  // a group of its own, numbered by its pid
        const std::vector<std::string> args = argv({"-c", "read pid comm state ppid pgrp sid rest < /proc/$$/stat; [ \"$pgrp\" = \"$$\" ] && echo own group"});
        Process p = co_await asyncio::create_subprocess_exec("sh", args, o);
        auto [out, err] = co_await p.communicate();
        EXPECT_EQ(out, std::optional<std::string>("own group\n"));
    }
    const SubprocessOptions defaults;
    const std::string missing = co_await spawn_error<asyncio::FileNotFoundError>("no-such-program-here", defaults);
    EXPECT_EQ(missing, "[Errno 2] No such file or directory: 'no-such-program-here'");
    SubprocessOptions file_cwd;
    file_cwd.cwd = "/etc/passwd";
    const std::string not_dir = co_await spawn_error<asyncio::NotADirectoryError>("true", file_cwd);
    EXPECT_EQ(not_dir, "[Errno 20] Not a directory: '/etc/passwd'");
    const std::string denied = co_await spawn_error<asyncio::PermissionError>("/etc/passwd", defaults);
    EXPECT_EQ(denied, "[Errno 13] Permission denied: '/etc/passwd'");

    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction old_pipe {};
    ::sigaction(SIGPIPE, &ignore, &old_pipe);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigset_t old_mask;
    ::pthread_sigmask(SIG_BLOCK, &usr2, &old_mask);
    const ChildSignals restored = co_await child_signals(true);
    const ChildSignals kept = co_await child_signals(false);
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    const unsigned long long pipe_bit = 1ULL << (SIGPIPE - 1);
    EXPECT_EQ(restored.blocked, 0ULL);
    EXPECT_EQ(restored.ignored & pipe_bit, 0ULL);
    EXPECT_EQ(kept.blocked, 0ULL);
    EXPECT_EQ(kept.ignored & pipe_bit, pipe_bit);
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// The kernel takes the fast path (clone3 with CLONE_CLEAR_SIGHAND, Linux 5.5; close_range,
// 5.9) unless it is older or a filter refuses it; then the spawns go to posix_spawn.
bool kernel_has_fast_spawn() {
    utsname u{};
    if (::uname(&u) != 0) return false;
    int major = 0;
    int minor = 0;
    if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    if (major < 5 || (major == 5 && minor < 9)) return false;
    // A seccomp filter may refuse clone3 (Docker's default profile answers ENOSYS, so that
    // libc falls back to clone): a clone3 with no arguments is EINVAL where it is allowed.
    errno = 0;
    const long r = ::syscall(SYS_clone3, nullptr, 0);
    return r < 0 && errno == EINVAL;
}

}  // namespace

// The spawn's fast path (src/spawn_clone.cpp) does all of the above, and is the one taken.
ASYNCIO_TEST(Subprocess, FastSpawnSetup) {
    const std::size_t before = asyncio::testing::fast_spawns();
    co_await check_spawn_setup();
#if defined(__x86_64__)
    // The six that started, by the fast path where the kernel allows it, else none.
    EXPECT_EQ(asyncio::testing::fast_spawns(), before + (kernel_has_fast_spawn() ? 6 : 0));
#endif
}

// posix_spawn, where the fast path is refused, does the same.
ASYNCIO_TEST(Subprocess, PosixSpawnSetup) {
    asyncio::testing::set_fast_spawn_refused(true);
    const std::size_t before = asyncio::testing::fast_spawns();
    co_await check_spawn_setup();
    EXPECT_EQ(asyncio::testing::fast_spawns(), before);
    asyncio::testing::set_fast_spawn_refused(false);
}

// A Process dropped while its child runs: its pipes close (cat sees the end of its stdin
// and exits) and the child is reaped by the loop — no zombie.
ASYNCIO_TEST(Subprocess, DroppedProcessIsReaped) {
    pid_t pid = 0;
    {
        const std::vector<std::string> no_args;
        Process proc = co_await asyncio::create_subprocess_exec("cat", no_args, pipes(true, true, false));
        pid = proc.pid();
    }
    co_await asyncio::testing::run_until_idle();  // the pipes' transports close their fds
    wait_exited_unreaped(pid);
    for (int i = 0; i < 10 && asyncio_test::count_children() != 0; ++i) co_await asyncio::testing::run_until_idle();
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// The loop closed while a child runs: the child is an orphan, reaped by the next spawn once
// it has exited (Tokio's orphan queue), never left a zombie.
TEST(Subprocess, OrphanOfAClosedLoopIsReaped) {
    pid_t pid = 0;
    {
        asyncio::EventLoop loop;
        pid = loop.run_until_complete([]() -> Coro<pid_t> {
            const std::vector<std::string> args = argv({"0.05"});
            Process proc = co_await asyncio::create_subprocess_exec("sleep", args);
            co_return proc.pid();
        }());
        loop.close();
    }
    EXPECT_EQ(asyncio::testing::orphaned_children(), 1u);
    wait_exited_unreaped(pid);
    EXPECT_EQ(asyncio_test::count_children('Z'), 1);
    {
        asyncio::EventLoop loop;
        int rc = loop.run_until_complete([]() -> Coro<int> {
            Process p = co_await asyncio::create_subprocess_shell("exit 0");
            co_return co_await p.wait();
        }());
        EXPECT_EQ(rc, 0);
        loop.close();
    }
    EXPECT_EQ(asyncio::testing::orphaned_children(), 0u);
    EXPECT_EQ(asyncio_test::count_children(), 0);
}

// 1,000 children, at most 16 at a time (a Semaphore and a TaskGroup): every exit code
// collected, no fd and no child left.
ASYNCIO_TEST(Subprocess, ThousandChildrenBounded) {
    const std::size_t fds = asyncio_test::open_fds();
    asyncio::Semaphore slots(16);
    int ok = 0;
    int running = 0;
    int most = 0;
    auto one = [](asyncio::Semaphore& s, int& done, int& now, int& peak) -> Coro<void> {
        co_await s.acquire();
        ++now;
        peak = std::max(peak, now);
        Process p = co_await asyncio::create_subprocess_exec("true");
        if (co_await p.wait() == 0) ++done;
        --now;
        s.release();
    };
    auto body = [&](asyncio::TaskGroup& tg) -> Coro<> {
        for (int i = 0; i < 1000; ++i) tg.create_task(one(slots, ok, running, most));
        co_return;
    };
    co_await asyncio::TaskGroup::run(body);
    EXPECT_EQ(ok, 1000);
    EXPECT_LE(most, 16);
    EXPECT_EQ(asyncio_test::open_fds(), fds);
    EXPECT_EQ(asyncio_test::count_children(), 0);
}
