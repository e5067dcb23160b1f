// Fixtures shared by the report format tests: a tenant whose policy names try to inject markup.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace reportfixtures {

// A display name with everything that could break out of XML, HTML, Markdown or a script: a script
// element that marks the page if it runs, an image with an error handler, quotes, ampersands, an XML
// CDATA terminator, Markdown syntax and a control character.
inline std::string hostile_name(int index) {
    return "<script>document.documentElement.setAttribute('data-pwned','" + std::to_string(index) +
           "')</script><img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\"> "
           "& \"quoted\" 'single' ]]> **bold** | pipe `tick` \x01 policy " +
           std::to_string(index);
}

// The fabrikam-broken example with every Conditional Access policy renamed to hostile_name(i), written
// to `path`. Its failing findings name these policies in messages and evidence.
inline void write_hostile_snapshot(const std::string& path) {
    auto snapshot = nlohmann::json::parse(testsupport::read_file(testsupport::example_snapshot("fabrikam-broken")));
    int index = 0;
    for (auto& policy : snapshot["graph"]["conditionalAccessPolicies"]) policy["displayName"] = hostile_name(index++);
    testsupport::write_file(path, snapshot.dump(2));
}

}  // namespace reportfixtures
