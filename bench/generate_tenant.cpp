// generate_tenant: writes a synthetic tenant snapshot (v1, docs/snapshot-format.md) of realistic shape,
// deterministically from a seed, at three sizes (issue 6 §1):
//
//   L: 200 000 users (2% guests, 30% synced, 1% disabled), 20 000 groups nesting up to depth 6 with some
//      cycles, 195 Conditional Access policies in a realistic mix (legacy blocks, MFA, platform, location,
//      device filter, role and guest policies; enabled, report-only, disabled) referencing 60 groups and
//      500 named locations (IPv4 and IPv6, up to 2 000 ranges each), 5 000 HVE accounts, 100 000
//      sign-ins, 250 000 recipients.
//   M, S: every count divided by 10 and 100 (at least one policy of each kind of the mix, one location
//      of each kind). Per-object shapes (ranges per location, members per group) do not scale, so the
//      file grows linearly with the size.
//
// Usage: generate_tenant --size S|M|L [--seed N] [--output FILE]   (default seed 1, standard output)
//
// Same size and seed → byte-identical output: every value comes from a counter-based hash of
// (seed, stream, index), never from the clock, the address space or the standard library's
// distributions (whose algorithms differ between implementations).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <numeric>
#include <string>
#include <vector>

namespace {

// ---- deterministic randomness -------------------------------------------------------------------

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

// Independent streams: a value is a pure function of (seed, stream, index, salt).
enum Stream : std::uint64_t {
    kUserId = 1, kUserAttr, kGroupId, kGroupAttr, kGroupMembers, kPolicyId, kPolicyAttr, kLocationId,
    kLocationAttr, kRange, kSignInId, kSignInAttr, kRecipientId, kRecipientAttr, kHveAttr, kRoleId
};

struct Random {
    std::uint64_t seed;
    std::uint64_t at(Stream stream, std::uint64_t index, std::uint64_t salt = 0) const {
        return mix(mix(mix(seed ^ (stream << 56)) ^ index) ^ (salt * 0x632BE59BD9B4E019ULL));
    }
    // Uniform in [0, n) (n > 0); the modulo bias is irrelevant for test data.
    std::uint64_t below(Stream stream, std::uint64_t index, std::uint64_t salt, std::uint64_t n) const {
        return at(stream, index, salt) % n;
    }
    // A version-4 GUID, lower-case, as Graph writes object ids.
    std::string guid(Stream stream, std::uint64_t index) const {
        std::uint64_t hi = at(stream, index, 0x1D), lo = at(stream, index, 0x2D);
        hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x4000ULL;
        lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
        char text[40];
        std::snprintf(text, sizeof text, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                      hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48, static_cast<std::uint64_t>(lo & 0xFFFFFFFFFFFFULL));
        return text;
    }
};

// ---- output -------------------------------------------------------------------------------------

class Writer {
public:
    explicit Writer(std::FILE* out) : out_(out) { buffer_.reserve(1 << 20); }
    ~Writer() { flush(); }
    Writer& raw(const std::string& text) {
        buffer_ += text;
        return *this;
    }
    // Writes out a full buffer; only between elements, since close() may still take back a comma.
    void spill() {
        if (buffer_.size() > (1 << 20)) flush();
    }
    Writer& raw(const char* text) { return raw(std::string(text)); }
    // A JSON string literal (the generated text is UTF-8; only quotes, backslashes and controls need escapes).
    Writer& str(const std::string& text) {
        buffer_ += '"';
        for (char c : text) {
            if (c == '"' || c == '\\') {
                buffer_ += '\\';
                buffer_ += c;
            } else if (static_cast<unsigned char>(c) < 0x20) {
                char escape[8];
                std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
                buffer_ += escape;
            } else {
                buffer_ += c;
            }
        }
        buffer_ += '"';
        return *this;
    }
    Writer& key(const char* name) { return str(name).raw(":"); }
    Writer& member(const char* name, const std::string& value) { return key(name).str(value).raw(","); }
    Writer& member_raw(const char* name, const std::string& json) { return key(name).raw(json).raw(","); }
    Writer& string_array(const std::vector<std::string>& values) {
        raw("[");
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i) raw(",");
            str(values[i]);
        }
        return raw("]");
    }
    // Drops the trailing comma a member() left before closing an object.
    Writer& close(const char* closer) {
        if (!buffer_.empty() && buffer_.back() == ',') buffer_.pop_back();
        return raw(closer);
    }
    bool flush() {
        bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), out_) == buffer_.size();
        buffer_.clear();
        return ok;
    }

private:
    std::FILE* out_;
    std::string buffer_;
};

// An array section written one element a line, as Graph list output piped through a JSON writer.
template <class Element>
void array_section(Writer& w, const char* name, std::size_t count, Element element, bool last = false) {
    w.key(name).raw("[\n");
    for (std::size_t i = 0; i < count; ++i) {
        w.raw("  {");
        element(i);
        w.close(i + 1 < count ? "},\n" : "}\n");
        w.spill();
    }
    w.raw(last ? "]\n" : "],\n");
}

// ---- the tenant ---------------------------------------------------------------------------------

constexpr const char* kDomain = "contoso-synth.com";
constexpr const char* kTenantId = "5e1d7c9a-0b2f-4c3d-8e4f-a5b6c7d8e9f0";
constexpr const char* kHveGroupName = "Exchange-HVEUserAccounts";

