#include "report/common.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include <fmt/format.h>

namespace tenantscan::report_detail {

std::vector<PolicyReference> referenced_policies(const Finding& finding, const Report& report) {
    std::vector<PolicyReference> out;
    for (const Related& r : finding.related) {
        if (r.kind != Related::Kind::ConditionalAccessPolicy || !report.policySources.count(r.id)) continue;
        if (std::none_of(out.begin(), out.end(), [&](const PolicyReference& seen) { return seen.id == r.id; }))
            out.push_back({r.id, r.name});
    }
    return out;
}

const PolicyChange* proposed_change_behind(const Finding& finding, const Report& report) {
    if (report.policyChanges.empty()) return nullptr;
    for (const auto& reference : referenced_policies(finding, report))
        for (const auto& change : report.policyChanges)
            if (change.kind != PolicyChange::Kind::Removed && change.id == reference.id) return &change;
    return nullptr;
}

namespace {

// dump(2) of a document, written as it goes (the layout of nlohmann's serializer: two spaces a level,
// "key": value, members in key order, "[]" and "{}" when empty), flushed to the stream every MiB.
class StreamingDump {
public:
    StreamingDump(std::ostream& out, const nlohmann::json::json_pointer& at,
                  const std::function<void(const JsonEmitter&)>& each)
        : out_(out), at_(at.to_string()), each_(each) {}

    void document(const nlohmann::json& value) {
        walk(value, 0, "");
        buffer_ += '\n';
        flush();
    }

private:
    void value(const nlohmann::json& v, unsigned indent) {
        nlohmann::detail::serializer<nlohmann::json> serializer(nlohmann::detail::output_adapter<char>(buffer_), ' ',
                                                                nlohmann::json::error_handler_t::strict);
        serializer.dump(v, true, false, 2, indent);
        if (buffer_.size() >= (std::size_t(1) << 20)) flush();
    }

    void flush() {
        out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        buffer_.clear();
    }

    static std::string escape_token(const std::string& key) {
        std::string out;
        for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
        return out;
    }

    void walk(const nlohmann::json& v, unsigned indent, const std::string& here) {
        const std::string pad(indent + 2, ' ');
        if (here == at_) {
            bool any = false;
            each_([&](const nlohmann::json& element) {
                buffer_ += any ? ",\n" : "[\n";
                any = true;
                buffer_ += pad;
                value(element, indent + 2);
            });
            buffer_ += any ? "\n" + std::string(indent, ' ') + "]" : "[]";
            return;
        }
        const bool onPath = at_.compare(0, here.size() + 1, here + "/") == 0;
        if (!onPath || v.empty() || !(v.is_object() || v.is_array())) {
            value(v, indent);
            return;
        }
        buffer_ += v.is_object() ? "{\n" : "[\n";
        std::size_t index = 0;
        for (auto it = v.begin(); it != v.end(); ++it, ++index) {
            if (index) buffer_ += ",\n";
            buffer_ += pad;
            if (v.is_object()) {
                value(nlohmann::json(it.key()), indent + 2);
                buffer_ += ": ";
            }
            walk(*it, indent + 2, here + "/" + (v.is_object() ? escape_token(it.key()) : std::to_string(index)));
        }
        buffer_ += "\n" + std::string(indent, ' ') + (v.is_object() ? "}" : "]");
    }

    std::ostream& out_;
    const std::string at_;
    const std::function<void(const JsonEmitter&)>& each_;
    std::string buffer_;
};

}  // namespace

void dump_streaming(std::ostream& out, const nlohmann::json& document, const nlohmann::json::json_pointer& at,
                    const std::function<void(const JsonEmitter&)>& each) {
    StreamingDump(out, at, each).document(document);
}

void StreamedText::flush() {
    out_.write(text_.data(), static_cast<std::streamsize>(text_.size()));
    text_.clear();
    out_.flush();
}

std::string finding_identity(const Finding& finding) {
    return finding.rule + "\n" + finding.subject.kind + "\n" +
           (finding.subject.id.empty() ? finding.subject.name : finding.subject.id);
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
