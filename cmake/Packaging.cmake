# `make package` (cpack -G DEB): two Debian packages from the install rules.
#   tenantscan          the command, its man page (help2man), bash completion and the device data
#   libtenantscan-dev   the static libraries, public headers and the CMake package (find_package)
# Every install() without a COMPONENT belongs to the library package (see the top CMakeLists.txt);
# the command's files name COMPONENT cli. tests/tools/check_package.sh builds, unpacks and uses both.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tenantscan)
set(CPACK_PACKAGE_VENDOR "tenantscan")
set(CPACK_PACKAGE_CONTACT "tenantscan maintainers <maintainers@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/PackagingStripArchives.cmake)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cli dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_CLI_PACKAGE_NAME tenantscan)
set(CPACK_COMPONENT_CLI_DESCRIPTION
  "Microsoft 365 SMTP AUTH / HVE readiness scanner\nReads a Microsoft 365 tenant's configuration (a snapshot file, or collected live from Microsoft\nGraph and Exchange Online) and tells, account by account, whether mail submission keeps working\nwhen Exchange Online retires Basic authentication for SMTP AUTH, why not, and how to fix it.")
# Run-time dependencies from the binary's shared libraries (dpkg-shlibdeps, package dpkg-dev).
set(CPACK_DEBIAN_CLI_PACKAGE_SHLIBDEPS ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libtenantscan-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "Microsoft 365 SMTP AUTH / HVE readiness scanner (development files)\nStatic libraries, headers and the CMake package (find_package(tenantscan)) to embed the scanner,\nregister rules of one's own, and collect a tenant live.")
# What find_package(tenantscan) looks for (cmake/tenantscanConfig.cmake.in), as Debian 12 packages.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "cmake (>= 3.20), pkg-config, nlohmann-json3-dev (>= 3.10), libfmt-dev, libcpprest-dev, libssl-dev, libboost-system-dev, libre2-dev")

include(CPack)
