// src/spawn_clone.cpp: the spawn's fast path (src/spawn.hpp), a clone3(CLONE_VM | CLONE_VFORK
// | CLONE_CLEAR_SIGHAND | CLONE_PIDFD) whose child runs a few raw system calls of ours and
// execs. Against glibc's posix_spawn it saves the child's sweep over the 64 signal
// dispositions (about 120 sigaction calls: the kernel resets the handlers at the clone
// instead), the stack's mmap/munmap, a prlimit and the pidfd_open. Where the kernel refuses
// (before 5.5, seccomp, valgrind) or the CPU is not x86-64, the caller uses posix_spawn.
// Why the child may run no library code at all: docs/design/subprocesses.md.
#include "spawn.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>

namespace asyncio::detail {

#if defined(__x86_64__) && defined(__linux__)

namespace {

std::atomic<bool> g_clone_refused{false};
std::atomic<std::size_t> g_clone_spawns{0};

// The child shares the parent's memory, stack aside, and the parent's thread-local storage:
// it may call no function that takes a lock, allocates, sets errno or is instrumented by a
// sanitizer. So its system calls are made here, inline, and fail as -errno.
[[gnu::always_inline]] inline long raw_syscall(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
    long r;
    register long r10 asm("r10") = d;
    asm volatile("syscall"
                 : "=a"(r)
                 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                 : "rcx", "r11", "memory");
    return r;
}

// The kernel's struct sigaction for rt_sigaction (not libc's).
struct KernelSigaction {
    void* handler;
    unsigned long flags;
    void* restorer;
    std::uint64_t mask;
};

// What the child reads (prepared by the parent) and writes back (its failure).
struct ChildJob {
    const SpawnPlan* plan;
    const char* const* candidates;  // the paths to exec, in order, null-terminated
    int err;                        // the child's errno, 0 if it exec'd
    CloneFailure stage;
};

[[noreturn]] [[gnu::always_inline]] inline void child_fail(ChildJob* job, long err, CloneFailure stage) {
    job->err = static_cast<int>(-err);
    job->stage = stage;
    for (;;) raw_syscall(SYS_exit_group, 127);
}

// The child: on the clone's own stack, until execve replaces it or it exits with 127.
// (GNU-style attribute: g++ and clang both take it in this spelling.)
[[noreturn, gnu::noinline]] __attribute__((no_sanitize("address", "thread", "undefined"))) void child_main(ChildJob* job) {
    const SpawnPlan& p = *job->plan;
    long r = 0;
    if (p.restore_signals) {
        // Handlers were reset by the clone; an ignored SIGPIPE or SIGXFSZ is not.
        KernelSigaction dfl;
        dfl.handler = nullptr;  // SIG_DFL
        dfl.flags = 0;
        dfl.restorer = nullptr;
        dfl.mask = 0;
        for (long sig : {long{SIGPIPE}, long{SIGXFSZ}})
            if ((r = raw_syscall(SYS_rt_sigaction, sig, reinterpret_cast<long>(&dfl), 0, 8)) < 0) child_fail(job, r, CloneFailure::setup);
    }
    if (p.new_session && (r = raw_syscall(SYS_setsid)) < 0) child_fail(job, r, CloneFailure::setup);
    if (p.process_group >= 0 && (r = raw_syscall(SYS_setpgid, 0, p.process_group)) < 0) child_fail(job, r, CloneFailure::setup);
    for (int i = 0; i < 3; ++i) {
        const int src = p.source[static_cast<std::size_t>(i)];
        if (src == -1) continue;
        if ((r = raw_syscall(SYS_dup2, src == -2 ? 1 : src, i)) < 0) child_fail(job, r, CloneFailure::setup);
    }
    if (p.cwd && (r = raw_syscall(SYS_chdir, reinterpret_cast<long>(p.cwd))) < 0) child_fail(job, r, CloneFailure::chdir);
    if (p.close_fds && (r = raw_syscall(SYS_close_range, 3, ~0U, 0)) < 0) child_fail(job, r, CloneFailure::close_fds);
    const std::uint64_t none = 0;
    if ((r = raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&none), 0, 8)) < 0) child_fail(job, r, CloneFailure::setup);

