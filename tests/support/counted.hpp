// tests/support/counted.hpp: Counted, a value that counts its live copies (cppcoro's
// counted.hpp), to prove that a frame and its arguments were destroyed.
#pragma once

struct Counted {
    static inline int alive_count = 0;
    static inline int constructed = 0;

    Counted() { ++alive_count, ++constructed; }
    Counted(const Counted&) { ++alive_count, ++constructed; }
    Counted(Counted&&) noexcept { ++alive_count, ++constructed; }
    Counted& operator=(const Counted&) = default;
    Counted& operator=(Counted&&) noexcept = default;
    ~Counted() { --alive_count; }

    static int alive() { return alive_count; }
    static void reset() { alive_count = 0, constructed = 0; }
};
