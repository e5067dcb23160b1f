# Entry points used by the README and CI. Everything else is plain CMake.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTENANTSCAN_WERROR=ON
TENANTSCAN = $(BUILD)/cli/tenantscan

.PHONY: deps configure build demo test test-sanitize package clean

deps:
	./scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

# Everything the test suite needs: the library, the CLI, the tests and the tools they run
# (benchmarks are built only on demand, see bench/CMakeLists.txt).
build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Builds only the CLI, then scans both bundled example tenants: the ready one passes the gate
# (exit 0), the broken one fails it (exit 1); anything else is an error.
demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target tenantscan_cli
	$(TENANTSCAN) scan examples/contoso-ready/snapshot.json
	$(TENANTSCAN) scan examples/fabrikam-broken/snapshot.json; rc=$$?; \
	  if [ $$rc -ne 1 ]; then echo "demo: expected exit 1 from the broken tenant, got $$rc"; exit 1; fi; \
	  echo "demo: fabrikam-broken fails the gate as expected (exit 1)"

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The whole suite built with AddressSanitizer and UndefinedBehaviorSanitizer (gcc), in a build
# directory of its own. Any sanitizer report aborts the test that triggered it.
SANITIZE_BUILD ?= build-sanitize
SANITIZER_ENV = ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/tests/sanitize/ubsan.supp \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitize/lsan.supp
test-sanitize: deps
	cmake -S . -B $(SANITIZE_BUILD) $(CMAKE_FLAGS) -DTENANTSCAN_SANITIZE=ON
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	$(SANITIZER_ENV) ctest --test-dir $(SANITIZE_BUILD) --output-on-failure -j $(JOBS)

# Debian packages (cmake/Packaging.cmake): tenantscan (the command, man page, bash completion) and
# libtenantscan-dev (libraries, headers, CMake package), written to $(BUILD)/packages.
# `make test` builds, unpacks and uses them too (ctest -R package_deb).
package: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS) --target tenantscan_cli tenantscan_manpage
	cd $(BUILD) && cpack -B packages
	@ls -1 $(BUILD)/packages/*.deb

clean:
	rm -rf $(BUILD)
