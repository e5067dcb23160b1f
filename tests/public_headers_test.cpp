// The installed API headers (lib/include/tenantscan/, detail/ excluded: it is not installed) are read
// by users who have only the package: every document they cite must be in the repository, and none
// may include a detail/ header, which the package does not ship.
#include <doctest/doctest.h>

#include <filesystem>
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

// The paths of documents a text cites: every run of path characters that ends in ".md" or ".json" and
// holds a '/' ("docs/config.md", "../rules/schedules.json", "rules/<module>/<rule>.md"). Plain scanning,
// not std::regex: libstdc++'s regex does not build under the sanitizer build's -Werror.
std::vector<std::string> cited_paths(const std::string& text) {
    auto path_char = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-' || c == '/' || c == '<' || c == '>';
    };
    std::vector<std::string> out;
    for (const std::string suffix : {".md", ".json"}) {
        for (auto at = text.find(suffix); at != std::string::npos; at = text.find(suffix, at + 1)) {
            const std::size_t end = at + suffix.size();
            if (end < text.size() && path_char(text[end]) && text[end] != '.') continue;  // ".mdx", ".json5"
            std::size_t begin = at;
            while (begin > 0 && path_char(text[begin - 1])) --begin;
            const std::string path = text.substr(begin, end - begin);
            if (path.find('/') != std::string::npos) out.push_back(path);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("public headers: the citation scanner finds document paths, and only those") {
    CHECK(cited_paths("see docs/config.md, and ../rules/schedules.json.") ==
          std::vector<std::string>{"docs/config.md", "../rules/schedules.json"});
    CHECK(cited_paths("(docs/architecture.md, \"What a finding carries\")") == std::vector<std::string>{"docs/architecture.md"});
    CHECK(cited_paths("rules/<module>/<rule>.md") == std::vector<std::string>{"rules/<module>/<rule>.md"});
    CHECK(cited_paths("README.md and a.json name no folder; x.mdx is no citation").empty());
}

TEST_CASE("public headers: every document they cite is in the repository") {
    const auto headers = public_headers();
    REQUIRE(headers.size() >= 20);
    int citations = 0;
    for (const auto& header : headers) {
        const std::string text = testsupport::read_file(header.string());
        for (const std::string& path : cited_paths(text)) {
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