    // The exec, in each candidate directory in turn: ENOENT, ENOTDIR and EACCES try the next
    // (EACCES wins over a later ENOENT), any other error stops.
    long err = -ENOENT;
    bool denied = false;
    for (const char* const* c = job->candidates; *c; ++c) {
        err = raw_syscall(SYS_execve, reinterpret_cast<long>(*c), reinterpret_cast<long>(p.argv), reinterpret_cast<long>(p.envp));
        if (err == -EACCES) denied = true;
        if (err != -ENOENT && err != -ENOTDIR && err != -EACCES) break;
    }
    if (err == -ENOENT && denied) err = -EACCES;
    child_fail(job, err, CloneFailure::exec);
}

struct CloneArgs {  // the kernel's struct clone_args
    std::uint64_t flags;
    std::uint64_t pidfd;
    std::uint64_t child_tid;
    std::uint64_t parent_tid;
    std::uint64_t exit_signal;
    std::uint64_t stack;
    std::uint64_t stack_size;
    std::uint64_t tls;
};

constexpr std::uint64_t clone_vm = 0x100;
constexpr std::uint64_t clone_pidfd = 0x1000;
constexpr std::uint64_t clone_vfork = 0x4000;
constexpr std::uint64_t clone_clear_sighand = 0x100000000ULL;

// clone3 with the child on `args->stack`: the child starts on the fresh stack right after the
// syscall instruction, so it must call child_main from there, in the same asm statement.
// Returns the child's pid, or -errno.
long clone_and_run(CloneArgs* args, ChildJob* job) {
    long ret;
    register ChildJob* r12 asm("r12") = job;
    register void (*r13)(ChildJob*) asm("r13") = &child_main;
    asm volatile(
        "syscall\n\t"
        "testq %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xorl %%ebp, %%ebp\n\t"  // the child: no frame above this one
        "movq %%r12, %%rdi\n\t"
        "callq *%%r13\n\t"
        "ud2\n"  // (child_main never returns)
        "1:"
        : "=a"(ret)
        : "a"(long{SYS_clone3}), "D"(args), "S"(sizeof(CloneArgs)), "r"(r12), "r"(r13)
        : "rcx", "r11", "memory");
    return ret;
}

}  // namespace

CloneOutcome spawn_by_clone(const SpawnPlan& plan, const char* const* candidates, bool want_pidfd) noexcept {
    CloneOutcome out;
    if (g_clone_refused.load(std::memory_order_relaxed)) {
        out.unavailable = true;
        return out;
    }
    // The child's stack: the parent's own frame, which waits (CLONE_VFORK) until the child
    // has exec'd or exited. child_main needs a few hundred bytes.
    alignas(64) unsigned char stack[8192];
    ChildJob job{&plan, candidates, 0, CloneFailure::none};
    int pidfd = -1;
    CloneArgs args{};
    args.flags = clone_vm | clone_vfork | clone_clear_sighand | (want_pidfd ? clone_pidfd : 0);
    args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    args.stack = reinterpret_cast<std::uint64_t>(stack);
    args.stack_size = sizeof stack;
    const long pid = clone_and_run(&args, &job);
    if (pid < 0) {
        if (pid == -ENOSYS || pid == -EINVAL || pid == -EPERM) {
            g_clone_refused.store(true, std::memory_order_relaxed);  // the kernel says no
            out.unavailable = true;
        } else {
            out.err = static_cast<int>(-pid);  // EAGAIN, ENOMEM: the spawn's failure
            out.stage = CloneFailure::setup;
        }
        return out;
    }
    if (job.err != 0) {
        // The child failed before its exec and exited: reap it here.
        int status = 0;
        while (::waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
        }
        if (pidfd >= 0) ::close(pidfd);
        if (job.stage == CloneFailure::close_fds && job.err == ENOSYS) {
            g_clone_refused.store(true, std::memory_order_relaxed);  // no close_range (before 5.9)
            out.unavailable = true;
            return out;
        }
        out.err = job.err;
        out.stage = job.stage;
        return out;
    }
    g_clone_spawns.fetch_add(1, std::memory_order_relaxed);
    out.pid = static_cast<pid_t>(pid);
    out.pidfd = pidfd;
    return out;
}

void set_clone_refused(bool refused) noexcept { g_clone_refused.store(refused, std::memory_order_relaxed); }
std::size_t clone_spawns() noexcept { return g_clone_spawns.load(std::memory_order_relaxed); }

#else  // not x86-64 Linux: posix_spawn always

CloneOutcome spawn_by_clone(const SpawnPlan&, const char* const*, bool) noexcept {
    CloneOutcome out;
    out.unavailable = true;
    return out;
}
void set_clone_refused(bool) noexcept {}
std::size_t clone_spawns() noexcept { return 0; }

#endif

}  // namespace asyncio::detail
