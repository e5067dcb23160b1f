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

// An object of the tenant that a finding names besides its subject, typed: reports, the migration
// plan and the fix script read these and never the evidence, which stays free-form for people
// (docs/architecture.md, "What a finding carries"). A rule lists them in the order it wants them shown.
struct Related {
    enum class Kind {
        ConditionalAccessPolicy,  // id = policy id, name = display name
        AuthenticationPolicy,     // Exchange Online; id = identity, name = name
        Group,                    // Entra group; id = object id, name = display name
        Account,                  // a user or HVE account; id = Entra object id, name = UPN or address
        Device,                   // a row of the device inventory; id and name = its name
        Endpoint,                 // where mail is submitted; name = host (or what to move to)
        Setting,                  // a tenant or mailbox setting; name = setting, state = value
    };
    enum class Role {
        Blocks,      // a policy that blocks the subject's sign-in
        WouldBlock,  // a report-only policy that would block it once enforced
        MayBlock,    // a policy that may block it, depending on `dependsOn`
        Excludes,    // an exclusion that lets the subject through (a group a policy excludes)
        Assigned,    // an object the subject has (its effective authentication policy, a group it should be in)
        Sender,      // the subject as a sender, described for the migration plan (`detail`)
        SignsInAs,   // the account a device signs in as
        MigrateTo,   // where the sender should go (`name` says it in words)
        VendorSays,  // what the device catalogue says about the device's OAuth support (`detail`: the advice)
        Names,       // any other object the finding names (listed, counted, compared)
    };
    Kind kind = Kind::Setting;
    std::string id;
    std::string name;
    Role role = Role::Names;
    std::string state;                   // a policy's state as Graph spells it, a setting's value
    std::vector<std::string> controls;   // a Conditional Access policy's blocking controls
    std::vector<std::string> dependsOn;  // the unknown inputs the role depends on (MayBlock)
    std::string detail;                  // one line for people ("device (owner Facilities): submits to …")
};

const char* to_string(Related::Kind kind);  // "conditionalAccessPolicy" "authenticationPolicy" "group" ...
const char* to_string(Related::Role role);  // "blocks" "wouldBlock" "mayBlock" "excludes" ...

// A change the fix script (`tenantscan remediate`, docs/remediate.md) makes, or explains, for a
// finding. A rule attaches the steps that fix its finding; the script writer knows how to write
// each action in PowerShell and knows no rule. A finding with steps is left out of the script's
// checklist of changes that need a person.
struct RemediationStep {
    enum class Action {
        // Exchange Online: give `account` the authentication policy `policy` (Kind::AuthenticationPolicy;
        // `create`: no policy allows Basic SMTP AUTH yet, so the script creates it).
        AssignAuthenticationPolicy,
        // Microsoft Graph: create the security group `group` unless it exists.
        CreateGroup,
        // Microsoft Graph: add `account` (id = Entra object id) to `group`; `note` says why.
        AddGroupMember,
        // Microsoft Graph: add `group` to conditions.users.excludeGroups of the Conditional Access
        // policy `policy` (state and controls set) that blocks `account`'s Basic SMTP AUTH sign-ins.
        ExcludeGroupFromPolicy,
        // No change: `heading`, then `note` as comment lines a person follows, then `warning` shown when the script runs.
        Explain,
    };
    Action action = Action::Explain;
    Related account;
    Related group;
    Related policy;
    bool create = false;
    std::string heading;
    std::string note;
    std::string warning;
};

struct Finding {
    std::string rule;
    Status status = Status::Error;
    Severity severity = Severity::Info;
    Subject subject;
    std::string message;
    nlohmann::json evidence = nlohmann::json::object();
    std::string remediation;
    std::vector<Related> related;           // what the finding names, typed (never read from evidence)
    std::vector<RemediationStep> steps;     // what the fix script does for it
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
    // The rule checks what the HVE accounts need: its tenant-wide findings concern every HVE account
    // (the HTML report lists them beside the accounts).
    bool concernsHveAccounts = false;
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