const char* const kFirstNames[] = {"Ada", "Björn", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Inès",
                                   "Jonas", "Kaja", "Luis", "Mona", "Nils", "Olga", "Pia", "Quentin", "Rosa",
                                   "Sven", "Tomás", "Uma", "Viktor", "Wen", "Xenia", "Yusuf", "Zoë"};
const char* const kLastNames[] = {"Andersen", "Bauer", "Costa", "Dubois", "Eriksson", "Fischer", "García",
                                  "Horvath", "Ivanova", "Jansen", "Kowalski", "Lindqvist", "Müller", "Novak",
                                  "O'Brien", "Peeters", "Rossi", "Schmidt", "Tanaka", "Virtanen", "Weber", "Zhang"};
const char* const kDepartments[] = {"Finance", "Sales", "Engineering", "HR", "Legal", "Facilities", "Support",
                                    "Marketing", "Operations", "Research", "IT", "Procurement"};
const char* const kCountries[] = {"NL", "DE", "FR", "GB", "US", "SE", "PL", "ES", "IT", "JP", "IN", "BR"};

struct Sizes {
    std::size_t users, groups, policies, locations, hve, signIns, recipients;
};

// Directory roles (template ids) that policies and assignments use.
const char* const kRoles[] = {
    "62e90394-69f5-4237-9190-012177145e10",  // Global Administrator
    "29232cdf-9323-42fd-ade2-1d097af3e4de",  // Exchange Administrator
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",  // SharePoint Administrator
    "194ae4cb-b126-40b2-bd5b-6091b380977d",  // Security Administrator
    "fe930be7-5e62-47db-91af-98c3a49a38b1",  // User Administrator
};

class Tenant {
public:
    Tenant(Sizes sizes, std::uint64_t seed) : n_(sizes), r_{seed} { plan(); }

    void write(Writer& w) {
        w.raw("{\n\"snapshotVersion\":1,\n");
        w.raw("\"@odata.context\":\"synthetic tenant written by tenantscan's generate_tenant\",\n");
        w.member("tenantId", kTenantId).raw("\n").member("collectedAt", "2026-11-27T06:00:00Z").raw("\n");
        w.key("graph").raw("{\n");
        write_policies(w);
        write_locations(w);
        w.raw("\"securityDefaults\":{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#policies/"
              "identitySecurityDefaultsEnforcementPolicy/$entity\",\"id\":\"00000000-0000-0000-0000-000000000005\","
              "\"isEnabled\":false},\n");
        write_users(w);
        write_groups(w);
        write_role_assignments(w);
        write_skus(w);
        write_sign_ins(w);
        w.raw("},\n");
        w.key("exchange").raw("{\n");
        write_exchange(w);
        w.raw("},\n");
        write_smtp_clients(w);
        w.raw("\"notCollected\":{}\n}\n");
    }

private:
    Sizes n_;
    Random r_;

    // Users: [0, hveStart) people, [hveStart, users) the HVE accounts' Entra users.
    std::size_t hveStart_ = 0;
    // Groups: 0 all employees, 1 the HVE exemption group, 2 HVE printers (nested in 1), 3 break glass,
    // 4.. ordinary groups; each group has a nesting level 0..5 and contains only groups one level down,
    // so chains are at most 6 deep, except for a few back edges that make cycles.
    std::vector<int> groupLevel_;
    std::vector<std::vector<std::size_t>> childGroups_;
    std::vector<std::size_t> caGroups_;  // the groups policies reference
    std::size_t roleGroups_ = 0;         // groups [4, 4 + roleGroups_) are role-assignable

    bool is_guest(std::size_t u) const { return u < hveStart_ && u % 49 == 7; }  // 2% of all users
    bool is_disabled(std::size_t u) const { return u % 100 == 13; }                                  // 1%
    bool is_synced(std::size_t u) const {                                                            // 30%
        if (u >= hveStart_) return u % 100 == 42;  // a few HVE users synced by mistake
        return !is_guest(u) && r_.below(kUserAttr, u, 1, 1000) < 313;  // 30% of all users (guests never)
    }
    std::string user_id(std::size_t u) const { return r_.guid(kUserId, u); }
    std::string group_id(std::size_t g) const { return r_.guid(kGroupId, g); }
    std::string location_id(std::size_t l) const { return r_.guid(kLocationId, l); }
    std::string mail_nick(std::size_t u) const {
        if (u >= hveStart_) return "hve-sender-" + std::to_string(u - hveStart_);
        std::string first = kFirstNames[r_.below(kUserAttr, u, 2, std::size(kFirstNames))];
        std::string last = kLastNames[r_.below(kUserAttr, u, 3, std::size(kLastNames))];
        std::string nick;
        for (char c : first + "." + last + std::to_string(u))
            if (static_cast<unsigned char>(c) < 0x80 && c != '\'') nick += static_cast<char>(std::tolower(c));
        return nick;
    }
    std::string upn(std::size_t u) const {
        if (is_guest(u)) return mail_nick(u) + "_partner" + std::to_string(u % 7) + ".example#EXT#@contososynth.onmicrosoft.com";
        return mail_nick(u) + "@" + kDomain;
    }
    std::string mail(std::size_t u) const {
        if (is_guest(u)) return mail_nick(u) + "@partner" + std::to_string(u % 7) + ".example";
        return mail_nick(u) + "@" + kDomain;
    }
    std::string display_name(std::size_t u) const {
        if (u >= hveStart_) return "HVE sender " + std::to_string(u - hveStart_);
        return std::string(kFirstNames[r_.below(kUserAttr, u, 2, std::size(kFirstNames))]) + " " +
               kLastNames[r_.below(kUserAttr, u, 3, std::size(kLastNames))];
    }

