// Tests for asyncio/exceptions.hpp: the hierarchy (CPython's exceptions.py).
#include <asyncio/exceptions.hpp>

#include <gtest/gtest.h>

#include <type_traits>

// Python: CancelledError and KeyboardInterrupt are BaseException, not Exception.
TEST(Exceptions, HierarchyMatchesPython) {
    static_assert(std::is_base_of_v<asyncio::BaseException, asyncio::CancelledError>);
    static_assert(std::is_base_of_v<asyncio::BaseException, asyncio::KeyboardInterrupt>);
    static_assert(!std::is_base_of_v<std::exception, asyncio::CancelledError>);
    static_assert(!std::is_base_of_v<std::exception, asyncio::KeyboardInterrupt>);
    static_assert(std::is_base_of_v<std::exception, asyncio::TimeoutError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::InvalidStateError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::RuntimeError>);
    static_assert(std::is_base_of_v<std::invalid_argument, asyncio::ValueError>);
    bool by_std = false, by_base = false;
    try {
        try {
            throw asyncio::CancelledError("m");
        } catch (const std::exception&) {
            by_std = true;
        }
    } catch (const asyncio::BaseException& e) {
        by_base = true;
        EXPECT_STREQ(e.what(), "m");
        EXPECT_EQ(e.message(), "m");
    }
    EXPECT_FALSE(by_std);
    EXPECT_TRUE(by_base);
}

TEST(Exceptions, DescribeNamesTypeAndMessage) {
    EXPECT_EQ(asyncio::describe(std::make_exception_ptr(asyncio::ValueError("bad"))), "asyncio::ValueError: bad");
    EXPECT_EQ(asyncio::describe(std::make_exception_ptr(asyncio::CancelledError())), "asyncio::CancelledError");
    EXPECT_EQ(asyncio::describe(std::make_exception_ptr(42)), "unknown exception");
    EXPECT_EQ(asyncio::describe(nullptr), "no exception");
}
