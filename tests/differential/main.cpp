// tests/differential/main.cpp: `differential_programs NAME` runs one program on the
// virtual clock; `differential_programs --list` prints the names;
// `differential_programs --interpret FILE` runs a generated program (interp.cpp).
#include "diff.hpp"

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
        for (const auto& [name, p] : diff::registry()) std::printf("%s\n", name.c_str());
        return 0;
    }
    if (argc == 3 && std::strcmp(argv[1], "--interpret") == 0) return diff::interpret(argv[2]);
    if (argc != 2 || !diff::registry().contains(argv[1])) {
        std::fprintf(stderr, "usage: differential_programs NAME | --list | --interpret FILE\n");
        return 2;
    }
    asyncio::testing::run(diff::registry()[argv[1]]());
    return 0;
}
