#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>

#include <tenantscan/detail/device_filter.hpp>

using tenantscan::DeviceFilterRule;
using tenantscan::DeviceFilterSyntaxError;
using Device = std::map<std::string, std::optional<std::string>>;

namespace {

bool on(const std::string& rule, const Device& device) { return DeviceFilterRule::parse(rule).matches(device); }
bool unregistered(const std::string& rule) { return DeviceFilterRule::parse(rule).matches_unregistered_device(); }

// The position of the syntax error, and that its message says what was expected.
std::size_t error_position(const std::string& rule, const std::string& expectedInMessage) {
    try {
        DeviceFilterRule::parse(rule);
    } catch (const DeviceFilterSyntaxError& e) {
        const std::string message = e.what();
        INFO("rule: " << rule << "\nmessage: " << message);
        CHECK(message.find(expectedInMessage) != std::string::npos);
        CHECK(message.find("at position " + std::to_string(e.position())) != std::string::npos);
        return e.position();
    }
    FAIL("no syntax error for: " << rule);
    return 0;
}

const Device kLaptop{{"displayname", "WD-Shared-042"},
                     {"trusttype", "ServerAD"},
                     {"iscompliant", "True"},
                     {"deviceownership", "Company"},
                     {"operatingsystemversion", "10.0.19045"},
                     {"extensionattribute1", std::nullopt}};

}  // namespace

TEST_CASE("device filter: every positive operator is false and every negative one true on an unregistered device") {
    const char* positives[] = {
        R"(device.trustType -eq "ServerAD")",       R"(device.displayName -startsWith "WD")",
        R"(device.displayName -endsWith "42")",     R"(device.displayName -contains "Shared")",
        R"(device.trustType -in ["ServerAD", "AzureAD"])", R"(device.displayName -match "^WD-")",
    };
    const char* negatives[] = {
        R"(device.trustType -ne "ServerAD")",       R"(device.displayName -notStartsWith "WD")",
        R"(device.displayName -notEndsWith "42")",  R"(device.displayName -notContains "Shared")",
        R"(device.trustType -notIn ["ServerAD", "AzureAD"])", R"(device.displayName -notMatch "^WD-")",
    };
    for (const char* rule : positives) {
        INFO(rule);
        CHECK_FALSE(unregistered(rule));
        CHECK_FALSE(on(rule, {}));                                 // absent property = null
        CHECK_FALSE(on(rule, {{"trusttype", std::nullopt}, {"displayname", std::nullopt}}));
    }
    for (const char* rule : negatives) {
        INFO(rule);
        CHECK(unregistered(rule));
        CHECK(on(rule, {{"trusttype", std::nullopt}, {"displayname", std::nullopt}}));
    }
}

TEST_CASE("device filter: operators on values") {
    CHECK(on(R"(device.trustType -eq "ServerAD")", kLaptop));
    CHECK_FALSE(on(R"(device.trustType -eq "AzureAD")", kLaptop));
    CHECK(on(R"(device.trustType -ne "AzureAD")", kLaptop));
    CHECK_FALSE(on(R"(device.trustType -ne "ServerAD")", kLaptop));

    CHECK(on(R"(device.displayName -startsWith "WD-Shared")", kLaptop));
    CHECK_FALSE(on(R"(device.displayName -startsWith "Shared")", kLaptop));
    CHECK(on(R"(device.displayName -notStartsWith "CPAW")", kLaptop));
    CHECK_FALSE(on(R"(device.displayName -notStartsWith "WD")", kLaptop));

    CHECK(on(R"(device.displayName -endsWith "-042")", kLaptop));
    CHECK_FALSE(on(R"(device.displayName -endsWith "WD")", kLaptop));
    CHECK(on(R"(device.displayName -notEndsWith "WD")", kLaptop));
    CHECK_FALSE(on(R"(device.displayName -notEndsWith "042")", kLaptop));

    CHECK(on(R"(device.displayName -contains "Shared")", kLaptop));
    CHECK_FALSE(on(R"(device.displayName -contains "PAW")", kLaptop));
    CHECK(on(R"(device.displayName -notContains "PAW")", kLaptop));
    CHECK_FALSE(on(R"(device.displayName -notContains "-")", kLaptop));

    CHECK(on(R"(device.operatingSystemVersion -in ["10.0.19044", "10.0.19045"])", kLaptop));
    CHECK_FALSE(on(R"(device.operatingSystemVersion -in ["10.0.22000"])", kLaptop));
    CHECK(on(R"(device.operatingSystemVersion -notIn ["10.0.22000", "10.0.22621"])", kLaptop));
    CHECK_FALSE(on(R"(device.operatingSystemVersion -notIn ["10.0.19045"])", kLaptop));

    CHECK(on(R"(device.displayName -match "^wd-[a-z]+-\d{3}$")", kLaptop));  // case-insensitive, \d kept literally
    CHECK_FALSE(on(R"(device.displayName -match "^PAW")", kLaptop));
    CHECK(on(R"(device.displayName -notMatch "^PAW")", kLaptop));
    CHECK_FALSE(on(R"(device.displayName -notMatch "Shared")", kLaptop));  // a search, not a full match
    // Patterns a backtracking matcher takes exponential time on (2^40 paths here) answer at once:
    // -match runs on RE2. With std::regex this line would not finish.
    const Device longName{{"displayname", std::string(40, 'a') + "!"}};
    CHECK_FALSE(on(R"(device.displayName -match "^(a+)+$")", longName));
    CHECK_FALSE(on(R"(device.displayName -match "^(a|a)*$")", longName));
    CHECK(on(R"(device.displayName -match "^(a+)+!$")", longName));
    // RE2 has no back-references: such a pattern is refused (a policy using it is "cannot tell").
    CHECK(error_position(R"(device.displayName -match "(a)\1")", "invalid regular expression") == 26);

    // A property the device map has as explicitly null.
    CHECK_FALSE(on(R"(device.extensionAttribute1 -eq "CONTOSO-IT")", kLaptop));
    CHECK(on(R"(device.extensionAttribute1 -ne "CONTOSO-IT")", kLaptop));
}

