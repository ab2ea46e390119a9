# tests/consumer/common/consumer.cmake: what each consumer project shares.
set(CONSUMER_COMMON_DIR ${CMAKE_CURRENT_LIST_DIR})

# ASYNCIO_SOURCE_DIR: the source tree under test (add_subdirectory and FetchContent).
set(ASYNCIO_SOURCE_DIR "" CACHE PATH "The asyncio source tree the consumer uses")

# consumer_strict(<target>): the consumer's own strict warnings, as errors. The library's
# headers are read as the consumer's own code (not as system headers, whose warnings
# compilers hide), so a warning in them fails the consumer's build.
function(consumer_strict target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -Wsign-conversion)
    set_target_properties(${target} PROPERTIES NO_SYSTEM_FROM_IMPORTED ON)
    target_include_directories(${target} PRIVATE ${CONSUMER_COMMON_DIR})  # consumer_checks.hpp
endfunction()
