# ctest runs each doctest case through doctest_discover_tests, which passes the case's name as a
# CMake list: a name with ';' is cut in two and each half runs no test case at all, yet "passes".
# This check fails when any case name contains ';' (or when the binary lists no cases).
execute_process(COMMAND ${TESTS} --list-test-cases --no-skip OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TESTS} --list-test-cases exited ${rc}")
endif()
string(REGEX MATCH "passing the current filters: ([0-9]+)" counted "${listing}")
if(NOT CMAKE_MATCH_1 OR CMAKE_MATCH_1 LESS 100)
  message(FATAL_ERROR "expected the test binary to list its test cases, got: ${listing}")
endif()
string(FIND "${listing}" ";" semicolon)
if(NOT semicolon EQUAL -1)
  string(REPLACE ";" "<;>" shown "${listing}")
  message(FATAL_ERROR "test case names must not contain ';' (ctest would run nothing for them):\n${shown}")
endif()
message(STATUS "${CMAKE_MATCH_1} test case names, none with ';'")
