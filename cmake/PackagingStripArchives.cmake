# CPACK_PRE_BUILD_SCRIPTS hook: the static libraries of the development package are built with debug
# information (RelWithDebInfo), which makes the package ~47 MB. CPACK_STRIP_FILES strips programs
# only; this strips the debug sections of every installed archive before the package is made.
file(GLOB_RECURSE archives "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*.a")
foreach(archive IN LISTS archives)
  execute_process(COMMAND strip --strip-debug "${archive}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strip --strip-debug ${archive} failed: ${rc}")
  endif()
endforeach()
