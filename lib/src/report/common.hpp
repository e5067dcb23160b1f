// Helpers shared by the report formats (private to the library).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <tenantscan/scan.hpp>

namespace tenantscan::report_detail {

struct PolicyReference {
    std::string id;
    std::string displayName;  // as the finding's related object names it
};

// The Conditional Access policies (ids known to report.policySources) among the finding's related
// objects, in their order, each once.
std::vector<PolicyReference> referenced_policies(const Finding& finding, const Report& report);

// The proposed policy (added or replaced by the overlay) that the finding's related objects name first,
// or nullptr: such a finding is caused, at least in part, by the proposed change.
const PolicyChange* proposed_change_behind(const Finding& finding, const Report& report);

// Writes `document` to `out` exactly as document.dump(2) writes it, except the empty array at `at`:
// its elements come from `each`, which calls its argument once per element, in order, so they never
// exist together. A report writer streams its findings this way.
using JsonEmitter = std::function<void(const nlohmann::json&)>;
void dump_streaming(std::ostream& out, const nlohmann::json& document, const nlohmann::json::json_pointer& at,
                    const std::function<void(const JsonEmitter&)>& each);

// A writer's output on its way to the stream: what is appended gathers here and goes to the stream
// each time a MiB has gathered, and at flush(). A format written through it never holds its whole
// output, only the part since the last MiB (docs/performance.md).
class StreamedText {
public:
    explicit StreamedText(std::ostream& out) : out_(out) { text_.reserve(kFlushAt + 64 * 1024); }
    StreamedText(const StreamedText&) = delete;
    StreamedText& operator=(const StreamedText&) = delete;

    StreamedText& operator+=(std::string_view text) {
        text_ += text;
        if (text_.size() >= kFlushAt) flush();
        return *this;
    }
    // Writes what has gathered and flushes the stream; its state is the caller's to check.
    void flush();

private:
    static constexpr std::size_t kFlushAt = std::size_t(1) << 20;
    std::ostream& out_;
    std::string text_;
};

// The finding's identity across scans: rule + subject kind + subject id (name when no id).
std::string finding_identity(const Finding& finding);

// Escapes & < > " ' for HTML text and attribute values.
std::string escape_html(std::string_view text);

// Inline Markdown text from the tenant (policy names, addresses) or from rules: Markdown and HTML
// markup characters are escaped so that a name can neither format nor inject anything; line
// breaks become <br> (table cells stay one line).
std::string escape_markdown(std::string_view text);

// "not-applicable" → "not applicable"; others as to_string.
std::string status_words(Status status);

// Error 0, fail 1, review 2, waived 3, pass 4, not-applicable 5: the order reports list statuses in.
int status_rank(Status status);

// The findings that need someone's action first: error, fail, review, then the rest; within a
// status, worst severity first; otherwise report order.
std::vector<const Finding*> findings_worst_first(const Report& report);

}  // namespace tenantscan::report_detail
