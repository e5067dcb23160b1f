// libFuzzer's entry point for one target: compiled once per executable with
// TENANTSCAN_FUZZ_TARGET naming the function of fuzz_targets.hpp it calls.
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(size == 0 ? "" : reinterpret_cast<const char*>(data), size);
    tenantscan::fuzz::TENANTSCAN_FUZZ_TARGET(bytes);
    return 0;
}
