// A program that embeds tenantscan: loads a snapshot, adds its own rule next to the built-in
// ones (tenantscan::rules) and runs the scan (tenantscan::tenantscan); writes a snapshot document with
// the collector's library (tenantscan::collect) and loads it back. Built against the installed
// package by the install_and_consume test, through the umbrella header: every public header it
// includes must be installed, and none may need a detail/ header (those are not installed).
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include <tenantscan/tenantscan.hpp>

namespace {
class PolicyCountRule : public tenantscan::Rule {
public:
    PolicyCountRule() {
        meta_.id = "custom-rule-registered";
        meta_.title = "Counts Conditional Access policies";
        meta_.defaultSeverity = tenantscan::Severity::Info;
        meta_.requiredSections = {"/graph/conditionalAccessPolicies"};
    }
    const tenantscan::RuleMetadata& metadata() const override { return meta_; }
    std::vector<tenantscan::Finding> evaluate(const tenantscan::RuleContext& context) const override {
        auto count = context.snapshot().conditionalAccessPolicies->size();
        return {finding(tenantscan::Status::Pass, {"tenant", context.snapshot().tenantId, context.snapshot().tenantId},
                        std::to_string(count) + " policies")};
    }

private:
    tenantscan::RuleMetadata meta_;
};
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) return 2;  // snapshot, scratch folder
    tenantscan::Registry registry;
    tenantscan::register_builtin_rules(registry);
    registry.add(std::make_unique<PolicyCountRule>());
    auto snapshot = tenantscan::load_snapshot(argv[1]);
    tenantscan::ScanOptions options;
    options.asOf = "2026-11-27";
    auto report = tenantscan::run_scan(snapshot, registry, options);
    for (const auto& f : report.findings)
        std::cout << f.rule << " " << tenantscan::to_string(f.status) << " " << f.subject.name << "\n";

    // The streamed scan writes the same JSON report, holding one rule's findings at a time.
    std::ostringstream streamed;
    tenantscan::JsonReportWriter writer(streamed);
    auto summary = tenantscan::run_scan(snapshot, registry, options, writer);
    writer.end(summary);
    if (streamed.str() != tenantscan::report_to_json(report).dump(2) + "\n") {
        std::cerr << "the streamed JSON report differs from report_to_json\n";
        return 1;
    }
    std::cout << "streamed report: same bytes\n";

    // tenantscan::collect: every section it can collect is one the loader knows; options it cannot
    // use are refused before any request; the snapshot file it writes loads.
    for (const auto& section : tenantscan::collect::collectable_sections()) {
        if (!tenantscan::Snapshot::is_section(section)) {
            std::cerr << "collect names a section the loader does not know: " << section << "\n";
            return 1;
        }
    }
    try {
        tenantscan::collect::collect_snapshot(tenantscan::collect::CollectOptions{});
        std::cerr << "collect accepted options without a tenant\n";
        return 1;
    } catch (const tenantscan::collect::CollectError& e) {
        std::cout << "collect refused empty options: " << e.what() << "\n";
    }
    const std::string written = std::string(argv[2]) + "/written-snapshot.json";
    nlohmann::json document = nlohmann::json::parse(R"({"snapshotVersion": 1, "tenantId": "t-consumer",
        "collectedAt": "2026-11-27T06:00:00Z", "graph": {"users": []}})");
    tenantscan::collect::write_snapshot_file(document, written);
    auto copy = tenantscan::load_snapshot(written);
    std::remove(written.c_str());
    if (copy.tenantId != "t-consumer" || !copy.has_section("/graph/users")) {
        std::cerr << "the written snapshot did not load back\n";
        return 1;
    }
    std::cout << "collect: snapshot written and loaded\n";
    return 0;
}
