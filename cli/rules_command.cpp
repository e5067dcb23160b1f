#include <tenantscan/rule.hpp>
#include <tenantscan/builtin_rules.hpp>

#include <fmt/format.h>

#include "commands.hpp"
#include "output.hpp"

namespace tenantscan::cli {

namespace {

nlohmann::json metadata_json(const RuleMetadata& m) {
    nlohmann::json parameters = nlohmann::json::array();
    for (const auto& p : m.parameters)
        parameters.push_back({{"name", p.name}, {"description", p.description}, {"default", p.defaultValue}});
    return {{"id", m.id},
            {"title", m.title},
            {"defaultSeverity", to_string(m.defaultSeverity)},
            {"rationale", m.rationale},
            {"remediation", m.remediation},
            {"references", m.references},
            {"requiredSections", m.requiredSections},
            {"parameters", parameters}};
}

std::string catalogue_text(const Registry& registry) {
    std::string out;
    for (const Rule* rule : registry.rules()) {
        const auto& m = rule->metadata();
        out += fmt::format("{:<34} {:<8} {}\n", m.id, to_string(m.defaultSeverity), m.title);
        std::string sections;
        for (const auto& s : m.requiredSections) sections += (sections.empty() ? "" : ", ") + s;
        if (!sections.empty()) out += fmt::format("{:<34} needs: {}\n", "", sections);
        for (const auto& p : m.parameters)
            out += fmt::format("{:<34} parameter {} (default {}): {}\n", "", p.name, p.defaultValue.dump(), p.description);
    }
    return out;
}

}  // namespace

void add_rules_command(CLI::App& app, int& exitCode) {
    auto format = std::make_shared<std::string>("text");
    auto* cmd = app.add_subcommand("rules", "List the rule catalogue: ids, severities, what each needs");
    cmd->add_option("--format", *format, "Output format")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    cmd->callback([format, &exitCode] {
        exitCode = run_guarded([&] {
            Registry registry;
            register_builtin_rules(registry);
            if (*format == "json") {
                nlohmann::json rules = nlohmann::json::array();
                for (const Rule* rule : registry.rules()) rules.push_back(metadata_json(rule->metadata()));
                write_output(nlohmann::json{{"rules", rules}}.dump(2) + "\n", "");
            } else {
                write_output(catalogue_text(registry), "");
            }
            return kExitOk;
        });
    });
}

}  // namespace tenantscan::cli