    void plan() {
        hveStart_ = n_.users - n_.hve;
        groupLevel_.resize(n_.groups);
        childGroups_.resize(n_.groups);
        roleGroups_ = std::max<std::size_t>(2, n_.groups / 1000);
        for (std::size_t g = 0; g < n_.groups; ++g) groupLevel_[g] = g < 4 ? 0 : static_cast<int>(r_.below(kGroupAttr, g, 1, 6));
        std::vector<std::vector<std::size_t>> byLevel(6);
        for (std::size_t g = 4; g < n_.groups; ++g) byLevel[groupLevel_[g]].push_back(g);
        // One group in five contains one to three groups of the next level down.
        for (std::size_t g = 4; g < n_.groups; ++g) {
            int level = groupLevel_[g];
            if (level == 5 || byLevel[level + 1].empty() || r_.below(kGroupAttr, g, 2, 5) != 0) continue;
            std::size_t count = 1 + r_.below(kGroupAttr, g, 3, 3);
            for (std::size_t k = 0; k < count; ++k)
                childGroups_[g].push_back(byLevel[level + 1][r_.below(kGroupAttr, g, 10 + k, byLevel[level + 1].size())]);
        }
        // Cycles: about one deepest group in a thousand contains a top-level group.
        for (std::size_t k = 0; k < std::max<std::size_t>(1, n_.groups / 1000) && !byLevel[5].empty() && !byLevel[0].empty(); ++k) {
            std::size_t from = byLevel[5][r_.below(kGroupAttr, k, 20, byLevel[5].size())];
            std::size_t to = byLevel[0][r_.below(kGroupAttr, k, 21, byLevel[0].size())];
            childGroups_[from].push_back(to);
        }
        for (auto& children : childGroups_) {
            std::sort(children.begin(), children.end());
            children.erase(std::unique(children.begin(), children.end()), children.end());
        }
        childGroups_[1].push_back(2);  // HVE printers ⊂ HVE exemption group
        // Policies reference 60 groups (at L): the special ones and a spread of ordinary groups, top-level
        // ones first so that nesting matters.
        std::size_t referenced = std::max<std::size_t>(6, n_.groups * 60 / 20000);
        caGroups_ = {0, 1, 3};
        for (std::size_t k = 0; caGroups_.size() < referenced && k < byLevel[0].size() + byLevel[1].size(); ++k)
            caGroups_.push_back(k % 2 == 0 && k / 2 < byLevel[0].size() ? byLevel[0][k / 2]
                                                                        : byLevel[1][(k / 2) % byLevel[1].size()]);
        std::sort(caGroups_.begin(), caGroups_.end());
        caGroups_.erase(std::unique(caGroups_.begin(), caGroups_.end()), caGroups_.end());
    }

    // ---- users and groups ----

    void write_users(Writer& w) {
        array_section(w, "users", n_.users, [&](std::size_t u) {
            w.member("id", user_id(u))
                .member("userPrincipalName", upn(u))
                .member("displayName", display_name(u))
                .member("mail", mail(u))
                .member("userType", is_guest(u) ? "Guest" : "Member")
                .member_raw("accountEnabled", is_disabled(u) ? "false" : "true")
                .member_raw("onPremisesSyncEnabled", is_synced(u) ? "true" : "null");
            std::vector<std::string> proxies = {"SMTP:" + mail(u)};
            if (!is_guest(u)) proxies.push_back("smtp:" + mail_nick(u) + "@contososynth.onmicrosoft.com");
            w.key("proxyAddresses").string_array(proxies);
        });
    }

    std::vector<std::size_t> user_members(std::size_t g) const {
        std::vector<std::size_t> members;
        const std::size_t people = hveStart_;
        if (g == 0) {  // all employees: 60% of the people, a dynamic-style group
            for (std::size_t u = 0; u < people; ++u)
                if (!is_guest(u) && r_.below(kGroupMembers, u, 0, 100) < 60) members.push_back(u);
            return members;
        }
        if (g == 1) {  // the HVE exemption group: 90% of the HVE users directly (5% more via HVE printers)
            for (std::size_t u = hveStart_; u < n_.users; ++u)
                if (r_.below(kHveAttr, u, 1, 100) < 90) members.push_back(u);
            return members;
        }
        if (g == 2) {
            for (std::size_t u = hveStart_; u < n_.users; ++u)
                if (auto x = r_.below(kHveAttr, u, 1, 100); x >= 90 && x < 95) members.push_back(u);
            return members;
        }
        if (g == 3) return {0, 1};  // break glass
        // Most groups are small; one in two hundred is large.
        std::size_t size = r_.below(kGroupAttr, g, 4, 200) == 0 ? 200 + r_.below(kGroupAttr, g, 5, 1800)
                                                                   : 2 + r_.below(kGroupAttr, g, 5, 29);
        size = std::min(size, people);
        // A stride walk through the people: no duplicates (the stride is odd, people counts are made even).
        std::size_t span = people - people % 2;
        std::size_t start = r_.below(kGroupMembers, g, 1, span);
        std::size_t stride = 1 + 2 * r_.below(kGroupMembers, g, 2, std::max<std::size_t>(1, span / 4));
        while (std::gcd(stride, span) != 1) stride += 2;
        for (std::size_t k = 0; k < size; ++k) members.push_back((start + k * stride) % span);
        return members;
    }

