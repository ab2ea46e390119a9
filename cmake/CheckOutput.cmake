# cmake -DEXE=<executable> -DEXPECTED=<file.out> -P CheckOutput.cmake
#
# Runs EXE on the virtual clock (ASYNCIO_TOUR_VIRTUAL=1) and fails unless it
# exits with 0 and its stdout equals the contents of EXPECTED exactly
# (only CRLF is normalised to LF). Used by the tutorial.NN_<topic> tests.
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED EXE OR NOT DEFINED EXPECTED)
    message(FATAL_ERROR "usage: cmake -DEXE=<exe> -DEXPECTED=<file.out> -P CheckOutput.cmake")
endif()
if(NOT EXISTS "${EXPECTED}")
    message(FATAL_ERROR "expected-output file not found: ${EXPECTED}")
endif()

execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env ASYNCIO_TOUR_VIRTUAL=1 "${EXE}"
    RESULT_VARIABLE status
    OUTPUT_VARIABLE actual
    ERROR_VARIABLE  errors)

file(READ "${EXPECTED}" expected)
string(REPLACE "\r\n" "\n" expected "${expected}")
string(REPLACE "\r\n" "\n" actual   "${actual}")

# message(NOTICE) prints verbatim; FATAL_ERROR would re-wrap the text.
if(NOT status STREQUAL "0")
    message(NOTICE "---- stdout ----\n${actual}---- stderr ----\n${errors}----")
    message(FATAL_ERROR "${EXE} failed (exit status: ${status})")
endif()

if(NOT actual STREQUAL expected)
    # Keep the actual output next to the test's working directory, so that a
    # deliberate change can be accepted by copying it over the .out file.
    cmake_path(GET EXPECTED FILENAME out_name)
    set(saved "${CMAKE_CURRENT_BINARY_DIR}/${out_name}.actual")
    file(WRITE "${saved}" "${actual}")

    find_program(DIFF diff)
    if(DIFF)
        execute_process(COMMAND "${DIFF}" -u --label expected --label actual
                                "${EXPECTED}" "${saved}"
                        OUTPUT_VARIABLE difference)
        message(NOTICE "---- diff -u expected actual ----\n${difference}")
    endif()
    message(NOTICE
        "---- expected (${EXPECTED}) ----\n${expected}"
        "---- actual (${saved}) ----\n${actual}"
        "---- stderr ----\n${errors}"
        "----")
    message(FATAL_ERROR "stdout of ${EXE} differs from ${EXPECTED}\n"
                        "To accept the new output: cp '${saved}' '${EXPECTED}'")
endif()
