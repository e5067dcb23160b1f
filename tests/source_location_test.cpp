// Finding the line of a JSON pointer in a file, for SARIF locations.
#include <doctest/doctest.h>

#include <tenantscan/source_location.hpp>

#include "support.hpp"

using tenantscan::json_pointer_line;

TEST_CASE("source-location: the line where the value at a pointer starts") {
    const std::string text =
        "{\n"
        "  \"graph\": {\n"
        "    \"conditionalAccessPolicies\": [\n"
        "      {\"id\": \"a\", \"note\": \"a \\\"quoted\\\" } ] string\"},\n"
        "      {\n"
        "        \"id\": \"b\"\n"
        "      }\n"
        "    ],\n"
        "    \"a/b~c\": 1\n"
        "  }\n"
        "}\n";
    CHECK(json_pointer_line(text, "") == 1);
    CHECK(json_pointer_line(text, "/graph") == 2);
    CHECK(json_pointer_line(text, "/graph/conditionalAccessPolicies") == 3);
    CHECK(json_pointer_line(text, "/graph/conditionalAccessPolicies/0") == 4);
    CHECK(json_pointer_line(text, "/graph/conditionalAccessPolicies/1") == 5);
    CHECK(json_pointer_line(text, "/graph/conditionalAccessPolicies/1/id") == 6);
    CHECK(json_pointer_line(text, "/graph/a~1b~0c") == 9);
}

TEST_CASE("source-location: a pointer that leads nowhere gives its deepest existing ancestor") {
    const std::string text = "[\n  {\"value\": [\n 1,\n 2\n ]}\n]";
    CHECK(json_pointer_line(text, "/0/value/1") == 4);
    CHECK(json_pointer_line(text, "/0/value/7") == 2);
    CHECK(json_pointer_line(text, "/3") == 1);
    CHECK(json_pointer_line(text, "/0/missing/deeper") == 2);
}

TEST_CASE("source-location: malformed or truncated text never hangs or crashes") {
    for (const std::string text : {"", "{", "{\"a\": [1, 2", "{\"a\" 1}", "[\"unterminated", "}}}]]]", "{\"a\":{\"b\":"})
        CHECK(json_pointer_line(text, "/a/b/0") >= 1);
}

TEST_CASE("source-location: locate_lines reads each file once, in any encoding the loader reads") {
    // UTF-16LE with a BOM, as Windows PowerShell writes it.
    const std::string utf8 = "{\r\n  \"value\": [\r\n    {\"id\": \"x\"},\r\n    {\"id\": \"y\"}\r\n  ]\r\n}\r\n";
    std::string utf16 = "\xFF\xFE";
    for (char c : utf8) {
        utf16 += c;
        utf16 += '\0';
    }
    testsupport::TempFile file(utf16);
    std::map<std::string, tenantscan::SourceLocation> locations = {
        {"x", {file.path(), "/value/0", 0}}, {"y", {file.path(), "/value/1", 0}}, {"gone", {"/nonexistent/file.json", "/a", 0}}};
    tenantscan::locate_lines(locations);
    CHECK(locations["x"].line == 3);
    CHECK(locations["y"].line == 4);
    CHECK(locations["gone"].line == 1);
}
