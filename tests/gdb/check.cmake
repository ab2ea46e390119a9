# tests/gdb/check.cmake: tools/gdb/asyncio.py against the program's own view. Runs TARGET
# (tests/gdb/graph_target.cpp) under GDB to its checkpoint, where the program has printed
# format_loop_graph and waiting_tasks itself; there the script prints the same from memory
# (`asyncio graph`, `asyncio tasks`) and gdb writes a core dump; a second gdb reads the core
# with the script. All three views must be equal, byte for byte.
# CORE=OFF leaves the core dump out: a sanitizer's shadow memory (terabytes of mappings)
# makes gcore run for minutes there; the live check still runs.
#   cmake -DGDB=gdb -DTARGET=graph_target -DSCRIPT=tools/gdb/asyncio.py -DWORK=dir [-DCORE=OFF] -P check.cmake
if(NOT DEFINED CORE)
    set(CORE ON)
endif()
foreach(var GDB TARGET SCRIPT WORK)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "check.cmake: ${var} is not set")
    endif()
endforeach()
file(MAKE_DIRECTORY "${WORK}")
set(core "${WORK}/graph_target.core")
file(REMOVE "${core}")

# -nx: no user's .gdbinit; no debuginfod (no network); randomization stays on (turning it off needs personality(),
# which containers often refuse).
set(dump "")
if(CORE)
    set(dump -ex "gcore ${core}")
endif()
set(common -nx -batch -ex "set debuginfod enabled off" -ex "set disable-randomization off" -ex "set pagination off" -ex "set width 0"
    -ex "set confirm off" -ex "source ${SCRIPT}")
execute_process(
    COMMAND ${GDB} ${common} -ex "break asyncio_gdb_checkpoint" -ex run
            -ex "echo === gdb graph ===\\n" -ex "asyncio graph" -ex "echo === gdb tasks ===\\n" -ex "asyncio tasks"
            -ex "echo === gdb end ===\\n" ${dump} -ex kill "${TARGET}"
    OUTPUT_VARIABLE live ERROR_VARIABLE live_err RESULT_VARIABLE live_rc TIMEOUT 120)
# A machine that forbids ptrace (a container's seccomp profile) cannot run this test: it
# is reported as skipped (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt), never passed.
if("${live_err}" MATCHES "ptrace: Operation not permitted|Could not trace the inferior process|PTRACE_TRACEME")
    message(FATAL_ERROR "SKIPPED: this machine does not let gdb trace a process:\n${live_err}")
endif()
if(NOT live_rc EQUAL 0)
    message(FATAL_ERROR "gdb on the live program failed (${live_rc}):\n${live}\n${live_err}")
endif()

# The text between `from` and `to` in `text`, or a failure.
function(section text from to out)
    string(FIND "${text}" "${from}\n" begin)
    string(FIND "${text}" "${to}\n" end)
    if(begin EQUAL -1 OR end EQUAL -1 OR end LESS begin)
        message(FATAL_ERROR "no section '${from}' .. '${to}' in:\n${text}")
    endif()
    string(LENGTH "${from}\n" skip)
    math(EXPR begin "${begin} + ${skip}")
    math(EXPR length "${end} - ${begin}")
    string(SUBSTRING "${text}" ${begin} ${length} part)
    set(${out} "${part}" PARENT_SCOPE)
endfunction()

