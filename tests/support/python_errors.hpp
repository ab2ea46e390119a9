// tests/support/python_errors.hpp: CPython built-in exceptions the library has no type for,
// as the ported tests raise them. Global, so that their names print plainly.
#pragma once

#include <stdexcept>

// `1 / 0`
struct ZeroDivisionError : std::runtime_error {
    ZeroDivisionError() : std::runtime_error("division by zero") {}
};