    void write_groups(Writer& w) {
        array_section(w, "groups", n_.groups, [&](std::size_t g) {
            std::string name = g == 0   ? "All employees"
                               : g == 1 ? kHveGroupName
                               : g == 2 ? "HVE printers"
                               : g == 3 ? "Break glass accounts"
                                        : std::string(kDepartments[g % std::size(kDepartments)]) + " team " + std::to_string(g);
            w.member("id", group_id(g)).member("displayName", name);
            w.member_raw("isAssignableToRole", g >= 4 && g < 4 + roleGroups_ ? "true" : "false");
            w.key("members").raw("[");
            bool first = true;
            for (std::size_t u : user_members(g)) {
                w.raw(first ? "{" : ",{").member("@odata.type", "#microsoft.graph.user").key("id").str(user_id(u)).raw("}");
                first = false;
            }
            for (std::size_t c : childGroups_[g]) {
                w.raw(first ? "{" : ",{").member("@odata.type", "#microsoft.graph.group").key("id").str(group_id(c)).raw("}");
                first = false;
            }
            w.raw("]");
        });
    }

    void write_role_assignments(Writer& w) {
        std::size_t direct = std::max<std::size_t>(5, n_.users / 4000);
        array_section(w, "roleAssignments", direct + roleGroups_, [&](std::size_t i) {
            std::string principal = i < direct ? user_id(r_.below(kRoleId, i, 1, hveStart_)) : group_id(4 + i - direct);
            w.member("id", r_.guid(kRoleId, i))
                .member("principalId", principal)
                .member("roleDefinitionId", kRoles[i % std::size(kRoles)])
                .member("directoryScopeId", i % 17 == 5 ? "/administrativeUnits/" + r_.guid(kRoleId, i + 100000) : "/");
        });
    }

    void write_skus(Writer& w) {
        w.raw("\"subscribedSkus\":[\n"
              "  {\"skuId\":\"05e9a617-0261-4cee-bb44-138d3ef5d965\",\"skuPartNumber\":\"SPE_E3\",\"capabilityStatus\":"
              "\"Enabled\",\"consumedUnits\":180000,\"servicePlans\":[{\"servicePlanId\":\"41781fb2-bc02-4b7c-bd55-"
              "b576c07bb09d\",\"servicePlanName\":\"AAD_PREMIUM\",\"provisioningStatus\":\"Success\",\"appliesTo\":"
              "\"User\"},{\"servicePlanId\":\"efb87545-963c-4e0d-99df-69c6916d9eb0\",\"servicePlanName\":"
              "\"EXCHANGE_S_ENTERPRISE\",\"provisioningStatus\":\"Success\",\"appliesTo\":\"User\"}]},\n"
              "  {\"skuId\":\"2b1c5d7e-0000-4000-8000-00000000f0f0\",\"skuPartNumber\":\"EXCHANGE_HVE\",\"capabilityStatus\":"
              "\"Enabled\",\"servicePlans\":[]}\n],\n");
    }

    // ---- Conditional Access ----

    enum Kind { LegacyBlock, Mfa, Platform, Location, DeviceFilter, Role, Guest, Risk, Session, LegacyReportOnly,
                CountryBlock, AppSpecific, kKinds };

    Kind policy_kind(std::size_t p) const {
        if (p < kKinds) return static_cast<Kind>(p);  // one of each kind first
        // Then the mix of a large tenant: MFA and location policies dominate.
        static const Kind kMix[] = {Mfa, Mfa, Mfa, Mfa, Mfa, Location, Location, Location, Platform, Platform,
                                    DeviceFilter, DeviceFilter, Role, Role, Role, Guest, Guest, Risk, Risk,
                                    Session, Session, LegacyBlock, CountryBlock, AppSpecific, AppSpecific};
        return kMix[r_.below(kPolicyAttr, p, 1, std::size(kMix))];
    }

    const char* policy_state(std::size_t p, Kind kind) const {
        if (kind == LegacyReportOnly) return "enabledForReportingButNotEnforced";
        if (p < kKinds) return kind == Session ? "disabled" : kind == AppSpecific ? "enabledForReportingButNotEnforced" : "enabled";
        auto x = r_.below(kPolicyAttr, p, 2, 100);
        return x < 70 ? "enabled" : x < 90 ? "enabledForReportingButNotEnforced" : "disabled";
    }

    std::string ca_group(std::size_t p, std::uint64_t salt) const {
        return group_id(caGroups_[3 + r_.below(kPolicyAttr, p, salt, caGroups_.size() - 3)]);
    }

