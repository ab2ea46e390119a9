// asyncio/detail/source_site.hpp: a place in the source (file, line, function), taken at
// the call site as a default argument, for the await graph and the reports
// (docs/design/debugging.md).
//
// With the compiler's __builtin_source_location (g++ 11+, clang 15+) it is a
// std::source_location: one pointer to a constant the compiler made, so recording it is one
// store. clang 14 lacks that builtin (and libstdc++ then has no std::source_location); there
// it is the three values of __builtin_FILE/LINE/FUNCTION, three stores.
#pragma once

#include <cstdint>

#if defined(__has_include) && __has_include(<source_location>)
#include <source_location>
#endif

namespace asyncio::detail {

#if defined(__cpp_lib_source_location)
class SourceSite {
public:
    constexpr SourceSite() noexcept = default;
    constexpr SourceSite(std::source_location loc) noexcept : loc_(loc) {}  // NOLINT(google-explicit-constructor): the default argument's type
    [[nodiscard]] const char* file() const noexcept { return loc_.file_name(); }
    [[nodiscard]] const char* function() const noexcept { return loc_.function_name(); }
    [[nodiscard]] std::uint32_t line() const noexcept { return loc_.line(); }
    // False for a default-constructed site (nothing recorded).
    [[nodiscard]] bool known() const noexcept { return loc_.line() != 0; }

private:
    std::source_location loc_;
};
#else
class SourceSite {
public:
    constexpr SourceSite() noexcept = default;
    constexpr SourceSite(const char* file, const char* function, std::uint32_t line) noexcept : file_(file), function_(function), line_(line) {}
    static constexpr SourceSite current(const char* file = __builtin_FILE(), const char* function = __builtin_FUNCTION(), std::uint32_t line = __builtin_LINE()) noexcept {
        return SourceSite(file, function, line);
    }
    [[nodiscard]] const char* file() const noexcept { return file_; }
    [[nodiscard]] const char* function() const noexcept { return function_; }
    [[nodiscard]] std::uint32_t line() const noexcept { return line_; }
    [[nodiscard]] bool known() const noexcept { return line_ != 0; }

private:
    const char* file_ = "";
    const char* function_ = "";
    std::uint32_t line_ = 0;
};
#endif

}  // namespace asyncio::detail

// The default argument that records its call site: `SourceSite where = ASYNCIO_SOURCE_SITE`.
// (g++ reports a nested default argument's own place, not the outer call's: the argument must
// be std::source_location::current() itself there.)
#if defined(__cpp_lib_source_location)
#define ASYNCIO_SOURCE_SITE std::source_location::current()
#else
#define ASYNCIO_SOURCE_SITE ::asyncio::detail::SourceSite::current()
#endif
