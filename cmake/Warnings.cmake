# asyncio_warnings: an INTERFACE target carrying our warning flags.
# Link it PRIVATE to our own targets only (library, tests, examples, bench), as
#     target_link_libraries(<target> PRIVATE asyncio_warnings)
# (the library itself wraps it in $<BUILD_INTERFACE:...> so it is not exported).
# Never add_compile_options / CMAKE_CXX_FLAGS: they would leak into a parent
# project and into third-party code (docs/design/style.md).
if(TARGET asyncio_warnings)
    return()
endif()

add_library(asyncio_warnings INTERFACE)
target_compile_options(asyncio_warnings INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:
        -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
        $<$<BOOL:${ASYNCIO_WERROR}>:-Werror>>
    $<$<CXX_COMPILER_ID:MSVC>:
        /W4 /permissive-
        $<$<BOOL:${ASYNCIO_WERROR}>:/WX>>)