TEST_CASE("device filter: names, operators and values compare case-insensitively") {
    CHECK(on(R"(DEVICE.TRUSTTYPE -EQ "serverad")", kLaptop));
    CHECK(on(R"(device.displayname -STARTSWITH "wd-shared")", kLaptop));
    CHECK(on(R"(device.trustType -NotIn ["azuread"])", kLaptop));
    CHECK(on("device.isCompliant -eq true", kLaptop));
    CHECK(on("device.isCompliant -eq True -AND device.trustType -eq ServerAD", kLaptop));
}

TEST_CASE("device filter: -and binds tighter than -or, parentheses override, -not negates") {
    const Device serverNonCompliant{{"trusttype", "ServerAD"}, {"iscompliant", "False"}, {"deviceownership", "Personal"}};
    // a -or b -and c  ==  a -or (b -and c): true through a alone.
    const std::string loose = R"(device.trustType -eq "ServerAD" -or device.isCompliant -eq True -and device.deviceOwnership -eq "Company")";
    CHECK(on(loose, serverNonCompliant));
    // (a -or b) -and c: false, c does not hold.
    const std::string grouped = R"((device.trustType -eq "ServerAD" -or device.isCompliant -eq True) -and device.deviceOwnership -eq "Company")";
    CHECK_FALSE(on(grouped, serverNonCompliant));
    // a -and b -or c  ==  (a -and b) -or c
    CHECK(on(R"(device.trustType -eq "AzureAD" -and device.isCompliant -eq True -or device.deviceOwnership -eq "Personal")",
             serverNonCompliant));

    CHECK_FALSE(on(R"(-not device.trustType -eq "ServerAD")", serverNonCompliant));
    CHECK(on(R"(-not (device.trustType -eq "AzureAD"))", serverNonCompliant));
    CHECK(on(R"(-not -not device.trustType -eq "ServerAD")", serverNonCompliant));
    // -not binds tighter than -and.
    CHECK(on(R"(-not device.trustType -eq "AzureAD" -and device.isCompliant -eq False)", serverNonCompliant));
    // -not of a positive operator holds on an unregistered device, like a negative operator.
    CHECK(unregistered(R"(-not (device.trustType -eq "ServerAD"))"));

    CHECK(DeviceFilterRule::parse(loose).to_string() ==
          R"(device.trustType -eq "ServerAD" -or device.isCompliant -eq True -and device.deviceOwnership -eq "Company")");
    CHECK(DeviceFilterRule::parse(grouped).to_string() ==
          R"((device.trustType -eq "ServerAD" -or device.isCompliant -eq True) -and device.deviceOwnership -eq "Company")");
}

