// A program that embeds tenantscan: loads a snapshot, adds its own rule next to the built-in
// ones and runs the scan. Built against the installed package by the install_and_consume test.
#include <iostream>
#include <memory>
#include <sstream>

#include <tenantscan/model.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/snapshot_loader.hpp>

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
    if (argc != 2) return 2;
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
    return 0;
}
