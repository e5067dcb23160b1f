# Entry points used by the README and CI. Everything else is plain CMake.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTENANTSCAN_WERROR=ON
TENANTSCAN = $(BUILD)/cli/tenantscan

.PHONY: deps build demo test clean

deps:
	./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# Scans both bundled example tenants: the ready one passes the gate (exit 0), the broken one
# fails it (exit 1); anything else is an error.
demo: build
	$(TENANTSCAN) scan examples/contoso-ready/snapshot.json
	$(TENANTSCAN) scan examples/fabrikam-broken/snapshot.json; rc=$$?; \
	  if [ $$rc -ne 1 ]; then echo "demo: expected exit 1 from the broken tenant, got $$rc"; exit 1; fi; \
	  echo "demo: fabrikam-broken fails the gate as expected (exit 1)"

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