    void write_policies(Writer& w) {
        array_section(w, "conditionalAccessPolicies", n_.policies, [&](std::size_t p) {
            Kind kind = policy_kind(p);
            std::vector<std::string> includeUsers, excludeUsers, includeGroups, excludeGroups, includeRoles,
                excludeRoles, clientApps = {"all"}, includePlatforms, excludePlatforms, includeLocations,
                excludeLocations, controls, apps = {"All"}, riskLevels;
            std::string name, guests = "null", deviceFilter = "null", session = "null";
            const std::string hveGroup = group_id(1), breakGlass = group_id(3);
            switch (kind) {
                case LegacyBlock:
                    name = "Block legacy authentication";
                    includeUsers = {"All"};
                    excludeGroups = {hveGroup, breakGlass};
                    clientApps = {"exchangeActiveSync", "other"};
                    controls = {"block"};
                    break;
                case LegacyReportOnly:
                    name = "Microsoft-managed: Block legacy authentication";
                    includeUsers = {"All"};
                    clientApps = {"exchangeActiveSync", "other"};
                    controls = {"block"};
                    break;
                case Mfa:
                    name = "Require MFA";
                    if (r_.below(kPolicyAttr, p, 3, 3) == 0) includeUsers = {"All"};
                    else includeGroups = {ca_group(p, 4), ca_group(p, 5)};
                    excludeGroups = {breakGlass, r_.below(kPolicyAttr, p, 6, 4) == 0 ? hveGroup : ca_group(p, 7)};
                    controls = {"mfa"};
                    break;
                case Platform:
                    name = "Block unsupported platforms";
                    includeUsers = {"All"};
                    excludeGroups = {hveGroup, breakGlass};
                    includePlatforms = {"all"};
                    excludePlatforms = {"android", "iOS", "windows", "macOS"};
                    controls = {"block"};
                    break;
                case Location:
                case CountryBlock: {
                    name = kind == Location ? "Block access from untrusted networks" : "Block countries";
                    includeGroups = {ca_group(p, 8)};
                    excludeGroups = {breakGlass};
                    includeLocations = {"All"};
                    std::size_t excluded = 1 + r_.below(kPolicyAttr, p, 9, 3);
                    for (std::size_t k = 0; k < excluded; ++k)
                        excludeLocations.push_back(location_id(r_.below(kPolicyAttr, p, 10 + k, n_.locations)));
                    if (r_.below(kPolicyAttr, p, 14, 2) == 0) excludeLocations.push_back("AllTrusted");
                    controls = {"block"};
                    break;
                }
                case DeviceFilter:
                    name = "Require compliant device";
                    includeUsers = {"All"};
                    excludeGroups = {breakGlass};
                    deviceFilter = std::string("{\"mode\":\"") + (p % 2 ? "exclude" : "include") +
                                   "\",\"rule\":\"device.isCompliant -eq True -or device.trustType -eq \\\"ServerAD\\\""
                                   " -or device.extensionAttribute1 -startsWith \\\"kiosk\\\"\"}";
                    controls = {"compliantDevice", "domainJoinedDevice"};
                    break;
                case Role:
                    name = "Require MFA for administrators";
                    includeRoles = {kRoles[0], kRoles[1], kRoles[r_.below(kPolicyAttr, p, 15, std::size(kRoles))]};
                    excludeUsers = {user_id(0)};
                    controls = {"mfa"};
                    break;
                case Guest:
                    name = "Require MFA for guests";
                    guests = "{\"guestOrExternalUserTypes\":\"internalGuest,b2bCollaborationGuest,b2bCollaborationMember,"
                             "otherExternalUser\",\"externalTenants\":{\"@odata.type\":\"#microsoft.graph."
                             "conditionalAccessAllExternalTenants\",\"membershipKind\":\"all\"}}";
                    controls = {"mfa"};
                    break;
                case Risk:
                    name = "Block high sign-in risk";
                    includeUsers = {"All"};
                    excludeGroups = {breakGlass};
                    riskLevels = {"high", "medium"};
                    controls = {"block"};
                    break;
                case Session:
                    name = "Sign-in frequency for unmanaged devices";
                    includeGroups = {ca_group(p, 16)};
                    clientApps = {"browser"};
                    session = "{\"signInFrequency\":{\"value\":8,\"type\":\"hours\",\"isEnabled\":true}}";
                    break;
                case AppSpecific:
                    name = "Require MFA for SharePoint";
                    includeUsers = {"All"};
                    excludeGroups = {hveGroup};
                    apps = {"00000003-0000-0ff1-ce00-000000000000"};
                    clientApps = {"browser", "mobileAppsAndDesktopClients"};
                    controls = {"mfa"};
                    break;
                case kKinds: break;
            }
            if (p >= kKinds) name += " " + std::to_string(p);
            const std::string id = r_.guid(kPolicyId, p);
            w.member("id", id)
                .member_raw("templateId", kind == LegacyBlock ? "\"0b2282f9-2862-4178-88b5-d79340b36cb8\"" : "null")
                .member("displayName", name)
                .member("createdDateTime", "2025-03-04T09:12:44.1234567Z")
                .member("state", policy_state(p, kind));
            w.key("conditions").raw("{");
            w.key("users").raw("{");
            w.key("includeUsers").string_array(includeUsers).raw(",").key("excludeUsers").string_array(excludeUsers).raw(",");
            w.key("includeGroups").string_array(includeGroups).raw(",").key("excludeGroups").string_array(excludeGroups).raw(",");
            w.key("includeRoles").string_array(includeRoles).raw(",").key("excludeRoles").string_array(excludeRoles).raw(",");
            w.member_raw("includeGuestsOrExternalUsers", guests).member_raw("excludeGuestsOrExternalUsers", "null");
            w.close("},");
            w.key("applications").raw("{").key("includeApplications").string_array(apps).raw(",");
            w.key("excludeApplications").raw("[],").key("includeUserActions").raw("[],");
            w.key("includeAuthenticationContextClassReferences").raw("[]},");
            w.key("clientAppTypes").string_array(clientApps).raw(",");
            if (includePlatforms.empty()) w.member_raw("platforms", "null");
            else w.key("platforms").raw("{").key("includePlatforms").string_array(includePlatforms).raw(",")
                     .key("excludePlatforms").string_array(excludePlatforms).raw("},");
            if (includeLocations.empty()) w.member_raw("locations", "null");
            else w.key("locations").raw("{").key("includeLocations").string_array(includeLocations).raw(",")
                     .key("excludeLocations").string_array(excludeLocations).raw("},");
            if (deviceFilter == "null") w.member_raw("devices", "null");
            else w.key("devices").raw("{").member_raw("deviceFilter", deviceFilter).close("},");
            w.key("signInRiskLevels").string_array(riskLevels).raw(",").key("userRiskLevels").raw("[],");
            w.key("servicePrincipalRiskLevels").raw("[],").member_raw("clientApplications", "null");
            w.close("},");
            if (controls.empty()) {
                w.member_raw("grantControls", "null");
            } else {
                w.key("grantControls").raw("{").member("operator", "OR").key("builtInControls").string_array(controls);
                w.raw(",\"customAuthenticationFactors\":[],\"termsOfUse\":[],");
                w.member("authenticationStrength@odata.context",
                         "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('" + id +
                             "')/grantControls/authenticationStrength/$entity");
                w.member_raw("authenticationStrength", "null").close("},");
            }
            w.member_raw("sessionControls", session);
        });
    }

