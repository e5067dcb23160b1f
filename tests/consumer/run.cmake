# Installs the already-built tree into a scratch prefix, then configures, builds and runs a small
# project that uses find_package(tenantscan COMPONENTS collect) and links tenantscan::tenantscan,
# tenantscan::rules and tenantscan::collect.
# With -DPREFIX=DIR it installs nothing and uses DIR instead (the unpacked Debian package,
# tests/tools/check_package.sh).
file(REMOVE_RECURSE ${WORK_DIR})
if(NOT PREFIX)
  set(PREFIX ${WORK_DIR}/prefix)
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${PREFIX}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install failed: ${rc}")
  endif()
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build
                -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer ${SOURCE_DIR}/examples/contoso-ready/snapshot.json ${WORK_DIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
if(NOT out MATCHES "custom-rule-registered")
  message(FATAL_ERROR "the consumer's own rule did not run")
endif()
if(NOT out MATCHES "streamed report: same bytes")
  message(FATAL_ERROR "the consumer's streamed scan did not run")
endif()
if(NOT out MATCHES "collect refused empty options" OR NOT out MATCHES "collect: snapshot written and loaded")
  message(FATAL_ERROR "the consumer's use of tenantscan::collect did not run")
endif()
# What an embedder gets: the four libraries, the API headers without detail/, the CMake package.
foreach(file tenantscanTargets.cmake tenantscanCollectTargets.cmake tenantscanSmtpTargets.cmake tenantscan.hpp)
  file(GLOB_RECURSE found ${PREFIX}/*/${file})
  if(NOT found)
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
if(EXISTS ${PREFIX}/include/tenantscan/detail)
  message(FATAL_ERROR "include/tenantscan/detail is installed: it is not API")
endif()
