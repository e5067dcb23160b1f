// Reading JSON as admins export it: encodings, syntax errors, hostile nesting, and the tolerant
// accessors of JsonView (casing, annotations, envelopes, nulls).
#include <doctest/doctest.h>

#include <string>

#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

#include "support.hpp"

using tenantscan::InputError;
using tenantscan::JsonView;
using nlohmann::json;

namespace {

// Encodes ASCII/BMP/astral code points as UTF-16 bytes, the way PowerShell's Out-File writes them.
std::string utf16(const std::u16string& text, bool littleEndian, bool withBom) {
    std::string bytes;
    auto put = [&](char16_t unit) {
        char high = static_cast<char>(unit >> 8), low = static_cast<char>(unit & 0xFF);
        bytes += littleEndian ? low : high;
        bytes += littleEndian ? high : low;
    };
    if (withBom) put(u'\uFEFF');
    for (char16_t unit : text) put(unit);
    return bytes;
}

// The message of the InputError thrown by `action` (fails the test when nothing is thrown).
template <class Action>
std::string error_of(Action action) {
    try {
        action();
    } catch (const InputError& error) {
        return error.what();
    }
    FAIL("expected an InputError");
    return {};
}

}  // namespace

TEST_CASE("json_input: UTF-8 with and without BOM read the same") {
    const std::string text = "{\"name\": \"Zo\xC3\xAB\"}";
    CHECK(tenantscan::decode_text(text, "a.json") == text);
    CHECK(tenantscan::decode_text("\xEF\xBB\xBF" + text, "a.json") == text);
    CHECK(tenantscan::parse_json_text("\xEF\xBB\xBF" + text, "a.json")["name"] == "Zo\xC3\xAB");
}

TEST_CASE("json_input: UTF-16LE and UTF-16BE transcode to UTF-8, surrogate pairs included") {
    // "Zoë 😀" – U+00EB is two UTF-8 bytes, U+1F600 is a surrogate pair in UTF-16 and four UTF-8 bytes.
    const std::u16string text = u"{\"name\": \"Zo\u00EB \U0001F600\"}";
    const std::string expected = "{\"name\": \"Zo\xC3\xAB \xF0\x9F\x98\x80\"}";
    CHECK(tenantscan::decode_text(utf16(text, true, true), "le.json") == expected);
    CHECK(tenantscan::decode_text(utf16(text, false, true), "be.json") == expected);
    // Without a BOM the NUL byte beside the first ASCII character gives the byte order away.
    CHECK(tenantscan::decode_text(utf16(text, true, false), "le.json") == expected);
    CHECK(tenantscan::decode_text(utf16(text, false, false), "be.json") == expected);
    CHECK(tenantscan::parse_json_text(utf16(text, true, true), "le.json")["name"] == "Zo\xC3\xAB \xF0\x9F\x98\x80");
}

TEST_CASE("json_input: invalid UTF-16 is rejected with an error naming the file") {
    std::string odd = utf16(u"{}", true, true) + "x";
    std::string message = error_of([&] { tenantscan::decode_text(odd, "odd.json"); });
    CHECK(message.rfind("odd.json: ", 0) == 0);
    CHECK(message.find("odd number of bytes") != std::string::npos);

    std::u16string unpairedHigh = u"{\"a\": \"";
    unpairedHigh += char16_t(0xD83D);
    unpairedHigh += u"x\"}";
    message = error_of([&] { tenantscan::decode_text(utf16(unpairedHigh, true, true), "high.json"); });
    CHECK(message.rfind("high.json: ", 0) == 0);
    CHECK(message.find("unpaired high surrogate 0xD83D") != std::string::npos);

    std::u16string unpairedLow = u"{\"a\": \"";
    unpairedLow += char16_t(0xDE00);
    unpairedLow += u"\"}";
    message = error_of([&] { tenantscan::decode_text(utf16(unpairedLow, false, true), "low.json"); });
    CHECK(message.find("low.json: invalid UTF-16BE text: unpaired low surrogate 0xDE00") == 0);

    // A high surrogate as the very last unit has no partner either.
    std::u16string trailingHigh = u"{}";
    trailingHigh += char16_t(0xD800);
    CHECK(error_of([&] { tenantscan::decode_text(utf16(trailingHigh, true, true), "t.json"); })
              .find("unpaired high surrogate") != std::string::npos);

    CHECK(error_of([] { tenantscan::decode_text(std::string("\xFF\xFE\0\0{}", 6), "u32.json"); })
              .find("UTF-32") != std::string::npos);
}

