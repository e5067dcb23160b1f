// The installed API headers (lib/include/tenantscan/, detail/ excluded: it is not installed) are read
// by users who have only the package: every document they cite must be in the repository, and none
// may include a detail/ header, which the package does not ship.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "support.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> public_headers() {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(testsupport::source_dir() + "/lib/include/tenantscan"))
        if (entry.is_regular_file() && entry.path().extension() == ".hpp") out.push_back(entry.path());
    return out;
}

}  // namespace

TEST_CASE("public headers: every document they cite is in the repository") {
    const auto headers = public_headers();
    REQUIRE(headers.size() >= 20);
    const std::regex cited(R"(((?:\.\./)*[A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)*/[A-Za-z0-9_.<>-]+\.(?:md|json)))");
    int citations = 0;
    for (const auto& header : headers) {
        const std::string text = testsupport::read_file(header.string());
        for (auto it = std::sregex_iterator(text.begin(), text.end(), cited); it != std::sregex_iterator(); ++it) {
            const std::string path = (*it)[1];
            if (path.find('<') != std::string::npos) continue;  // a pattern such as rules/<module>/<rule>.md
            CAPTURE(header.filename().string());
            CAPTURE(path);
            CHECK(path.rfind("../", 0) == std::string::npos);
            CHECK(fs::exists(testsupport::source_dir() + "/" + path));
            ++citations;
        }
    }
    CHECK(citations >= 20);
}

TEST_CASE("public headers: none includes a detail/ header (detail/ is not installed)") {
    for (const auto& header : public_headers()) {
        CAPTURE(header.filename().string());
        CHECK(testsupport::read_file(header.string()).find("tenantscan/detail/") == std::string::npos);
    }
}
