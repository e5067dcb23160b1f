#include "report/common.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include <fmt/format.h>

namespace tenantscan::report_detail {

namespace {

void collect_policies(const nlohmann::json& value, const Report& report, std::vector<PolicyReference>& out) {
    if (value.is_object()) {
        for (const auto& [key, member] : value.items()) {
            if (member.is_string() && report.policySources.count(member.get<std::string>())) {
                const std::string id = member.get<std::string>();
                auto name = value.find("displayName");
                bool seen = std::any_of(out.begin(), out.end(), [&](const PolicyReference& r) { return r.id == id; });
                if (!seen)
                    out.push_back({id, name != value.end() && name->is_string() ? name->get<std::string>() : ""});
            } else {
                collect_policies(member, report, out);
            }
        }
    } else if (value.is_array()) {
        for (const auto& item : value) collect_policies(item, report, out);
    } else if (value.is_string() && report.policySources.count(value.get<std::string>())) {
        const std::string id = value.get<std::string>();
        if (std::none_of(out.begin(), out.end(), [&](const PolicyReference& r) { return r.id == id; }))
            out.push_back({id, ""});
    }
}

// SHA-256 round constants and initial hash values (FIPS 180-4, 4.2.2 and 5.3.3).
constexpr std::array<std::uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

}  // namespace

std::vector<PolicyReference> referenced_policies(const Finding& finding, const Report& report) {
    std::vector<PolicyReference> out;
    if (!report.policySources.empty()) collect_policies(finding.evidence, report, out);
    return out;
}

const PolicyChange* proposed_change_behind(const Finding& finding, const Report& report) {
    if (report.policyChanges.empty()) return nullptr;
    for (const auto& reference : referenced_policies(finding, report))
        for (const auto& change : report.policyChanges)
            if (change.kind != PolicyChange::Kind::Removed && change.id == reference.id) return &change;
    return nullptr;
}

std::string finding_identity(const Finding& finding) {
    return finding.rule + "\n" + finding.subject.kind + "\n" +
           (finding.subject.id.empty() ? finding.subject.name : finding.subject.id);
}

std::string sha256_hex(std::string_view bytes) {
    std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::string message(bytes);
    const std::uint64_t bitLength = static_cast<std::uint64_t>(bytes.size()) * 8;
    message += static_cast<char>(0x80);
    while (message.size() % 64 != 56) message += '\0';
    for (int shift = 56; shift >= 0; shift -= 8) message += static_cast<char>((bitLength >> shift) & 0xff);

    for (std::size_t block = 0; block < message.size(); block += 64) {
        std::array<std::uint32_t, 64> w{};
        for (int i = 0; i < 16; ++i)
            for (int b = 0; b < 4; ++b)
                w[i] = (w[i] << 8) | static_cast<unsigned char>(message[block + static_cast<std::size_t>(i * 4 + b)]);
        for (int i = 16; i < 64; ++i) {
            std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        auto v = h;
        for (int i = 0; i < 64; ++i) {
            std::uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
            std::uint32_t choose = (v[4] & v[5]) ^ (~v[4] & v[6]);
            std::uint32_t t1 = v[7] + s1 + choose + kRound[i] + w[i];
            std::uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
            std::uint32_t majority = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            std::uint32_t t2 = s0 + majority;
            v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
        }
        for (int i = 0; i < 8; ++i) h[i] += v[i];
    }
    std::string out;
    for (auto word : h) out += fmt::format("{:08x}", word);
    return out;
}

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string escape_markdown(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\n': out += "<br>"; break;
            case '\r': break;
            case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '#': case '~': case '!':
                out += '\\';
                out += c;
                break;
            default: out += c;
        }
    }
    return out;
}

std::string status_words(Status status) {
    return status == Status::NotApplicable ? "not applicable" : to_string(status);
}

int status_rank(Status status) {
    switch (status) {
        case Status::Error: return 0;
        case Status::Fail: return 1;
        case Status::Review: return 2;
        case Status::Waived: return 3;
        case Status::Pass: return 4;
        case Status::NotApplicable: return 5;
    }
    return 6;
}

std::vector<const Finding*> findings_worst_first(const Report& report) {
    std::vector<const Finding*> out;
    for (const auto& f : report.findings) out.push_back(&f);
    std::stable_sort(out.begin(), out.end(), [&](const Finding* a, const Finding* b) {
        return std::make_pair(status_rank(a->status), static_cast<int>(a->severity)) <
               std::make_pair(status_rank(b->status), static_cast<int>(b->severity));
    });
    return out;
}

}  // namespace tenantscan::report_detail