TEST_CASE("json_input: syntax errors name the file, line and column") {
    std::string message = error_of([] { tenantscan::parse_json_text("{\n  \"a\": [1, 2,\n", "cut.json"); });
    CHECK(message.rfind("cut.json: line 3, column 1: ", 0) == 0);
    CHECK(message.find("syntax error") != std::string::npos);

    message = error_of([] { tenantscan::parse_json_text("{\"a\": 1,}", "comma.json"); });
    CHECK(message.rfind("comma.json: line 1, column 9: ", 0) == 0);

    CHECK(error_of([] { tenantscan::parse_json_text("", "empty.json"); }).rfind("empty.json: line 1", 0) == 0);
    // Invalid UTF-8 inside a string is caught by the parser too.
    CHECK(error_of([] { tenantscan::parse_json_text("{\"a\": \"\xC3\x28\"}", "bad8.json"); }).rfind("bad8.json: ", 0) == 0);
    // Numbers beyond double range.
    CHECK(error_of([] { tenantscan::parse_json_text("[1e999]", "big.json"); }).rfind("big.json: ", 0) == 0);
}

TEST_CASE("json_input: pathological nesting fails fast with a clear error") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    std::string message = error_of([&] { tenantscan::parse_json_text(deep, "deep.json"); });
    CHECK(message == "deep.json: line 1, column 257: arrays and objects nested more than 256 levels deep");

    const std::string deepObjects = [] {
        std::string text;
        for (int i = 0; i < 300; ++i) text += "{\"a\":\n";
        return text;
    }();
    CHECK(error_of([&] { tenantscan::parse_json_text(deepObjects, "objects.json"); })
              .rfind("objects.json: line 257, column 1: ", 0) == 0);

    // Brackets inside strings (escaped quotes included) do not count; 256 real levels are fine.
    const std::string inString = "[\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"]";
    CHECK(tenantscan::parse_json_text(inString, "s.json")[0].get<std::string>().size() == 2001);
    const std::string allowed = std::string(256, '[') + std::string(256, ']');
    CHECK(tenantscan::parse_json_text(allowed, "ok.json").is_array());
}

TEST_CASE("json_input: reading files") {
    testsupport::TempFile file(utf16(u"{\"x\": [1, 2]}", true, true));
    CHECK(tenantscan::read_json_file(file.path())["x"][1] == 2);

    std::string message = error_of([] { tenantscan::read_json_file("/nonexistent/tenant.json"); });
    CHECK(message.rfind("/nonexistent/tenant.json: cannot open file: ", 0) == 0);
    CHECK(error_of([] { tenantscan::read_json_file("/tmp"); }) == "/tmp: is a directory, not a JSON file");

    testsupport::TempFile truncated("{\"graph\": {\"users\": [");
    message = error_of([&] { tenantscan::read_json_file(truncated.path()); });
    CHECK(message.rfind(truncated.path() + ": line 1, column 22: ", 0) == 0);
}

TEST_CASE("json_input: annotation keys") {
    CHECK(tenantscan::is_annotation_key("@odata.context"));
    CHECK(tenantscan::is_annotation_key("@odata.type"));
    CHECK(tenantscan::is_annotation_key("createdDateTime@odata.type"));
    CHECK(tenantscan::is_annotation_key("@microsoft.graph.tips"));
    CHECK_FALSE(tenantscan::is_annotation_key("displayName"));
    CHECK_FALSE(tenantscan::is_annotation_key("#microsoft.graph.restore"));
}

TEST_CASE("json_input: JsonView matches names case-insensitively and skips annotations") {
    json doc = json::parse(R"({
        "DisplayName": "Pascal",
        "state@odata.type": "#microsoft.graph.conditionalAccessPolicyState",
        "state": "enabled",
        "a/b~c": 1,
        "nested": {"Inner": {"Leaf": true}}
    })");
    JsonView view(doc, "f.json", "");
    CHECK(view.string("displayName") == "Pascal");
    CHECK(view.get("displayName").pointer() == "/DisplayName");
    CHECK(view.string("STATE") == "enabled");
    CHECK(view.get("a/b~c").pointer() == "/a~1b~0c");
    CHECK(view.get("nested").get("inner").get("leaf").pointer() == "/nested/Inner/Leaf");
    CHECK(view.get("nested").get("inner").boolean("leaf", false));
    // Absent members are null views that still know where they would be.
    CHECK(view.get("missing").is_null());
    CHECK(view.get("missing").pointer() == "/missing");
    CHECK(view.get("missing").get("deeper").pointer() == "/missing/deeper");
    CHECK_FALSE(view.has("missing"));
    CHECK(view.has("state"));
    CHECK(view.string("missing", "fallback") == "fallback");
}

