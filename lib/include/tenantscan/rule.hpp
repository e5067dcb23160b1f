// The rule framework: metadata, findings, the rule interface and the registry.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tenantscan {

struct Snapshot;
struct SmtpClientInventory;
class Directory;
class ConditionalAccessEngine;

// Waived is never produced by a rule: the scan gives it to a fail/review finding that a waiver in
// the configuration covers (Finding::waiver keeps the original status). An error is never waived.
enum class Status { Pass, Fail, Review, NotApplicable, Error, Waived };
enum class Severity { Critical, High, Medium, Low, Info };  // ordered worst first

const char* to_string(Status s);          // "pass" "fail" "review" "not-applicable" "error" "waived"
const char* to_string(Severity s);        // "critical" ... "info"
std::optional<Status> parse_status(std::string_view text);
std::optional<Severity> parse_severity(std::string_view text);
// True when a is at least as severe as b.
inline bool at_least(Severity a, Severity b) { return static_cast<int>(a) <= static_cast<int>(b); }

struct Subject {
    std::string kind;  // "hveAccount" | "user" | "tenant" | "smtpClient"
    std::string id;    // Entra object id (tenant id for the tenant)
    std::string name;  // primary SMTP address, UPN, or tenant id
};

// The tenant as a finding subject, the one identity every rule and the scan itself use (waivers
// and diff pair findings by it): {kind "tenant", id = tenant id, name = tenant id}; a snapshot
// without tenantId gives id "" and name "(tenant id not in snapshot)".
Subject tenant_subject(const Snapshot& snapshot);

// An accepted exception from the configuration file (docs/config.md): findings of `rule` whose
// subject matches `subject` do not gate until `expires` has passed.
struct Waiver {
    std::string rule;        // a registered rule id
    std::string subject;     // subject name or id, exact or a glob (* and ?), case-insensitive
    std::string reason;      // required
    std::string expires;     // YYYY-MM-DD, the last day the waiver applies
    std::string approvedBy;  // optional
    std::string origin;      // where it was declared, e.g. "tenantscan.json: /waivers/2"
};

// A waiver that matched a finding. When it has expired it no longer applies: the finding keeps
// its status and the report says the waiver expired.
struct FindingWaiver {
    Waiver waiver;
    Status originalStatus = Status::Fail;
    bool expired = false;
};

struct Finding {
    std::string rule;
    Status status = Status::Error;
    Severity severity = Severity::Info;
    Subject subject;
    std::string message;
    nlohmann::json evidence = nlohmann::json::object();
    std::string remediation;
    std::optional<FindingWaiver> waiver;  // set by the scan, never by a rule
};

struct RuleParameter {
    std::string name;
    std::string description;
    nlohmann::json defaultValue;
};

struct RuleMetadata {
    std::string id;            // kebab-case, module-prefixed; part of the contract
    std::string title;
    Severity defaultSeverity = Severity::Medium;
    std::string rationale;
    std::string remediation;
    std::vector<std::string> references;
    std::vector<std::string> requiredSections;  // snapshot JSON pointers, e.g. "/graph/users"
    std::vector<RuleParameter> parameters;
};

// Everything a rule may read, and how the scan treats the results. Built once per scan.
struct ScanOptions {
    std::string asOf;                                   // YYYY-MM-DD
    std::map<std::string, nlohmann::json> parameters;   // "<rule-id>.<name>" → value
    Severity failOn = Severity::Low;
    bool failOnReview = false;                          // review findings at or above failOn gate too
    std::set<std::string> disabledRules;                // rule ids not evaluated
    std::map<std::string, Severity> severityOverrides;  // rule id → severity of its findings
    std::vector<Waiver> waivers;                        // applied in order: the first match wins
    // The Basic SMTP AUTH retirement schedule (schedule.hpp, docs/schedules.md): a name from
    // rules/schedules.json, or custom dates "YYYY-MM-DD[,YYYY-MM-DD]"; empty = the default.
    std::string schedule;
    // A device inventory given apart from the snapshot (--clients); when set it replaces the
    // snapshot's smtpClients section (smtp_clients.hpp).
    std::shared_ptr<const SmtpClientInventory> smtpClients;
};

class RuleContext {
public:
    RuleContext(const Snapshot& snapshot, const Directory& directory, const ConditionalAccessEngine& engine, const ScanOptions& options)
        : snapshot_(&snapshot), directory_(&directory), engine_(&engine), options_(&options) {}
    const Snapshot& snapshot() const { return *snapshot_; }
    const Directory& directory() const { return *directory_; }
    const ConditionalAccessEngine& engine() const { return *engine_; }
    const ScanOptions& options() const { return *options_; }
    // A parameter of the rule being evaluated: the option "<rule>.<name>" or the declared default.
    nlohmann::json parameter(const std::string& ruleId, const RuleMetadata& metadata, const std::string& name) const;

private:
    const Snapshot* snapshot_;
    const Directory* directory_;
    const ConditionalAccessEngine* engine_;
    const ScanOptions* options_;
};

class Rule {
public:
    virtual ~Rule() = default;
    virtual const RuleMetadata& metadata() const = 0;
    // Called only when every required section is present. May throw: the scan turns an
    // exception into one `error` finding for this rule alone.
    virtual std::vector<Finding> evaluate(const RuleContext& context) const = 0;

protected:
    // A finding of this rule with its default severity.
    Finding finding(Status status, Subject subject, std::string message) const;
};

class Registry {
public:
    // Throws std::invalid_argument on a duplicate or malformed id, or a required section that is not
    // a snapshot section's pointer (Snapshot::is_section).
    void add(std::unique_ptr<Rule> rule);
    const Rule* find(std::string_view id) const;
    std::vector<const Rule*> rules() const;  // sorted by id

private:
    std::map<std::string, std::unique_ptr<Rule>, std::less<>> rules_;
};

}  // namespace tenantscan
