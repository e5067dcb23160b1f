#include <tenantscan/scan.hpp>

namespace tenantscan {

nlohmann::json report_to_json(const Report& report) {
    using nlohmann::json;
    json findings = json::array();
    for (const auto& f : report.findings) {
        findings.push_back({{"rule", f.rule},
                            {"status", to_string(f.status)},
                            {"severity", to_string(f.severity)},
                            {"subject", {{"kind", f.subject.kind}, {"id", f.subject.id}, {"name", f.subject.name}}},
                            {"message", f.message},
                            {"evidence", f.evidence},
                            {"remediation", f.remediation}});
    }
    const auto& s = report.summary;
    return {{"reportVersion", 1},
            {"tool", {{"name", "tenantscan"}, {"version", report.toolVersion}}},
            {"tenant", {{"id", report.tenantId}}},
            {"asOf", report.asOf},
            {"snapshot", report.snapshotPath},
            {"summary",
             {{"pass", s.pass},
              {"fail", s.fail},
              {"review", s.review},
              {"notApplicable", s.notApplicable},
              {"error", s.error},
              {"gate", s.gatePassed ? "passed" : "failed"},
              {"gateReasons", s.gateReasons}}},
            {"findings", findings}};
}

}  // namespace tenantscan
