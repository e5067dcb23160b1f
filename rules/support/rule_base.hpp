// The skeleton every built-in rule shares (README.md, "Adding a rule"), so that a rule file holds only
// what is its own: make_metadata() (the declarative part: id, title, severity, rationale,
// remediation, references, required sections, parameters), a class derived from RuleBase with its
// evaluate(), and its factory make_<stem>_rule(), which the module's register.cpp adds to the
// registry. scripts/new-rule writes this skeleton.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/rule.hpp>

namespace tenantscan {
struct Snapshot;
struct SmtpClient;
struct HveAccount;
struct User;
}

namespace tenantscan::rules {

class RuleBase : public Rule {
public:
    explicit RuleBase(RuleMetadata metadata) : metadata_(std::move(metadata)) {}
    const RuleMetadata& metadata() const final { return metadata_; }

protected:
    // The one not-applicable tenant finding of a rule about HVE accounts when the snapshot has none;
    // nullopt when it has some.
    std::optional<Finding> no_hve_accounts(const Snapshot& snapshot) const;
    // One finding per HVE account about a property of its Entra user (hve-account-enabled,
    // hve-account-cloud-only): not-applicable without HVE accounts; review, naming `what` is unknown and
    // asking for the user with `property`, when the user is not in /graph/users; otherwise what `judge`
    // decides from the user, with the evidence it adds. Every finding's evidence names the Entra user
    // (entraUser) and relates it.
    using EntraUserJudge = std::function<Finding(const HveAccount& account, const User& user, nlohmann::json& evidence)>;
    std::vector<Finding> per_hve_account_user(const RuleContext& context, const std::string& what,
                                              const std::string& property, const EntraUserJudge& judge) const;
    // The error finding of a device inventory entry that cannot be checked (SmtpClient::valid() false):
    // its problems and location, the fix, and the entry as evidence.
    Finding invalid_inventory_entry(const SmtpClient& client) const;
    // This rule's parameter `name`: the configured value or the declared default (RuleContext::parameter).
    nlohmann::json parameter(const RuleContext& context, const std::string& name) const {
        return context.parameter(metadata_.id, metadata_, name);
    }

private:
    RuleMetadata metadata_;
};

}  // namespace tenantscan::rules
