// src/spawn.hpp: starting a child process on a vfork-style clone (no copy of the parent's
// memory), its stdio redirected as CPython's Popen does: our own clone3 where the kernel
// allows it (src/spawn_clone.cpp), else glibc's posix_spawn (src/spawn.cpp). Used by the
// subprocess transport (src/subprocess_transport.cpp). Never installed.
#pragma once

#include <asyncio/subprocess.hpp>

#include <sys/types.h>

#include <cstddef>

#include <array>
#include <string>
#include <vector>

namespace asyncio::detail {

struct SpawnedChild {
    pid_t pid = -1;
    // A pidfd for the child (close-on-exec, owned by the caller), or -1: open one yourself.
    int pidfd = -1;
    // The parent's end of each stdio pipe (stdin's write end, stdout's and stderr's read
    // ends), -1 where that stream is no pipe; owned by the caller, close-on-exec.
    std::array<int, 3> pipes{-1, -1, -1};
};

// Starts `args` (args[0] the program, or options.executable) as `options` say. Throws the
// OSError subclass of the failure with CPython's text ("[Errno 2] No such file or
// directory: 'prog'"), ValueError for bad arguments; nothing is left open then.
SpawnedChild spawn_child(const std::vector<std::string>& args, const SubprocessOptions& options);

// What the child is to do, prepared by the parent (the fast path's child may allocate
// nothing: everything it reads is here).
struct SpawnPlan {
    std::array<int, 3> source{-1, -1, -1};  // the child's 0, 1, 2 from: an fd > 2, -1 inherited, -2 a copy of its 1
    const char* cwd = nullptr;
    bool close_fds = true;
    bool restore_signals = true;
    bool new_session = false;
    pid_t process_group = -1;  // -1: none
    char* const* argv = nullptr;
    char* const* envp = nullptr;
};

// Where the fast path's child failed.
enum class CloneFailure : unsigned char {
    none,
    setup,
    chdir,
    close_fds,
    exec
};

struct CloneOutcome {
    bool unavailable = false;  // the kernel refused the fast path: use posix_spawn
    pid_t pid = -1;
    int pidfd = -1;
    int err = 0;  // the spawn failed with this errno (the child, if any, is reaped)
    CloneFailure stage = CloneFailure::none;
};

// Spawns `plan` with clone3, trying `candidates` (null-terminated paths) in order for the
// exec; a pidfd comes with the child if `want_pidfd`. (src/spawn_clone.cpp)
CloneOutcome spawn_by_clone(const SpawnPlan& plan, const char* const* candidates, bool want_pidfd) noexcept;
// Tests: take posix_spawn even where the fast path works (process-wide); and how many
// children the fast path started.
void set_clone_refused(bool refused) noexcept;
std::size_t clone_spawns() noexcept;

}  // namespace asyncio::detail
