// hve-address-conflict: no other recipient holds the primary address of an HVE account.
#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/detail/text.hpp>

#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-address-conflict";
    m.concernsHveAccounts = true;
    m.title = "No other recipient holds the primary address of an HVE account";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "An address belongs to one recipient. When a device is moved to an HVE account that should keep the "
        "address it always sent from, that address must first be freed from the mailbox or mail user that holds "
        "it: until then mail to the address goes to the old recipient, and the HVE account cannot have it. Freeing "
        "it means editing or deleting the other recipient (deleting a mailbox loses its content), so it is an "
        "out-of-hours change to plan.";
    m.remediation =
        "Remove the address from the other recipient (Set-Mailbox/Set-MailUser -EmailAddresses @{remove=...}) or "
        "delete that recipient, in a maintenance window, then give the address to the HVE account.";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
        "https://learn.microsoft.com/en-us/powershell/module/exchange/get-recipient",
    };
    m.requiredSections = {"/exchange/hveAccounts", "/exchange/recipients"};
    return m;
}

class HveAddressConflictRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

// The recipient entry of the HVE account itself (Get-Recipient lists HVE accounts too).
bool is_same_object(const Recipient& recipient, const HveAccount& account) {
    if (!recipient.externalDirectoryObjectId.empty() && !account.externalDirectoryObjectId.empty())
        return iequals(recipient.externalDirectoryObjectId, account.externalDirectoryObjectId);
    return !recipient.identity.empty() && iequals(recipient.identity, account.identity);
}

// The cmdlet that edits a recipient's addresses, by its RecipientTypeDetails.
std::string set_cmdlet(const Recipient& recipient) {
    const std::string& type = recipient.recipientTypeDetails;
    if (type.find("Mailbox") != std::string::npos && !iequals(type, "GroupMailbox")) return "Set-Mailbox";
    if (iequals(type, "GroupMailbox")) return "Set-UnifiedGroup";
    if (iequals(type, "MailContact")) return "Set-MailContact";
    if (type.rfind("MailUniversal", 0) == 0 || type.rfind("MailNonUniversal", 0) == 0) return "Set-DistributionGroup";
    return "Set-MailUser";
}

// The address as the recipient lists it ("smtp:payroll@contoso.com"), for the -EmailAddresses edit.
std::string listed_form(const Recipient& recipient, const std::string& normalised) {
    for (const auto& address : recipient.emailAddresses)
        if (Directory::normalise_address(address) == normalised) return address;
    return "smtp:" + normalised;
}

std::vector<Finding> HveAddressConflictRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    if (auto none = no_hve_accounts(snapshot)) return {*none};

    std::vector<Finding> findings;
    const std::string* partialScope = snapshot.partial_scope("/exchange/recipients");
    for (const HveAccount& account : *snapshot.hveAccounts) {
        const Subject subject = hve_account_subject(account);
        const std::string address = Directory::normalise_address(account.primarySmtpAddress);
        if (address.empty()) {
            Finding f = finding(Status::Review, subject,
                                fmt::format("HVE account '{}' has no PrimarySmtpAddress in /exchange/hveAccounts, so "
                                            "address conflicts cannot be checked.",
                                            account.identity));
            f.remediation = "Export the HVE accounts with Get-MailUser -HVEAccount (PrimarySmtpAddress included) and scan again.";
            findings.push_back(std::move(f));
            continue;
        }
        nlohmann::json holders = nlohmann::json::array();
        std::vector<Related> others;  // the recipients that also hold the address
        std::vector<std::string> names, commands;
        for (std::size_t index : context.directory().recipients_with_address(address)) {
            const Recipient& other = (*snapshot.recipients)[index];
            if (is_same_object(other, account)) continue;
            const std::string listed = listed_form(other, address);
            const std::string label = other.name.empty() ? other.identity : other.name;
            others.push_back({Related::Kind::Account, other.externalDirectoryObjectId.empty() ? other.identity
                                                                                            : other.externalDirectoryObjectId,
                              label, Related::Role::Names, {}, {}, {}, {}});
            holders.push_back({{"identity", other.identity},
                               {"name", other.name},
                               {"primarySmtpAddress", other.primarySmtpAddress},
                               {"recipientTypeDetails", other.recipientTypeDetails},
                               {"externalDirectoryObjectId", other.externalDirectoryObjectId},
                               {"address", listed}});
            names.push_back(fmt::format("'{}' ({}{})", label,
                                        other.recipientTypeDetails.empty() ? "recipient" : other.recipientTypeDetails,
                                        iequals(Directory::normalise_address(other.primarySmtpAddress), address)
                                            ? ", as its primary address"
                                            : ", as a secondary address"));
            commands.push_back(fmt::format("{} -Identity '{}' -EmailAddresses @{{remove='{}'}}", set_cmdlet(other),
                                           other.identity.empty() ? label : other.identity, listed));
        }
        if (holders.empty() && partialScope) {
            // Absent from a partial section is unknown, not absent: the recipient holding the
            // address may be one the collection did not read.
            Finding f = finding(Status::Review, subject,
                                fmt::format("No other recipient in /exchange/recipients holds {}, the primary address of "
                                            "this HVE account, but the section is partial ({}), so one outside it may.",
                                            address, *partialScope));
            f.evidence = {{"address", address}, {"partial", {{"/exchange/recipients", *partialScope}}}};
            f.remediation = fmt::format("Check with Get-Recipient {} that only the HVE account holds the address, or "
                                        "collect /exchange/recipients in full and scan again.",
                                        address);
            findings.push_back(std::move(f));
            continue;
        }
        if (holders.empty()) {
            Finding f = finding(Status::Pass, subject,
                                fmt::format("No other recipient holds {}, the primary address of this HVE account.", address));
            f.evidence = {{"address", address}};
            findings.push_back(std::move(f));
            continue;
        }
        Finding f = finding(Status::Fail, subject,
                            fmt::format("{}, the primary address of this HVE account, is also held by {}: mail to it "
                                        "does not reach the HVE account, and the address must be freed first.",
                                        address, fmt::join(names, ", ")));
        f.evidence = {{"address", address}, {"otherRecipients", std::move(holders)}};
        f.related = std::move(others);
        f.remediation = fmt::format(
            "Plan an out-of-hours change: free the address by removing it from the other recipient ({}) or by deleting "
            "that recipient (a deleted mailbox loses its content and the address's mail goes with it), then check "
            "with Get-Recipient {} that only the HVE account holds it, and test the devices that send as it.",
            fmt::join(commands, "; "), address);
        findings.push_back(std::move(f));
    }
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_address_conflict_rule() {
    return std::make_unique<HveAddressConflictRule>(make_metadata());
}

}  // namespace tenantscan::rules