    // Ranges per IP location: mostly a handful, some hundreds, a few the maximum of 2 000.
    std::size_t range_count(std::size_t l) const {
        if (l == 0) return 2000;
        auto x = r_.below(kLocationAttr, l, 1, 100);
        if (x < 60) return 1 + r_.below(kLocationAttr, l, 2, 8);
        if (x < 90) return 10 + r_.below(kLocationAttr, l, 2, 190);
        if (x < 97) return 200 + r_.below(kLocationAttr, l, 2, 800);
        return 2000;
    }

    std::string cidr(std::size_t l, std::size_t k) const {
        std::uint64_t bits = r_.at(kRange, l, k);
        char text[64];
        if (bits % 3 == 0) {  // IPv6 /48../64
            unsigned prefix = 48 + static_cast<unsigned>((bits >> 8) % 17);
            std::snprintf(text, sizeof text, "2001:db8:%x:%x::/%u", static_cast<unsigned>((bits >> 16) & 0xFFFF),
                          prefix > 48 ? static_cast<unsigned>((bits >> 32) & 0xFFFF) & (0xFFFFu << (64 - prefix)) : 0u,
                          prefix);
        } else {  // IPv4 /16../32, host bits clear
            unsigned prefix = 16 + static_cast<unsigned>((bits >> 8) % 17);
            std::uint32_t address = static_cast<std::uint32_t>(bits >> 24);
            address = (address & 0x00FFFFFFu) | (static_cast<std::uint32_t>(11 + (bits >> 56) % 200) << 24);
            address &= prefix == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> prefix);
            std::snprintf(text, sizeof text, "%u.%u.%u.%u/%u", address >> 24, (address >> 16) & 0xFF,
                          (address >> 8) & 0xFF, address & 0xFF, prefix);
        }
        return text;
    }

    void write_locations(Writer& w) {
        array_section(w, "namedLocations", n_.locations, [&](std::size_t l) {
            bool country = l % 5 == 4;  // one in five is a country location
            w.member("@odata.type", country ? "#microsoft.graph.countryNamedLocation" : "#microsoft.graph.ipNamedLocation")
                .member("id", location_id(l))
                .member("displayName", (country ? "Countries " : "Office network ") + std::to_string(l))
                .member("createdDateTime", "2024-06-01T10:00:00Z");
            if (country) {
                std::vector<std::string> codes;
                for (std::size_t k = 0; k < 1 + l % 4; ++k) codes.push_back(kCountries[(l + k) % std::size(kCountries)]);
                w.key("countriesAndRegions").string_array(codes).raw(",");
                w.member_raw("includeUnknownCountriesAndRegions", l % 2 ? "true" : "false")
                    .member("countryLookupMethod", "clientIpAddress");
                return;
            }
            w.member_raw("isTrusted", l % 3 == 0 ? "true" : "false");
            w.key("ipRanges").raw("[");
            std::size_t count = range_count(l);
            for (std::size_t k = 0; k < count; ++k) {
                std::string range = cidr(l, k);
                w.raw(k ? ",{" : "{")
                    .member("@odata.type", range.find(':') != std::string::npos ? "#microsoft.graph.iPv6CidrRange"
                                                                               : "#microsoft.graph.iPv4CidrRange")
                    .key("cidrAddress").str(range).raw("}");
            }
            w.raw("]");
        });
    }

    // ---- sign-ins and Exchange ----

    // The user a sign-in belongs to: 70% HVE accounts (devices submitting mail), the rest people.
    std::size_t sign_in_user(std::size_t s) const {
        if (r_.below(kSignInAttr, s, 1, 10) < 7) return hveStart_ + r_.below(kSignInAttr, s, 2, n_.hve);
        return r_.below(kSignInAttr, s, 3, std::max<std::size_t>(1, hveStart_ / 20)) * 20 % hveStart_;
    }
    // A device signs in from its site: one of two addresses per account, out of a pool of sites.
    std::string sign_in_ip(std::size_t u, std::size_t s) const {
        std::uint64_t site = r_.below(kSignInAttr, u, 4, 400) + (r_.below(kSignInAttr, s, 5, 4) == 0 ? 1 : 0);
        if (site % 7 == 3) return "2001:db8:" + std::to_string(100 + site) + "::25";
        return "198.51." + std::to_string(site % 256) + "." + std::to_string(10 + site % 200);
    }

    void write_sign_ins(Writer& w) {
        array_section(w, "signIns", n_.signIns, [&](std::size_t s) {
            std::size_t u = sign_in_user(s);
            bool failed = r_.below(kSignInAttr, s, 6, 10) == 0;
            char created[32];
            std::snprintf(created, sizeof created, "2026-11-%02uT%02u:%02u:%02uZ", 1 + static_cast<unsigned>(s % 26),
                          static_cast<unsigned>(s / 3600 % 24), static_cast<unsigned>(s / 60 % 60), static_cast<unsigned>(s % 60));
            std::string ip = sign_in_ip(u, s);
            w.member("id", r_.guid(kSignInId, s))
                .member("createdDateTime", created)
                .member("userDisplayName", display_name(u))
                .member("userPrincipalName", upn(u))
                .member("userId", user_id(u))
                .member("appId", "00000002-0000-0ff1-ce00-000000000000")
                .member("appDisplayName", "Office 365 Exchange Online")
                .member("ipAddress", ip)
                .member("clientAppUsed", "Authenticated SMTP")
                .member("conditionalAccessStatus", failed ? "failure" : "notApplied")
                .member_raw("isInteractive", "false");
            w.key("status").raw("{").member_raw("errorCode", failed ? "53003" : "0")
                .member_raw("failureReason", failed ? "\"Access has been blocked by Conditional Access policies.\"" : "null")
                .member_raw("additionalDetails", "null").close("},");
            w.key("location").raw("{").member_raw("city", "null").member_raw("state", "null")
                .member("countryOrRegion", kCountries[u % std::size(kCountries)]).close("}");
        }, /*last=*/true);
    }

    // The HVE accounts' authentication policies: most allow Basic SMTP, some inherit the blocking default.
    const char* hve_auth_policy(std::size_t h) const {
        auto x = r_.below(kHveAttr, h, 2, 100);
        return x < 85 ? "\"Allow Basic Auth SMTP\"" : x < 95 ? "null" : "\"Block Basic Auth\"";
    }

    void write_exchange(Writer& w) {
        w.raw("\"organizationConfig\":{\"Name\":\"contososynth.onmicrosoft.com\",\"DefaultAuthenticationPolicy\":"
              "\"Block Basic Auth\",\"RejectDirectSend\":false},\n");
        w.raw("\"transportConfig\":{\"SmtpClientAuthenticationDisabled\":false},\n");
        w.raw("\"authenticationPolicies\":[\n"
              "  {\"Name\":\"Block Basic Auth\",\"Identity\":\"Block Basic Auth\",\"AllowBasicAuthSmtp\":false,"
              "\"AllowBasicAuthImap\":false,\"AllowBasicAuthPop\":false},\n"
              "  {\"Name\":\"Allow Basic Auth SMTP\",\"Identity\":\"Allow Basic Auth SMTP\",\"AllowBasicAuthSmtp\":true,"
              "\"AllowBasicAuthImap\":false,\"AllowBasicAuthPop\":false}\n],\n");
        array_section(w, "users", n_.hve, [&](std::size_t h) {
            std::size_t u = hveStart_ + h;
            w.member("Identity", mail_nick(u)).member("UserPrincipalName", upn(u))
                .member("ExternalDirectoryObjectId", user_id(u)).member_raw("AuthenticationPolicy", hve_auth_policy(h))
                .member("RecipientTypeDetails", "MailUser");
        });
        array_section(w, "hveAccounts", n_.hve, [&](std::size_t h) {
            std::size_t u = hveStart_ + h;
            w.member("Name", mail_nick(u)).member("DisplayName", display_name(u)).member("Identity", mail_nick(u))
                .member("PrimarySmtpAddress", mail(u)).member("ExternalDirectoryObjectId", user_id(u))
                .member("RecipientTypeDetails", "MailUser");
            w.key("EmailAddresses").string_array({"SMTP:" + mail(u)});
        });
        array_section(w, "hveBillingPolicies", n_.hve, [&](std::size_t h) {
            w.member("Identity", mail(hveStart_ + h))
                .member("BillingPolicyStatus", r_.below(kHveAttr, h, 3, 50) == 0 ? "BillingPolicyNotFound" : "BillingPolicyValid");
        });
        // Recipients: the people's mailboxes, the HVE mail users, then shared mailboxes, groups and contacts
        // up to the count; a few of them also hold an HVE account's address (address conflicts).
        array_section(w, "recipients", n_.recipients, [&](std::size_t r) {
            std::string identity, name, address, type;
            std::vector<std::string> addresses;
            std::string objectId;
            if (r < n_.users) {
                std::size_t u = r;
                identity = mail_nick(u);
                name = display_name(u);
                address = mail(u);
                objectId = user_id(u);
                type = u >= hveStart_ ? "MailUser" : is_guest(u) ? "GuestMailUser" : "UserMailbox";
                addresses = {"SMTP:" + address};
                if (!is_guest(u)) addresses.push_back("smtp:" + mail_nick(u) + "@contososynth.onmicrosoft.com");
            } else {
                static const char* const kTypes[] = {"SharedMailbox", "MailUniversalDistributionGroup", "MailContact",
                                                     "RoomMailbox"};
                type = kTypes[r % std::size(kTypes)];
                identity = name = std::string(type) + " " + std::to_string(r);
                address = "shared-" + std::to_string(r) + "@" + kDomain;
                objectId = r_.guid(kRecipientId, r);
                addresses = {"SMTP:" + address, "X500:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=" +
                                                    std::to_string(r)};
                if (r_.below(kRecipientAttr, r, 1, 2000) == 0)  // an old alias that collides with an HVE address
                    addresses.push_back("smtp:" + mail(hveStart_ + r_.below(kRecipientAttr, r, 2, n_.hve)));
            }
            w.member("Identity", identity).member("Name", name).member("PrimarySmtpAddress", address)
                .member("ExternalDirectoryObjectId", objectId).member("RecipientTypeDetails", type);
            w.key("EmailAddresses").string_array(addresses);
        });
        array_section(w, "casMailboxes", n_.hve, [&](std::size_t h) {
            std::size_t u = hveStart_ + h;
            w.member("Identity", mail_nick(u)).member("PrimarySmtpAddress", mail(u))
                .member("ExternalDirectoryObjectId", user_id(u))
                .member_raw("SmtpClientAuthenticationDisabled", h % 40 == 9 ? "true" : "null");
        });
        w.raw("\"acceptedDomains\":[{\"DomainName\":\"contoso-synth.com\",\"Default\":true},"
              "{\"DomainName\":\"contososynth.onmicrosoft.com\",\"Default\":false}],\n");
        w.raw("\"inboundConnectors\":[]\n");
    }

    // One device per HVE account: printers and applications submitting to the HVE endpoint or, for some,
    // still to smtp.office365.com.
    void write_smtp_clients(Writer& w) {
        array_section(w, "smtpClients", n_.hve, [&](std::size_t h) {
            std::size_t u = hveStart_ + h;
            bool legacyHost = h % 10 == 3;
            w.member("name", "Device " + std::to_string(h))
                .member("host", legacyHost ? "smtp.office365.com" : "smtp.hve.mx.microsoft")
                .member_raw("port", "587")
                .member("security", "starttls")
                .member("auth", "basic")
                .member("username", mail(u))
                .member("from", mail(u))
                .member("recipients", h % 25 == 0 ? "partner.example" : kDomain)
                .member_raw("maxRecipientsPerMessage", h % 30 == 0 ? "80" : "10")
                .member("owner", kDepartments[h % std::size(kDepartments)]);
        });
    }
};