TEST_CASE("device filter: quoted strings, escapes, lists and bare words") {
    const Device quoted{{"displayname", R"(Scott's "lab" PC)"}, {"trusttype", "Workplace"}};
    CHECK(on(R"(device.displayName -eq "Scott's \"lab\" PC")", quoted));
    CHECK(on("device.displayName -eq \"Scott's `\"lab`\" PC\"", quoted));  // dynamic-membership backtick escape
    CHECK(on(R"(device.displayName -eq 'Scott\'s "lab" PC')", quoted));
    CHECK(on("device.trustType -ne 'Workplace' -or device.displayName -contains 'lab'", quoted));
    // The whole rule escaped once more than JSON needs: \"Workplace\".
    CHECK(on(R"(device.trustType -eq \"Workplace\")", quoted));
    CHECK(on(R"(device.trustType -in [ "AzureAD" ,'Workplace',ServerAD ])", quoted));
    CHECK(on("device.trustType -eq Workplace", quoted));

    CHECK(DeviceFilterRule::parse(R"(device.displayName -eq 'Scott\'s "lab" PC')").to_string() ==
          R"(device.displayName -eq "Scott's \"lab\" PC")");
    CHECK(DeviceFilterRule::parse("device.trustType -IN ['a',b]").to_string() == R"(device.trustType -in ["a", b])");
}

TEST_CASE("device filter: to_string re-parses to the same rule") {
    const char* rules[] = {
        R"(-not (device.a -eq "x" -or device.b -ne "y") -and -not -not device.c -in ["1", "2"])",
        R"(device.a -match "^a\d+$" -or (device.b -notContains "q" -and (device.c -endsWith "z" -or device.d -eq True)))",
    };
    for (const char* rule : rules) {
        auto printed = DeviceFilterRule::parse(rule).to_string();
        CHECK(DeviceFilterRule::parse(printed).to_string() == printed);
    }
}

TEST_CASE("device filter: malformed rules are rejected with the position and what was expected") {
    CHECK(error_position("", "empty rule") == 0);
    CHECK(error_position("   ", "empty rule") == 0);
    CHECK(error_position(R"(device.trustType -equals "ServerAD")", "unknown operator '-equals'") == 17);
    CHECK(error_position(R"(device.trustType -eq)", "expected a value") == 20);
    CHECK(error_position(R"(device.trustType "ServerAD")", "expected an operator") == 17);
    CHECK(error_position(R"(trustType -eq "ServerAD")", "expected a device property") == 0);
    CHECK(error_position(R"(device. -eq "x")", "expected a property name") == 7);
    CHECK(error_position(R"(device.trust-Type -eq "x")", "unexpected character '-'") == 12);
    CHECK(error_position(R"(device.trustType -eq "ServerAD)", "unterminated string") == 21);
    CHECK(error_position(R"(device.trustType -eq 'ServerAD)", "unterminated string") == 21);
    CHECK(error_position(R"((device.trustType -eq "ServerAD")", "expected ')' to close the '(' at position 0") == 32);
    CHECK(error_position(R"(device.trustType -eq "ServerAD"))", "expected -and, -or or the end") == 31);
    CHECK(error_position(R"(device.trustType -eq "ServerAD" -and)", "expected a device property") == 36);
    CHECK(error_position(R"(device.trustType -eq "ServerAD" device.isCompliant -eq True)", "found 'device.isCompliant'") == 32);
    CHECK(error_position(R"(device.trustType -eq "A" -xor device.b -eq "B")", "expected -and, -or") == 25);
    CHECK(error_position(R"(() -or device.a -eq "x")", "empty parentheses") == 1);
    CHECK(error_position(R"(device.trustType -in "ServerAD")", "expected '['") == 21);
    CHECK(error_position(R"(device.trustType -in ["a",])", "expected a value") == 26);
    CHECK(error_position(R"(device.trustType -in ["a" "b"])", "expected ',' or ']'") == 26);
    CHECK(error_position(R"(device.trustType -in ["a")", "expected ',' or ']'") == 25);
    CHECK(error_position(R"(device.trustType -eq ["a"])", "only allowed after -in or -notIn") == 21);
    CHECK(error_position(R"(device.trustType -eq device.displayName)", "expected a value") == 21);
    CHECK(error_position(R"(device.displayName -match "WD-(")", "invalid regular expression") == 26);
    CHECK(error_position(R"(device.displayName -eq "x" ; drop)", "expected -and, -or or the end of the rule, found ';'") == 27);
    CHECK(error_position(R"(device.displayName -eq "x" -and \x)", "unexpected character '\\'") == 32);
}

TEST_CASE("device filter: nesting is bounded without overflowing the stack") {
    auto nested = [](int depth) {
        return std::string(static_cast<std::size_t>(depth), '(') + R"(device.a -eq "x")" +
               std::string(static_cast<std::size_t>(depth), ')');
    };
    CHECK(DeviceFilterRule::parse(nested(200)).matches({{"a", "x"}}));
    CHECK(error_position(nested(201), "nested deeper than 200") == 200);  // the 201st '('
    CHECK(error_position(nested(100000), "nested deeper than 200") == 200);
    std::string nots;
    for (int i = 0; i < 100000; ++i) nots += "-not ";
    CHECK(error_position(nots + R"(device.a -eq "x")", "nested deeper than 200") == 1000);

    // Long flat chains are not nesting: 20 000 alternatives parse, evaluate and print.
    std::string chain = R"(device.a -eq "v0")";
    for (int i = 1; i < 20000; ++i) chain += R"( -or device.a -eq "v)" + std::to_string(i) + "\"";
    auto rule = DeviceFilterRule::parse(chain);
    CHECK(rule.matches({{"a", "v19999"}}));
    CHECK_FALSE(rule.matches_unregistered_device());
    CHECK(rule.to_string() == chain);

    // Regular expressions std::regex would compile recursively are refused up front.
    std::string deepPattern = std::string(40, '(') + "a" + std::string(40, ')');
    CHECK(error_position("device.a -match \"" + deepPattern + "\"", "nested deeper than 32 groups") == 16);
    CHECK(error_position("device.a -match \"" + std::string(2000, 'a') + "\"", "longer than 1000") == 16);
}

// Rules as they occur in the real-world corpus (deviceFilter.rule of real policies; tests/data/corpus).
TEST_CASE("device filter: rules from the corpus") {
    // alexfilipin 500/501/505 "... When on untrusted device": exclude compliant or hybrid-joined devices.
    const std::string compliantOrHybrid = R"(device.isCompliant -eq True -or device.trustType -eq "ServerAD")";
    CHECK_FALSE(unregistered(compliantOrHybrid));
    CHECK(on(compliantOrHybrid, {{"iscompliant", "False"}, {"trusttype", "ServerAD"}}));
    CHECK_FALSE(on(compliantOrHybrid, {{"iscompliant", "False"}, {"trusttype", "AzureAD"}}));

    // denis-beuermann "Admin 5 - Block Tier 0 Roles on non-T0-PAW devices" (flat -or chain).
    const std::string paw =
        R"(device.displayName -startsWith "CPAWT0" -or device.displayName -startsWith "SAZ0003" -or device.displayName -startsWith "SAZ0004" -or device.displayName -startsWith "SAZ0012" -or device.displayName -startsWith "SAZ0011" -or device.displayName -startsWith "VPAW000-" -or device.displayName -startsWith "SAZ0071")";
    CHECK_FALSE(unregistered(paw));
    CHECK(on(paw, {{"displayname", "saz0012-host"}}));
    CHECK_FALSE(on(paw, {{"displayname", "VPAW001-host"}}));

    // ScubaGear's CreateReport stub: single-quoted values, negative operators; an unregistered device matches.
    const std::string notJoined = "device.trustType -ne 'AzureAD' -and device.trustType -ne 'ServerAD' -and device.trustType -ne 'Workplace'";
    CHECK(unregistered(notJoined));
    CHECK_FALSE(on(notJoined, {{"trusttype", "Workplace"}}));
    CHECK(unregistered("device.trustType -ne 'Workplace'"));

    // dataguys template 011.
    const std::string mixed = R"(device.trustType -ne "ServerAD" -or device.isCompliant -ne True)";
    CHECK(unregistered(mixed));
    CHECK_FALSE(on(mixed, {{"trusttype", "ServerAD"}, {"iscompliant", "True"}}));

    // denis-beuermann "Mobile 5 - Require compliant device for Office 365 on MDM devices".
    const std::string ownership = R"(device.deviceOwnership -eq "Personal" -or device.deviceOwnership -eq "Company")";
    CHECK_FALSE(unregistered(ownership));
    CHECK(on(ownership, {{"deviceownership", "personal"}}));

    // philippkohn CA108.
    CHECK_FALSE(unregistered(R"(device.extensionAttribute1 -eq "CONTOSO-IT")"));
    CHECK_FALSE(unregistered(R"(device.enrollmentProfileName -eq "Shared Device Profile" -or device.enrollmentProfileName -eq "Shared")"));
    CHECK(on(R"(device.isCompliant -eq True -and device.deviceOwnership -eq "Company")", kLaptop));
}
