// Shared helpers for the rule tests: tiny inline tenant fragments (ScubaGear style), run through
// the real loader, directory, engine and scan, and a check that each rule's doc page matches its
// metadata. Header-only: tests/CMakeLists.txt compiles only *_test.cpp files.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/builtin_rules.hpp>

#include "support.hpp"

namespace rulestest {

using nlohmann::json;
using tenantscan::Finding;
using tenantscan::Severity;
using tenantscan::Status;

inline const std::string kTenantId = "7d1f0c1e-0000-4000-8000-000000000001";
inline const std::string kExchangeOnline = "00000002-0000-0ff1-ce00-000000000000";

// A snapshot v1 document; sections not given are absent (not collected).
inline json tenant(json graph, json exchange = json::object()) {
    return {{"snapshotVersion", 1},
            {"tenantId", kTenantId},
            {"collectedAt", "2026-11-27T06:00:00Z"},
            {"graph", std::move(graph)},
            {"exchange", std::move(exchange)}};
}

// A Graph user (camelCase, as GET /users returns it).
inline json user(const std::string& id, const std::string& upn, json extra = json::object()) {
    json u = {{"id", id},
              {"userPrincipalName", upn},
              {"displayName", upn.substr(0, upn.find('@'))},
              {"userType", "Member"},
              {"accountEnabled", true}};
    u.update(extra);
    return u;
}

// An HVE account as Get-MailUser -HVEAccount | ConvertTo-Json writes it (PascalCase).
inline json hve_account(const std::string& entraId, const std::string& address) {
    const std::string name = address.substr(0, address.find('@'));
    return {{"Identity", name},
            {"Name", name},
            {"DisplayName", name},
            {"PrimarySmtpAddress", address},
            {"ExternalDirectoryObjectId", entraId},
            {"EmailAddresses", {"SMTP:" + address}}};
}

// A Graph group with its direct members.
inline json group(const std::string& id, const std::string& name, const std::vector<std::string>& userIds,
                  const std::vector<std::string>& groupIds = {}) {
    json members = json::array();
    for (const auto& u : userIds) members.push_back({{"@odata.type", "#microsoft.graph.user"}, {"id", u}});
    for (const auto& g : groupIds) members.push_back({{"@odata.type", "#microsoft.graph.group"}, {"id", g}});
    return {{"id", id}, {"displayName", name}, {"securityEnabled", true}, {"members", members}};
}

// A Conditional Access policy (Graph v1.0 shape).
inline json policy(const std::string& id, const std::string& name, const std::string& state, json conditions,
                   json grantControls) {
    return {{"@odata.type", "#microsoft.graph.conditionalAccessPolicy"},
            {"id", id},
            {"displayName", name},
            {"state", state},
            {"conditions", std::move(conditions)},
            {"grantControls", std::move(grantControls)},
            {"sessionControls", nullptr}};
}

inline json users_condition(const std::vector<std::string>& excludeGroups = {},
                            const std::vector<std::string>& includeUsers = {"All"}) {
    return {{"includeUsers", includeUsers},
            {"excludeUsers", json::array()},
            {"includeGroups", json::array()},
            {"excludeGroups", excludeGroups},
            {"includeRoles", json::array()},
            {"excludeRoles", json::array()}};
}

inline json grant(const std::vector<std::string>& controls) {
    return {{"operator", "OR"}, {"builtInControls", controls}};
}

// Microsoft's "Block legacy authentication" template: all users, all resources, EAS + other, block.
inline json block_legacy_policy(const std::string& id, const std::string& name, const std::string& state = "enabled",
                                const std::vector<std::string>& excludeGroups = {}) {
    return policy(id, name, state,
                  {{"users", users_condition(excludeGroups)},
                   {"applications", {{"includeApplications", {"All"}}}},
                   {"clientAppTypes", {"exchangeActiveSync", "other"}}},
                  grant({"block"}));
}

// "Require MFA for all users": all client apps, so legacy clients (which cannot do MFA) are blocked too.
inline json require_mfa_policy(const std::string& id, const std::string& name, const std::string& state = "enabled",
                               const std::vector<std::string>& excludeGroups = {}) {
    return policy(id, name, state,
                  {{"users", users_condition(excludeGroups)},
                   {"applications", {{"includeApplications", {"All"}}}},
                   {"clientAppTypes", {"all"}}},
                  grant({"mfa"}));
}

// The Graph sections the Conditional Access rules read: the policies, security defaults (off unless
// securityDefaults), the users, the groups and no named locations.
inline json ca_graph(json policies, json users, json groups, bool securityDefaults = false) {
    return {{"conditionalAccessPolicies", std::move(policies)},
            {"securityDefaults", {{"isEnabled", securityDefaults}}},
            {"users", std::move(users)},
            {"groups", std::move(groups)},
            {"namedLocations", json::array()}};
}

// An IP named location.
inline json ip_location(const std::string& id, const std::string& name, const std::vector<std::string>& cidrs,
                        bool trusted = true) {
    json ranges = json::array();
    for (const auto& c : cidrs) ranges.push_back({{"@odata.type", "#microsoft.graph.iPv4CidrRange"}, {"cidrAddress", c}});
    return {{"@odata.type", "#microsoft.graph.ipNamedLocation"},
            {"id", id},
            {"displayName", name},
            {"isTrusted", trusted},
            {"ipRanges", ranges}};
}

// A sign-in log entry (GET /auditLogs/signIns).
inline json sign_in(const std::string& userId, const std::string& upn, const std::string& ip, const std::string& country) {
    return {{"id", "si-" + ip},
            {"createdDateTime", "2026-11-20T08:00:00Z"},
            {"userId", userId},
            {"userPrincipalName", upn},
            {"appId", kExchangeOnline},
            {"clientAppUsed", "Authenticated SMTP"},
            {"ipAddress", ip},
            {"location", {{"countryOrRegion", country}}},
            {"status", {{"errorCode", 0}}}};
}

// Scan options that evaluate as of a date (YYYY-MM-DD).
inline tenantscan::ScanOptions as_of(const std::string& date) {
    tenantscan::ScanOptions options;
    options.asOf = date;
    return options;
}

// Runs one rule over an inline snapshot through the real loader and scan.
inline std::vector<Finding> run_rule(std::unique_ptr<tenantscan::Rule> rule, const json& document,
                                     tenantscan::ScanOptions options = {}) {
    tenantscan::Registry registry;
    registry.add(std::move(rule));
    if (options.asOf.empty()) options.asOf = "2026-11-27";
    const auto snapshot = testsupport::snapshot_from(document);
    return tenantscan::run_scan(snapshot, registry, options).findings;
}

// The finding about the subject with that name (fails the test when there is none or several).
inline Finding finding_for(const std::vector<Finding>& findings, const std::string& subjectName) {
    auto matches = std::count_if(findings.begin(), findings.end(),
                                 [&](const Finding& f) { return f.subject.name == subjectName; });
    INFO("findings: " << findings.size() << ", subject: " << subjectName);
    REQUIRE(matches == 1);
    return *std::find_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.subject.name == subjectName; });
}

