// 11_gather_exceptions.cpp: the tutorial's asyncio.gather / 示例：处理异常: with
// return_exceptions, a failing task's exception takes its place among the results.
#include "tour.hpp"

#include <asyncio.hpp>

#include <exception>
#include <initializer_list>
#include <iostream>
#include <string>

// An asynchronous function foo that takes a parameter x.
asyncio::Coro<std::string> foo(int x) {
    co_await asyncio::sleep(x);             // wait x seconds
    co_return "foo: " + std::to_string(x);  // return the string "foo: x"
}

// Another asynchronous function bar that takes a parameter y.
asyncio::Coro<std::string> bar(int y) {
    co_await asyncio::sleep(y);             // wait y seconds
    co_return "bar: " + std::to_string(y);  // return the string "bar: y"
}

// A faulty asynchronous task (its result type only has to match the others').
asyncio::Coro<std::string> faulty_task() {
    co_await asyncio::sleep(1);                      // wait 1 second
    throw asyncio::ValueError("An error occurred");  // raise a ValueError
}

// Python's str(exc): the exception's message.
std::string str(const std::exception_ptr& exc) {
    try {
        std::rethrow_exception(exc);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return asyncio::describe(exc);
    }
}

// Python's repr() of an item of the results: 'the value', or ValueError('the message').
std::string repr(const asyncio::Outcome<std::string>& result) {
    if (result.has_value()) return "'" + *result + "'";
    try {
        std::rethrow_exception(result.exception());
    } catch (const asyncio::ValueError& e) {
        return std::string("ValueError('") + e.what() + "')";
    } catch (...) {
        return asyncio::describe(result.exception());
    }
}

asyncio::Coro<void> amain() {
    try {
        // Run several asynchronous tasks concurrently with gather; return_exceptions means
        // that a task that raises does not end it: its exception is returned in its place.
        auto [r1, r2, r3] = co_await asyncio::gather(
            asyncio::return_exceptions,  // return exceptions instead of raising them
            foo(1),                      // run foo(1)
            faulty_task(),               // run faulty_task()
            bar(2)                       // run bar(2)
        );

        // Print the results and their type. C++ returns a tuple of Outcome<std::string>;
        // print it as Python prints its list.
        std::cout << '[' << repr(r1) << ", " << repr(r2) << ", " << repr(r3) << "] <class 'list'>\n";

        for (const auto& result : {r1, r2, r3}) {  // for each result
            if (result.exception())                 // if it is an exception
                std::cout << "Task raised an exception: " << str(result.exception()) << '\n';
            else
                std::cout << "Task result: " << *result << '\n';
        }
    } catch (const std::exception& e) {  // any other error
        std::cout << "Exception: " << e.what() << '\n';
    }
}

int main() { tour::run(amain()); }