[[noreturn]] void usage(const char* message) {
    std::fprintf(stderr, "generate_tenant: %s\nusage: generate_tenant --size S|M|L [--seed N] [--output FILE]\n", message);
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::string size, output;
    std::uint64_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
            return argv[++i];
        };
        if (arg == "--size") size = value();
        else if (arg == "--seed") {
            std::string text = value();
            char* end = nullptr;
            seed = std::strtoull(text.c_str(), &end, 10);
            if (text.empty() || *end != '\0') usage("--seed takes a non-negative integer");
        } else if (arg == "--output") output = value();
        else if (arg == "--help" || arg == "-h") usage("writes a synthetic tenant snapshot");
        else usage(("unknown argument " + arg).c_str());
    }
    // Issue 6 §1. Policies and locations keep one of each kind of the mix at the smaller sizes.
    Sizes sizes{};
    if (size == "L") sizes = {200000, 20000, 195, 500, 5000, 100000, 250000};
    else if (size == "M") sizes = {20000, 2000, 20, 50, 500, 10000, 25000};
    else if (size == "S") sizes = {2000, 200, 13, 5, 50, 1000, 2500};
    else usage("--size must be S, M or L");

    std::FILE* out = output.empty() ? stdout : std::fopen(output.c_str(), "wb");
    if (!out) usage(("cannot write " + output + ": " + std::strerror(errno)).c_str());
    bool ok;
    {
        Writer writer(out);
        Tenant(sizes, seed).write(writer);
        ok = writer.flush();
    }
    ok = (output.empty() ? std::fflush(out) : std::fclose(out)) == 0 && ok;
    if (!ok) {
        std::fprintf(stderr, "generate_tenant: writing %s failed\n", output.empty() ? "standard output" : output.c_str());
        return 1;
    }
    return 0;
}
