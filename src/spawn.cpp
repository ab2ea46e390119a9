// src/spawn.cpp: spawn_child (src/spawn.hpp): the plan (stdio sources, argv, environment, the
// paths to exec), then the fast path (src/spawn_clone.cpp) or posix_spawn, whose file actions
// and attributes do the same: the child's signal mask is emptied and SIGPIPE / SIGXFSZ put
// back to their default action (CPython's restore_signals); every fd above 2 is closed in the
// child (close_fds) unless the caller asked otherwise. How and why: docs/design/subprocesses.md.
#include "spawn.hpp"

#include "child_watcher.hpp"  // pidfd_refused

#include <asyncio/exceptions.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace asyncio::detail {
namespace {

// Fds the spawn opened and closes again, whatever happens (the child has its copies).
class FdList {
public:
    FdList() = default;
    FdList(const FdList&) = delete;
    FdList& operator=(const FdList&) = delete;
    ~FdList() {
        for (int fd : fds_) ::close(fd);
    }
    int add(int fd) {
        fds_.push_back(fd);
        return fd;
    }
    // Keeps `fd` open: it is the caller's now.
    void release(int fd) noexcept {
        for (int& f : fds_)
            if (f == fd) f = -1;
    }

private:
    std::vector<int> fds_;
};

[[noreturn]] void throw_errno(int err, const std::string& name) {
    std::string text = std::system_category().message(err);
    if (!name.empty()) text += ": '" + name + "'";
    throw_os_error(err, text);
}

void check_arg(const std::string& s) {
    if (s.find('\0') != std::string::npos) throw ValueError("embedded null byte");
}

// What posix_spawn's file actions and attributes hold, freed on every path.
struct SpawnSetup {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attr{};
    bool have_actions = false;
    bool have_attr = false;
    SpawnSetup() {
        if (int err = ::posix_spawn_file_actions_init(&actions)) throw_errno(err, {});
        have_actions = true;
        if (int err = ::posix_spawnattr_init(&attr)) throw_errno(err, {});
        have_attr = true;
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
    ~SpawnSetup() {
        if (have_actions) ::posix_spawn_file_actions_destroy(&actions);
        if (have_attr) ::posix_spawnattr_destroy(&attr);
    }
};

void check(int err) {
    if (err != 0) throw_errno(err, {});
}

// An fd the child is to get as 0, 1 or 2 must itself be above 2, or setting up one stream
// could overwrite the source of another (a parent that closed its stdin gets fd 0 from
// pipe2): such an fd is duplicated upwards first.
int above_stdio(int fd, FdList& opened) {
    if (fd > 2) return fd;
    int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (high < 0) throw_errno(errno, {});
    return opened.add(high);
}

// The directories of the child's PATH (CPython's os.get_exec_path): that of `env` if given,
// else the parent's; os.defpath if there is none.
std::vector<std::string> exec_path(const std::optional<std::map<std::string, std::string>>& env) {
    std::string_view path = "/bin:/usr/bin";
    if (env) {
        auto it = env->find("PATH");
        if (it != env->end()) path = it->second;
    } else if (const char* p = std::getenv("PATH")) {  // NOLINT(concurrency-mt-unsafe): read only, as posix_spawnp does
        path = p;
    }
    std::vector<std::string> dirs;
    while (true) {
        std::size_t colon = path.find(':');
        std::string_view dir = path.substr(0, colon);
        dirs.emplace_back(dir.empty() ? "." : dir);
        if (colon == std::string_view::npos) break;
        path.remove_prefix(colon + 1);
    }
    return dirs;
}

// The plan as posix_spawn's file actions and attributes, each of `candidates` (null-terminated)
// tried in turn as the fast path's child does: ENOENT, ENOTDIR and EACCES try the next
// (EACCES wins over a later ENOENT), any other error stops. Returns 0 or the errno.
int spawn_by_posix_spawn(const SpawnPlan& plan, const char* const* candidates, pid_t& pid) {
    SpawnSetup setup;
    for (int i = 0; i < 3; ++i) {
        const int src = plan.source[static_cast<std::size_t>(i)];
        if (src >= 0) check(::posix_spawn_file_actions_adddup2(&setup.actions, src, i));
        if (src == -2) check(::posix_spawn_file_actions_adddup2(&setup.actions, 1, 2));
    }
    if (plan.cwd) check(::posix_spawn_file_actions_addchdir_np(&setup.actions, plan.cwd));
    if (plan.close_fds) check(::posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3));

