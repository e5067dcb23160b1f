// `tenantscan explain TEXT`: finds the SMTP reply (or a known client error) inside whatever a
// device, library or log wrapped it in, and explains it from smtp-test's knowledge base
// (lib/smtp/explanations.cpp: one source). With a tenant snapshot and an account it decides between
// the causes the reply leaves open; with the retirement schedule it says whether a tenant setting
// can still bring Basic SMTP AUTH back or only a migration helps. Never uses the network.
//
// Everything printed that comes from the pasted text is escaped (smtp::printable): control
// characters, bidirectional overrides and bytes that are not UTF-8 never reach a terminal or a
// JSON consumer raw. See docs/explain.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/schedule.hpp>
#include <tenantscan/smtp_test.hpp>

namespace tenantscan::smtp {

// Can the account sign in with Basic SMTP AUTH again by changing a tenant setting, or only by
// migrating? Possible (a setting, and the schedule still lets an admin turn Basic back on),
// MigrateOnly (the retirement itself, or the schedule says no), NotRetirement (a wrong password,
// sender, network or certificate: fix that), DependsOnCause (the text leaves the cause open),
// Unknown (a setting, but the schedule does not say whether it can still be turned back on).
enum class SwitchBack { Possible, MigrateOnly, NotRetirement, DependsOnCause, Unknown };
const char* to_string(SwitchBack verdict);  // "possible", "migrate-only", "not-retirement", ...

// How the cause was decided: by the reply alone; by the snapshot (it names the setting); the
// snapshot was given but does not decide or contradicts the reply (review, never a guess); or the
// reply leaves several causes open and no snapshot was given.
enum class Decision { Reply, Snapshot, Review, NeedsSnapshot };
const char* to_string(Decision decision);  // "reply", "snapshot", "review", "needs-snapshot"

struct TextExplanation {
    bool recognised = false;
    std::string wrapper;          // the client that wrapped the reply ("Python smtplib", ...); "" for a bare reply
    std::string reply;            // the server's reply found in the text, escaped; "" when there is none
    int code = 0;                 // its reply code (0 when the text shows only the enhanced code)
    std::string enhancedCode;     // its RFC 3463 code ("" when the text shows none)
    bool replyHidden = false;     // the client reports a failure but hides the server's reply
    Explanation explanation;      // the knowledge-base entry (id, cause, fix, confirm, evidence)
    std::string cause;            // "tenant-switch", "wrong-password", ...; "" when not decided
    std::vector<std::string> possibleCauses;  // when the reply alone leaves the cause open
    Decision decision = Decision::Reply;
    std::string decisionNote;     // why review / what the snapshot decided
    SwitchBack switchBack = SwitchBack::NotRetirement;
    std::string switchBackText;
    ScheduleStatus schedule;
    std::vector<std::string> notes;  // e.g. other replies in the text, a success reply
    std::string help;                // what would help, for a text that is not recognised
};

struct ExplainOptions {
    std::string user;               // --user: the account that signs in ("" = not given)
    const Tenant* tenant = nullptr; // --snapshot (needs user)
    ScheduleStatus schedule;        // --schedule at --as-of
};

TextExplanation explain_text(std::string_view text, const ExplainOptions& options);

// 0 recognised, 1 not recognised (usage errors and unreadable input are the CLI's: 2).
int exit_code(const TextExplanation& explanation);
nlohmann::json to_json(const TextExplanation& explanation);
std::string to_text(const TextExplanation& explanation);

}  // namespace tenantscan::smtp
