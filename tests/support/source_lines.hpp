// tests/support/source_lines.hpp: the line of a test's own source that carries a marker
// comment, for tests that check the places the await graph and the reports name.
#pragma once

#include <fstream>
#include <regex>
#include <string>

namespace asyncio_test {

// The number of the line of `file` (a test's __FILE__) that ends with `// @marker`.
inline std::string line_of(const char* file, const std::string& marker) {
    std::ifstream in(file);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
        if (line.ends_with("// @" + marker)) return std::to_string(n);
    return "(no line marked " + marker + ")";
}

// `text` with each `id=0x...` written `id=ID`: the graph's addresses change from run to run.
inline std::string without_ids(const std::string& text) { return std::regex_replace(text, std::regex("id=0x[0-9a-f]+"), "id=ID"); }

// `text` with the coroutine names of the graph's `File '...', line N, in async NAME` lines
// written `NAME`: compilers spell lambdas differently (g++ `TestBody()::<lambda()>`, clang
// 14 `operator()`).
inline std::string without_functions(const std::string& text) { return std::regex_replace(text, std::regex("(, in async )[^\n]*"), "$1NAME"); }

}  // namespace asyncio_test