// The one finding of a rule that reports once per tenant.
inline Finding single(const std::vector<Finding>& findings) {
    REQUIRE(findings.size() == 1);
    return findings.front();
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A scan without a section the rule requires: one error finding, naming the section.
inline void check_section_missing(const std::vector<Finding>& findings, const std::string& section) {
    const Finding f = single(findings);
    CHECK(f.status == Status::Error);
    CHECK(contains(f.message, section));
}

// The rule is in the builtin registry, and its doc page (same stem as its source) states what its
// metadata says: id, title, default severity, required sections, parameters, references.
inline void check_registered_and_documented(const std::string& id, const std::string& docPath) {
    tenantscan::Registry registry;
    tenantscan::register_builtin_rules(registry);
    const tenantscan::Rule* rule = registry.find(id);
    REQUIRE(rule != nullptr);
    const auto& m = rule->metadata();
    CHECK(m.id == id);
    CHECK_FALSE(m.title.empty());
    CHECK_FALSE(m.rationale.empty());
    CHECK_FALSE(m.remediation.empty());
    CHECK_FALSE(m.references.empty());

    const std::string doc = testsupport::read_file(testsupport::source_dir() + "/" + docPath);
    REQUIRE_FALSE(doc.empty());
    CHECK(contains(doc, "`" + m.id + "`"));
    CHECK(contains(doc, m.title));
    CHECK(contains(doc, std::string("Default severity: **") + tenantscan::to_string(m.defaultSeverity) + "**"));
    for (const auto& section : m.requiredSections) {
        INFO("required section " << section);
        CHECK(contains(doc, "`" + section + "`"));
    }
    for (const auto& parameter : m.parameters) {
        INFO("parameter " << parameter.name);
        CHECK(contains(doc, "`" + parameter.name + "`"));
        CHECK(contains(doc, parameter.defaultValue.is_string() ? parameter.defaultValue.get<std::string>()
                                                               : parameter.defaultValue.dump()));
    }
    for (const auto& reference : m.references) {
        INFO("reference " << reference);
        CHECK(contains(doc, reference));
    }
}

}  // namespace rulestest
