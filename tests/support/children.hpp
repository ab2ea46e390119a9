// tests/support/children.hpp: what the subprocess tests count: this process's children,
// running or zombie, from /proc.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace asyncio_test {

// The children of this process whose state is `state` ('Z': zombies), or all (0).
inline int count_children(char state = 0) {
    int n = 0;
    DIR* d = ::opendir("/proc");
    if (!d) return -1;
    const pid_t self = ::getpid();
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
        std::string line;
        if (!std::getline(in, line)) continue;
        // pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
        const std::size_t close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 1));
        char st = 0;
        long ppid = 0;
        rest >> st >> ppid;
        if (ppid == self && (state == 0 || st == state)) ++n;
    }
    ::closedir(d);
    return n;
}

}  // namespace asyncio_test
