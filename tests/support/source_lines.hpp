// tests/support/source_lines.hpp: the line of a test's own source that carries a marker
// comment, and the normalizations the await-graph and report tests compare with, for the
// places and names those reports carry. (No std::regex: g++ 12's -O1 -Wmaybe-uninitialized
// trips inside it under the sanitizer builds.)
#pragma once

#include <cctype>
#include <fstream>
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
inline std::string without_ids(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text.compare(i, 5, "id=0x") == 0) {
            out += "id=ID";
            i += 5;
            while (i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i]))) ++i;
        } else {
            out += text[i++];
        }
    }
    return out;
}

// Each line of `text` passed through `f(line)`, which returns the line to keep or nothing
// (an empty optional drops it).
template <class F>
std::string each_line(const std::string& text, F f) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        const bool newline = end != std::string::npos;
        if (!newline) end = text.size();
        std::string line = text.substr(start, end - start);
        if (f(line)) out += line + (newline ? "\n" : "");
        start = end + 1;
    }
    return out;
}

// `text` with the coroutine names of the graph's `File '...', line N, in async NAME` lines
// written `NAME`: compilers spell lambdas differently (g++ `TestBody()::<lambda()>`, clang
// 14 `operator()`).
inline std::string without_functions(const std::string& text) {
    return each_line(text, [](std::string& line) {
        const std::size_t at = line.find(", in async ");
        if (at != std::string::npos) line = line.substr(0, at) + ", in async NAME";
        return true;
    });
}

}  // namespace asyncio_test
