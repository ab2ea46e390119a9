# cmake -DTOUR_LIST=<file> -P RunTour.cmake
#
# TOUR_LIST holds one "NN_<topic>|<executable>" per line, in NN order (written
# by examples/CMakeLists.txt). Runs each in real time, its output going
# straight to the terminal, after a header line "==== NN_<topic> ====".
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED TOUR_LIST OR NOT EXISTS "${TOUR_LIST}")
    message(FATAL_ERROR "usage: cmake -DTOUR_LIST=<file> -P RunTour.cmake")
endif()
unset(ENV{ASYNCIO_TOUR_VIRTUAL})          # the tour runs on the real clock

file(STRINGS "${TOUR_LIST}" entries)
set(failed)
foreach(entry IN LISTS entries)
    string(FIND "${entry}" "|" bar)
    string(SUBSTRING "${entry}" 0 ${bar} name)
    math(EXPR start "${bar} + 1")
    string(SUBSTRING "${entry}" ${start} -1 exe)

    execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "==== ${name} ====")
    execute_process(COMMAND "${exe}" RESULT_VARIABLE status)
    if(NOT status STREQUAL "0")
        execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "(${name} exited with ${status})")
        list(APPEND failed ${name})
    endif()
endforeach()

if(failed)
    list(JOIN failed ", " failed)
    message(FATAL_ERROR "tour: failed: ${failed}")
endif()