    short flags = POSIX_SPAWN_SETSIGMASK;
    sigset_t none;
    sigemptyset(&none);
    check(::posix_spawnattr_setsigmask(&setup.attr, &none));
    if (plan.restore_signals) {
        sigset_t defaults;
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        sigaddset(&defaults, SIGXFSZ);
        check(::posix_spawnattr_setsigdefault(&setup.attr, &defaults));
        flags |= POSIX_SPAWN_SETSIGDEF;
    }
    if (plan.new_session) flags |= POSIX_SPAWN_SETSID;
    if (plan.process_group >= 0) {
        check(::posix_spawnattr_setpgroup(&setup.attr, plan.process_group));
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    check(::posix_spawnattr_setflags(&setup.attr, flags));

    int err = ENOENT;
    bool denied = false;
    for (const char* const* c = candidates; *c; ++c) {
        err = ::posix_spawn(&pid, *c, &setup.actions, &setup.attr, plan.argv, plan.envp);
        if (err == 0) break;
        if (err == EACCES) denied = true;
        if (err != ENOENT && err != ENOTDIR && err != EACCES) break;
    }
    if (err == ENOENT && denied) err = EACCES;
    return err;
}

}  // namespace

SpawnedChild spawn_child(const std::vector<std::string>& args, const SubprocessOptions& options) {
    if (args.empty()) throw ValueError("subprocess: no program to run (args is empty)");
    for (const std::string& a : args) check_arg(a);
    const std::string& program = options.executable ? *options.executable : args[0];
    check_arg(program);
    if (program.empty()) throw_errno(ENOENT, program);

    FdList opened;  // closed at the end: the child has its copies
    SpawnedChild child;
    std::array<int, 3> source{-1, -1, -1};  // what the child gets as 0, 1, 2 (-1: inherited)
    const std::array<std::optional<int>, 3> specs{options.std_in, options.std_out, options.std_err};
    std::optional<int> devnull;
    for (int i = 0; i < 3; ++i) {
        const std::optional<int>& spec = specs[static_cast<std::size_t>(i)];
        if (!spec) continue;
        const int v = *spec;
        if (v == subprocess::PIPE) {
            std::array<int, 2> p{};
            if (::pipe2(p.data(), O_CLOEXEC) != 0) throw_errno(errno, {});
            opened.add(p[0]);
            opened.add(p[1]);
            const int parent_end = i == 0 ? p[1] : p[0];
            const int child_end = i == 0 ? p[0] : p[1];
            child.pipes[static_cast<std::size_t>(i)] = parent_end;
            source[static_cast<std::size_t>(i)] = above_stdio(child_end, opened);
        } else if (v == subprocess::DEVNULL) {
            if (!devnull) {
                int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
                if (fd < 0) throw_errno(errno, "/dev/null");
                devnull = above_stdio(opened.add(fd), opened);
            }
            source[static_cast<std::size_t>(i)] = *devnull;
        } else if (v == subprocess::STDOUT) {
            if (i != 2) throw ValueError("subprocess.STDOUT can only be given for stderr");
            source[2] = -2;  // a copy of the child's fd 1, made after it
        } else if (v >= 0) {
            if (::fcntl(v, F_GETFD) < 0) throw_errno(errno, {});
            source[static_cast<std::size_t>(i)] = above_stdio(v, opened);
        } else {
            throw ValueError("subprocess: a stream is PIPE, DEVNULL, STDOUT (stderr only), an fd or unset, not " + std::to_string(v));
        }
    }

    if (options.cwd) check_arg(*options.cwd);

    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));  // NOLINT(cppcoreguidelines-pro-type-const-cast): execve's signature
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    std::vector<char*> envp;
    char** env = environ;
    if (options.env) {
        for (const auto& [k, v] : *options.env) {
            check_arg(k);
            check_arg(v);
            if (k.empty() || k.find('=') != std::string::npos) throw ValueError("illegal environment variable name");
            std::string entry = k;
            entry += '=';
            entry += v;
            env_strings.push_back(std::move(entry));
        }
        for (std::string& s : env_strings) envp.push_back(s.data());
        envp.push_back(nullptr);
        env = envp.data();
    }

    // The paths to exec, in order: the program itself if it names a path, else the program
    // in each directory of the child's PATH.
    std::vector<std::string> candidates;
    if (program.find('/') != std::string::npos) {
        candidates.push_back(program);
    } else {
        for (std::string& dir : exec_path(options.env)) {
            dir += '/';
            dir += program;
            candidates.push_back(std::move(dir));
        }
    }

    SpawnPlan plan;
    plan.source = source;
    plan.cwd = options.cwd ? options.cwd->c_str() : nullptr;
    plan.close_fds = options.close_fds;
    plan.restore_signals = options.restore_signals;
    plan.new_session = options.start_new_session;
    plan.process_group = options.process_group.value_or(-1);
    plan.argv = argv.data();
    plan.envp = env;
    std::vector<const char*> paths;
    paths.reserve(candidates.size() + 1);
    for (const std::string& c : candidates) paths.push_back(c.c_str());
    paths.push_back(nullptr);
    const CloneOutcome fast = spawn_by_clone(plan, paths.data(), !pidfd_refused());
    if (!fast.unavailable) {
        if (fast.err != 0) {
            if (fast.stage == CloneFailure::chdir) throw_errno(fast.err, *options.cwd);
            throw_errno(fast.err, fast.stage == CloneFailure::exec ? program : std::string());
        }
        child.pid = fast.pid;
        child.pidfd = fast.pidfd;
        for (int fd : child.pipes)
            if (fd >= 0) opened.release(fd);
        return child;
    }

    // Refused: posix_spawn, with the same plan.
    const int err = spawn_by_posix_spawn(plan, paths.data(), child.pid);
    if (err != 0) {
        // The spawn cannot say whether the chdir or the exec failed: a cwd that is not an
        // enterable directory is named, as CPython names it.
        struct stat st {};
        if (options.cwd && (::stat(options.cwd->c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || ::access(options.cwd->c_str(), X_OK) != 0))
            throw_errno(err, *options.cwd);
        throw_errno(err, program);
    }
    for (int fd : child.pipes)
        if (fd >= 0) opened.release(fd);
    return child;
}

}  // namespace asyncio::detail
