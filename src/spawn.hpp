// src/spawn.hpp: starting a child process with posix_spawn (glibc's runs it on a vfork-style
// clone: no copy of the parent's memory), its stdio redirected as CPython's Popen does.
// Used by the subprocess transport (src/subprocess_transport.cpp). Never installed.
#pragma once

#include <asyncio/subprocess.hpp>

#include <sys/types.h>

#include <array>
#include <string>
#include <vector>

namespace asyncio::detail {

struct SpawnedChild {
    pid_t pid = -1;
    // The parent's end of each stdio pipe (stdin's write end, stdout's and stderr's read
    // ends), -1 where that stream is no pipe; owned by the caller, close-on-exec.
    std::array<int, 3> pipes{-1, -1, -1};
};

// Starts `args` (args[0] the program, or options.executable) as `options` say. Throws the
// OSError subclass of the failure with CPython's text ("[Errno 2] No such file or
// directory: 'prog'"), ValueError for bad arguments; nothing is left open then.
SpawnedChild spawn_child(const std::vector<std::string>& args, const SubprocessOptions& options);

}  // namespace asyncio::detail
