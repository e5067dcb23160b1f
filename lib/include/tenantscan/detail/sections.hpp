// The sections of snapshot v1, in one table: the loader decodes them in its order (from it, which
// are streamed), Snapshot::has_section and Snapshot::is_section answer from it, the collector
// fetches the collectable ones (lib/collect/sections.cpp adds what each needs from the app
// registration), and a test checks that docs/snapshot-format.md describes every one.
// Not part of the API: no stability promise, and not installed.
#pragma once

#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include <tenantscan/model.hpp>

namespace tenantscan::sections {

template <class T>
using List = std::optional<std::vector<T>> Snapshot::*;
template <class T>
using Object = std::optional<T> Snapshot::*;

// Where the decoded section goes in Snapshot; its type chooses the decoder (lib/src/loader).
using Member = std::variant<List<ConditionalAccessPolicy>, List<NamedLocation>, Object<SecurityDefaults>, List<User>,
                            List<Group>, List<RoleAssignment>, List<SubscribedSku>, List<SignIn>,
                            Object<OrganizationConfig>, Object<TransportConfig>, List<AuthenticationPolicy>,
                            List<ExchangeUser>, List<HveAccount>, List<HveBillingPolicy>, List<Recipient>,
                            List<CasMailbox>, List<AcceptedDomain>, List<InboundConnector>,
                            Object<SmtpClientInventory>,
                            List<CrossCheckEntry>>;

struct Section {
    std::string_view pointer;  // "/graph/users": the name rules declare in requiredSections
    std::string_view parent;   // "graph", "exchange", or "" for a top-level section
    std::string_view key;      // "users"
    Member member;
    bool collectable;          // `collect` fetches it
    bool streamable;           // a list that grows with the tenant: decoded element by element while parsing
};

// Every section, in snapshot order (which is also the order they are decoded in, so the first error
// of a file is always the same one).
const std::vector<Section>& all();
// The section with exactly this pointer, or nullptr.
const Section* find(std::string_view pointer);
// The same, ASCII case-insensitive ("/Graph/Users" in a hand-written "notCollected").
const Section* find_ignoring_case(std::string_view pointer);
// True when the section was collected (its member is not nullopt).
bool collected(const Section& section, const Snapshot& snapshot);

}  // namespace tenantscan::sections
