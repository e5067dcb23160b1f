# Installs and exports every library target in the CMake package `tenantscan` (find_package(tenantscan)):
#   tenantscan::tenantscan and tenantscan::rules  (always; nlohmann_json, fmt, RE2)
#   tenantscan::collect                           (component "collect"; cpprestsdk, OpenSSL)
#   tenantscan::smtp                              (component "smtp"; OpenSSL)
# One export set per component, so that an embedder who only scans needs neither cpprestsdk nor libssl
# (the core links only libcrypto, for SHA-256 and base64: tenantscan/detail/crypto.hpp).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(TENANTSCAN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tenantscan)

install(TARGETS tenantscan tenantscan_rules EXPORT tenantscanTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS tenantscan_collect EXPORT tenantscanCollectTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS tenantscan_smtp EXPORT tenantscanSmtpTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(set tenantscanTargets tenantscanCollectTargets tenantscanSmtpTargets)
  install(EXPORT ${set} NAMESPACE tenantscan:: DESTINATION ${TENANTSCAN_CMAKE_DIR})
endforeach()

# The API headers. detail/ is not installed: no public header includes it (the install_and_consume
# test compiles the umbrella header against the installed tree, so one that did would fail there).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/tenantscan DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        PATTERN detail EXCLUDE)

# The core links libcrypto (OpenSSL::Crypto); the config then finds OpenSSL for the core too.
get_target_property(TENANTSCAN_CORE_LIBS tenantscan LINK_LIBRARIES)
set(TENANTSCAN_CORE_NEEDS_OPENSSL OFF)
if(TENANTSCAN_CORE_LIBS MATCHES "OpenSSL::")
  set(TENANTSCAN_CORE_NEEDS_OPENSSL ON)
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tenantscanConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tenantscanConfig.cmake INSTALL_DESTINATION ${TENANTSCAN_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tenantscanConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tenantscanConfig.cmake ${PROJECT_BINARY_DIR}/tenantscanConfigVersion.cmake
        DESTINATION ${TENANTSCAN_CMAKE_DIR})