# The script's text for the loop at `address`, its header line dropped (the program prints
# none); the script must have printed `count` loops in all.
function(one_loop text address count out)
    string(REGEX MATCHALL "asyncio: [a-z ]+ of the loop at 0x[0-9a-f]+" headers "${text}")
    list(LENGTH headers n)
    if(NOT n EQUAL count)
        message(FATAL_ERROR "expected ${count} loops, found ${n}:\n${text}")
    endif()
    string(REGEX MATCH "asyncio: [a-z ]+ of the loop at ${address}[^\n]*\n" header "${text}")
    if(header STREQUAL "")
        message(FATAL_ERROR "no loop at ${address} in:\n${text}")
    endif()
    string(FIND "${text}" "${header}" begin)
    string(LENGTH "${header}" skip)
    math(EXPR begin "${begin} + ${skip}")
    string(SUBSTRING "${text}" ${begin} -1 rest)
    string(FIND "${rest}" "asyncio: " end)  # the next loop's header, if any
    if(NOT end EQUAL -1)
        string(SUBSTRING "${rest}" 0 ${end} rest)
    endif()
    set(${out} "${rest}" PARENT_SCOPE)
endfunction()

function(expect_equal what expected actual)
    if(NOT "${expected}" STREQUAL "${actual}")
        message(FATAL_ERROR "${what} differs.\n--- the program's:\n${expected}\n--- the script's:\n${actual}")
    endif()
endfunction()

string(REGEX MATCH "=== loop at (0x[0-9a-f]+) of ([0-9]+) ===" loop_line "${live}")
if(loop_line STREQUAL "")
    message(FATAL_ERROR "the program did not say where its loop is:\n${live}\n${live_err}")
endif()
set(address "${CMAKE_MATCH_1}")
set(loops "${CMAKE_MATCH_2}")
section("${live}" "=== in-process graph ===" "=== in-process tasks ===" program_graph)
section("${live}" "=== in-process tasks ===" "=== end ===" program_tasks)
section("${live}" "=== gdb graph ===" "=== gdb tasks ===" gdb_graph)
section("${live}" "=== gdb tasks ===" "=== gdb end ===" gdb_tasks)
one_loop("${gdb_graph}" ${address} ${loops} gdb_graph)
one_loop("${gdb_tasks}" ${address} ${loops} gdb_tasks)
# The program's graph must be the one this test is about, not an empty one that matches.
foreach(needle "name='consumer'" "Waits on: Queue.get()" "Waits on: Lock.acquire() (held by holder)" "Waits on: Event.wait()"
               "Waits on: its TaskGroup's tasks" "Waits on: sleep()" "+ Awaits:")
    string(FIND "${program_graph}" "${needle}" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "the program's graph lacks \"${needle}\":\n${program_graph}")
    endif()
endforeach()
expect_equal("The await graph of the live process" "${program_graph}" "${gdb_graph}")
expect_equal("The task list of the live process" "${program_tasks}" "${gdb_tasks}")

if(NOT CORE)
    message(STATUS "the script's graph and task list are the program's, live (no core dump in this build)")
    return()
endif()
if(NOT EXISTS "${core}")
    message(FATAL_ERROR "gdb wrote no core dump:\n${live}\n${live_err}")
endif()
execute_process(
    COMMAND ${GDB} ${common} -ex "echo === gdb graph ===\\n" -ex "asyncio graph" -ex "echo === gdb tasks ===\\n" -ex "asyncio tasks"
            -ex "echo === gdb end ===\\n" "${TARGET}" "${core}"
    OUTPUT_VARIABLE dead ERROR_VARIABLE dead_err RESULT_VARIABLE dead_rc TIMEOUT 120)
file(REMOVE "${core}")
if(NOT dead_rc EQUAL 0)
    message(FATAL_ERROR "gdb on the core dump failed (${dead_rc}):\n${dead}\n${dead_err}")
endif()
section("${dead}" "=== gdb graph ===" "=== gdb tasks ===" core_graph)
section("${dead}" "=== gdb tasks ===" "=== gdb end ===" core_tasks)
one_loop("${core_graph}" ${address} ${loops} core_graph)
one_loop("${core_tasks}" ${address} ${loops} core_tasks)
expect_equal("The await graph of the core dump" "${program_graph}" "${core_graph}")
expect_equal("The task list of the core dump" "${program_tasks}" "${core_tasks}")
message(STATUS "the script's graph and task list are the program's, live and in the core dump")
