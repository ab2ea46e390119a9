# Compiles one mistake of tests/diagnostics/ (cmake -P, with CXX, SOURCE, INCLUDES): the
# compile must fail, and the library's message (the file's "// expect:" line) must be in the
# first 10 lines of the compiler's output, where a user reads.
cmake_minimum_required(VERSION 3.20)
file(STRINGS "${SOURCE}" expect_line REGEX "^// expect: " LIMIT_COUNT 1)
string(REGEX REPLACE "^// expect: " "" expected "${expect_line}")
if(expected STREQUAL "")
    message(FATAL_ERROR "${SOURCE}: no '// expect:' line")
endif()
set(include_flags "")
foreach(dir IN LISTS INCLUDES)
    list(APPEND include_flags "-I${dir}")
endforeach()
execute_process(
    COMMAND "${CXX}" -std=c++20 -fsyntax-only -fno-diagnostics-color ${include_flags} "${SOURCE}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE out
    ERROR_VARIABLE out)
if(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled: the mistake is not caught")
endif()
string(REPLACE "\n" ";" lines "${out}")
list(LENGTH lines n)
if(n GREATER 10)
    list(SUBLIST lines 0 10 lines)
endif()
string(JOIN "\n" head ${lines})
string(FIND "${head}" "${expected}" at)
if(at EQUAL -1)
    message(FATAL_ERROR "the library's message is not in the first 10 lines of ${CXX}'s output.\nexpected: ${expected}\nfirst lines:\n${head}")
endif()
message(STATUS "caught, with the library's message in the first 10 lines")
