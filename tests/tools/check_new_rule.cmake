# scripts/new-rule in a scratch copy of the rule tree (never the checkout): it writes the source, doc
# page and test with the same stem, registers the rule in the module's header, register.cpp,
# rules/CMakeLists.txt and README.md, and the files it writes compile; then it refuses the same id
# again, an id that exists, an id without the module's prefix and an unknown module, changing nothing.
# Run by ctest as new_rule_scaffolding: cmake -DSOURCE_DIR=… -DWORK_DIR=… -DCXX=… -P check_new_rule.cmake
cmake_minimum_required(VERSION 3.20)
foreach(var SOURCE_DIR WORK_DIR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_new_rule.cmake needs -D${var}=…")
  endif()
endforeach()
find_package(Python3 REQUIRED COMPONENTS Interpreter)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/tests")
file(COPY "${SOURCE_DIR}/rules" DESTINATION "${WORK_DIR}")
file(COPY "${SOURCE_DIR}/tests/rules" DESTINATION "${WORK_DIR}/tests")
file(COPY "${SOURCE_DIR}/README.md" DESTINATION "${WORK_DIR}")

function(run_new_rule expect_ok)
  execute_process(COMMAND "${Python3_EXECUTABLE}" "${SOURCE_DIR}/scripts/new-rule" --root "${WORK_DIR}" ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect_ok AND NOT rc EQUAL 0)
    message(FATAL_ERROR "new-rule ${ARGN} failed (${rc}): ${out}${err}")
  elseif(NOT expect_ok AND rc EQUAL 0)
    message(FATAL_ERROR "new-rule ${ARGN} should have refused, but said: ${out}")
  endif()
  set(last_error "${err}" PARENT_SCOPE)
endfunction()

function(expect_in file text)
  file(READ "${WORK_DIR}/${file}" content)
  string(FIND "${content}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${file} does not contain: ${text}")
  endif()
endfunction()

run_new_rule(TRUE hve hve-scaffold-probe)
foreach(file rules/hve/hve_scaffold_probe.cpp rules/hve/hve_scaffold_probe.md tests/rules/hve/hve_scaffold_probe_test.cpp)
  if(NOT EXISTS "${WORK_DIR}/${file}")
    message(FATAL_ERROR "new-rule did not write ${file}")
  endif()
endforeach()
expect_in(rules/hve/hve_scaffold_probe.cpp "m.id = \"hve-scaffold-probe\";")
expect_in(rules/hve/hve_scaffold_probe.cpp "std::unique_ptr<tenantscan::Rule> make_hve_scaffold_probe_rule()")
expect_in(rules/hve/hve_scaffold_probe.cpp "throw std::logic_error")
expect_in(rules/hve/hve_scaffold_probe.md "# `hve-scaffold-probe`")
expect_in(tests/rules/hve/hve_scaffold_probe_test.cpp "check_registered_and_documented(\"hve-scaffold-probe\", \"rules/hve/hve_scaffold_probe.md\")")
expect_in(tests/rules/hve/hve_scaffold_probe_test.cpp "CHECK(f.status == Status::Fail);")
expect_in(rules/hve/hve_rules.hpp "std::unique_ptr<tenantscan::Rule> make_hve_scaffold_probe_rule();")
expect_in(rules/hve/register.cpp "registry.add(make_hve_scaffold_probe_rule());  // hve-scaffold-probe")
expect_in(rules/CMakeLists.txt "  hve/hve_scaffold_probe.cpp\n")
expect_in(README.md "| [`hve-scaffold-probe`](rules/hve/hve_scaffold_probe.md) |")
# In id order: after hve-report-only-policies, before hve-security-defaults.
file(READ "${WORK_DIR}/rules/hve/register.cpp" register)
string(FIND "${register}" "hve-report-only-policies" before)
string(FIND "${register}" "hve-scaffold-probe" added)
string(FIND "${register}" "hve-security-defaults" after)
if(NOT (before LESS added AND added LESS after))
  message(FATAL_ERROR "register.cpp is not in id order:\n${register}")
endif()

# What it wrote compiles with the project's headers (the rule and its test, syntax only).
foreach(file rules/hve/hve_scaffold_probe.cpp rules/hve/register.cpp tests/rules/hve/hve_scaffold_probe_test.cpp)
  execute_process(COMMAND "${CXX}" -std=c++17 -fsyntax-only -Wall -Wextra -Werror
      -I "${SOURCE_DIR}/lib/include" -I "${WORK_DIR}/rules" -I "${WORK_DIR}/tests" -I "${SOURCE_DIR}/tests"
      "${WORK_DIR}/${file}"
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${file} as new-rule wrote it does not compile:\n${err}")
  endif()
endforeach()

# Refusals change nothing.
file(READ "${WORK_DIR}/rules/hve/register.cpp" register_before)
run_new_rule(FALSE hve hve-scaffold-probe)
run_new_rule(FALSE hve hve-account-enabled)
run_new_rule(FALSE hve smtp-scaffold-probe)
run_new_rule(FALSE nosuchmodule nosuchmodule-probe)
run_new_rule(FALSE hve Hve_Probe)
file(READ "${WORK_DIR}/rules/hve/register.cpp" register_after)
if(NOT register_before STREQUAL register_after)
  message(FATAL_ERROR "a refused new-rule changed register.cpp")
endif()
message(STATUS "new-rule: wrote, registered and compiled hve-scaffold-probe; refused the five bad requests")