TEST_CASE("json_input: JsonView scalar accessors check types and name the pointer") {
    json doc = json::parse(R"({"s": "text", "n": 42, "f": 3.0, "big": 18446744073709551615, "b": true,
                               "bt": "True", "bf": "false", "by": "yes", "nul": null, "emptyList": []})");
    JsonView view(doc, "t.json", "/root");
    CHECK(view.integer("n", 0) == 42);
    CHECK(view.integer("f", 0) == 3);
    CHECK(view.integer("nul", 7) == 7);
    CHECK(view.boolean("b", false));
    CHECK(view.boolean("bt", false));
    CHECK_FALSE(view.boolean("bf", true));
    CHECK_FALSE(view.optional_boolean("nul").has_value());
    CHECK(view.optional_boolean("missing") == std::nullopt);
    CHECK_FALSE(view.has("emptyList"));
    CHECK(view.get("emptyList").get("x").is_null());  // [] where an object is expected = not configured

    CHECK(error_of([&] { view.string("n"); }) == "t.json: /root/n: expected a string, got a number");
    CHECK(error_of([&] { view.boolean("s", false); }) == "t.json: /root/s: expected true or false, got the string \"text\"");
    CHECK(error_of([&] { view.boolean("by", false); }).find("got the string \"yes\"") != std::string::npos);
    CHECK(error_of([&] { view.boolean("n", false); }) == "t.json: /root/n: expected true or false, got a number");
    CHECK(error_of([&] { view.integer("s", 0); }) == "t.json: /root/s: expected an integer, got a string");
    CHECK(error_of([&] { json f = 1.5; JsonView(f, "t.json", "/x").integer("y", 0); })
              == "t.json: /x: expected an object, got a number");
    CHECK(error_of([&] { view.integer("big", 0); }).find("/root/big: expected an integer") != std::string::npos);
    CHECK(error_of([&] { view.get("s").get("x"); }) == "t.json: /root/s: expected an object, got a string");
}

TEST_CASE("json_input: lists accept arrays, envelopes, bare objects and nulls") {
    json doc = json::parse(R"({
        "array": ["a", "b"],
        "bare": "only",
        "nul": null,
        "empty": [],
        "envelope": {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x", "@odata.nextLink": null,
                     "value": ["x", null, "y"]},
        "bad": ["a", 5],
        "objects": {"value": [{"id": 1}, {"id": 2}]},
        "single": {"id": 3, "value": "not an envelope"},
        "text": "t"
    })");
    JsonView view(doc, "l.json", "");
    CHECK(view.strings("array") == std::vector<std::string>{"a", "b"});
    CHECK(view.strings("bare") == std::vector<std::string>{"only"});
    CHECK(view.strings("nul").empty());
    CHECK(view.strings("empty").empty());
    CHECK(view.strings("missing").empty());
    CHECK(view.strings("envelope") == std::vector<std::string>{"x", "y"});
    CHECK(error_of([&] { view.strings("bad"); }) == "l.json: /bad/1: expected a string, got a number");

    auto objects = view.elements("objects");
    REQUIRE(objects.size() == 2);
    CHECK(objects[1].pointer() == "/objects/value/1");
    CHECK(objects[1].integer("id", 0) == 2);

    auto single = view.elements("single");
    REQUIRE(single.size() == 1);
    CHECK(single[0].pointer() == "/single");
    CHECK(error_of([&] { view.elements("text"); }) == "l.json: /text: expected an array, got a string");
}

TEST_CASE("json_input: duplicate keys keep the last value (nlohmann's behaviour)") {
    json doc = tenantscan::parse_json_text(R"({"sessionControls": null, "sessionControls": {"x": 1}})", "d.json");
    CHECK(doc["sessionControls"]["x"] == 1);
}

TEST_CASE("json_input: helpers") {
    CHECK(tenantscan::split_flags("internalGuest, b2bCollaborationGuest,,serviceProvider ") ==
          std::vector<std::string>{"internalGuest", "b2bCollaborationGuest", "serviceProvider"});
    CHECK(tenantscan::split_flags("").empty());
    CHECK(tenantscan::split_flags(" , ").empty());
    CHECK(tenantscan::split_flags("one") == std::vector<std::string>{"one"});
    CHECK(tenantscan::iequals("AllTrusted", "alltrusted"));
    CHECK_FALSE(tenantscan::iequals("All", "AllTrusted"));
    CHECK(tenantscan::to_lower("MfaAndChangePassword") == "mfaandchangepassword");
    CHECK(tenantscan::describe_json_type(json::array()) == "an array");
    CHECK(tenantscan::describe_json_type(json::object()) == "an object");
    CHECK(tenantscan::describe_json_type(json("s")) == "a string");
    CHECK(tenantscan::describe_json_type(json(1.5)) == "a number");
    CHECK(tenantscan::describe_json_type(json(true)) == "a boolean");
    CHECK(tenantscan::describe_json_type(json()) == "null");
}

TEST_CASE("json_input: InputError composes file, pointer and message") {
    InputError withPointer("tenant.json", "/graph/conditionalAccessPolicies", "expected an array, got a string");
    CHECK(std::string(withPointer.what()) ==
          "tenant.json: /graph/conditionalAccessPolicies: expected an array, got a string");
    CHECK(withPointer.file() == "tenant.json");
    CHECK(withPointer.pointer() == "/graph/conditionalAccessPolicies");
    CHECK(withPointer.message() == "expected an array, got a string");
    CHECK(std::string(InputError("tenant.json", "", "cannot open file").what()) == "tenant.json: cannot open file");
}
