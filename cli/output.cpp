#include "output.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include <tenantscan/errors.hpp>

#include "commands.hpp"

namespace tenantscan::cli {

bool use_colour(bool writingToFile) {
    const char* noColour = std::getenv("NO_COLOR");
    if (noColour && *noColour) return false;
    return !writingToFile && isatty(STDOUT_FILENO);
}

void write_output(const std::string& text, const std::string& path) {
    write_output_stream(path, [&](std::ostream& out) { out << text; });
}

void write_output_stream(const std::string& path, const std::function<void(std::ostream&)>& write) {
    if (path.empty()) {
        write(std::cout);
        std::cout << std::flush;
        return;
    }
    std::string temporary = path + ".tmp-" + std::to_string(getpid());
    try {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (out) write(out);
        out.close();
        if (!out) throw std::runtime_error(path + ": cannot write the output file");
    } catch (...) {
        std::remove(temporary.c_str());
        throw;
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        throw std::runtime_error(path + ": cannot write the output file");
    }
}

int run_guarded(const std::function<int()>& body) {
    try {
        return body();
    } catch (const InputError& e) {
        std::cerr << "tenantscan: error: " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "tenantscan: error: " << e.what() << "\n";
    }
    return kExitUsage;
}

}  // namespace tenantscan::cli
