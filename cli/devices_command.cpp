// tenantscan devices: the curated catalogue of which device and application families can send
// through Exchange Online with OAuth (data/devices.json, compiled into the library).
#include <tenantscan/device_catalog.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "output.hpp"

namespace tenantscan::cli {

namespace {

struct DevicesArguments {
    std::string vendor;
    std::string model;
    std::string firmware;
    std::string format = "text";
};

std::string status_text(const DeviceFamily& f) {
    switch (f.status) {
        case DeviceOAuthStatus::Available: return "OAuth available";
        case DeviceOAuthStatus::FromFirmware: return fmt::format("OAuth available from firmware {}", f.firmwareFrom);
        case DeviceOAuthStatus::Partial: return fmt::format("partial: {}", f.limitation);
        case DeviceOAuthStatus::NonePlanned: return "vendor says no OAuth firmware is planned";
        case DeviceOAuthStatus::CheckVendorList: return "check the vendor's list of supported models";
        case DeviceOAuthStatus::Unsupported: return "unsupported";
    }
    return "unknown";
}

std::string firmware_text(FirmwareCheck check, const DeviceFamily& f, const std::string& firmware) {
    switch (check) {
        case FirmwareCheck::AtLeast: return fmt::format("{} is {} or later: OAuth is available", firmware, f.firmwareFrom);
        case FirmwareCheck::Below: return fmt::format("{} is older than {}: update the firmware first", firmware, f.firmwareFrom);
        case FirmwareCheck::Undetermined:
            return fmt::format("cannot compare {} with {}: check the firmware by hand", firmware, f.firmwareFrom);
        case FirmwareCheck::NotApplicable: break;
    }
    return {};
}

nlohmann::json family_json(const DeviceMatch& m) {
    const auto& f = m.family;
    nlohmann::json flows = nlohmann::json::array();
    for (auto flow : f.flows) flows.push_back(to_string(flow));
    nlohmann::json sources = nlohmann::json::array();
    for (const auto& s : f.sources) sources.push_back({{"url", s.url}, {"checked", s.checked}});
    nlohmann::json out = {{"vendor", f.vendor},
                          {"aliases", f.aliases},
                          {"family", f.family},
                          {"category", f.category},
                          {"modelPatterns", f.modelPatterns},
                          {"status", to_string(f.status)},
                          {"flows", flows},
                          {"notes", f.notes},
                          {"sources", sources}};
    if (!f.firmwareFrom.empty()) out["firmwareFrom"] = f.firmwareFrom;
    if (!f.limitation.empty()) out["limitation"] = f.limitation;
    if (m.firmware != FirmwareCheck::NotApplicable) out["firmwareCheck"] = to_string(m.firmware);
    return out;
}

std::string matches_text(const std::vector<DeviceMatch>& matches, const DevicesArguments& args, const DeviceCatalog& catalog) {
    std::string out;
    for (const auto& m : matches) {
        const auto& f = m.family;
        out += fmt::format("{}: {}\n", f.vendor, f.family);
        out += fmt::format("  {:<9} {}\n", "status:", status_text(f));
        if (m.firmware != FirmwareCheck::NotApplicable)
            out += fmt::format("  {:<9} {}\n", "firmware:", firmware_text(m.firmware, f, args.firmware));
        std::string flows;
        for (auto flow : f.flows) flows += (flows.empty() ? "" : ", ") + to_string(flow);
        out += fmt::format("  {:<9} {}\n", "flows:", flows);
        std::string patterns;
        for (const auto& p : f.modelPatterns) patterns += (patterns.empty() ? "" : "  ") + p;
        out += fmt::format("  {:<9} {}\n", "models:", patterns);
        out += fmt::format("  {:<9} {}\n", "notes:", f.notes);
        for (const auto& s : f.sources) out += fmt::format("  {:<9} {} (checked {})\n", "source:", s.url, s.checked);
        out += "\n";
    }
    if (matches.empty()) {
        if (args.vendor.empty()) out += "The catalogue is empty.\n";
        else if (args.model.empty())
            out += fmt::format("No catalogue entry for vendor '{}': unknown, not assumed to support OAuth.\n", args.vendor);
        else
            out += fmt::format("No catalogue entry for '{}' model '{}': unknown, not assumed to support OAuth. "
                               "Check the vendor's documentation.\n", args.vendor, args.model);
    }
    out += fmt::format("Device catalogue data version {}, updated {}: rows were checked against the vendors' pages "
                       "as published on the dates shown; corrections: docs/devices.md.\n",
                       catalog.data_version(), catalog.updated());
    return out;
}

}  // namespace

void add_devices_command(CLI::App& app, int& exitCode) {
    auto args = std::make_shared<DevicesArguments>();
    auto* cmd = app.add_subcommand("devices", "List which device and application families can use OAuth, per their vendors");
    auto* vendor = cmd->add_option("--vendor", args->vendor, "Only this vendor (name or alias, case-insensitive)");
    cmd->add_option("--model", args->model, "Only the families whose model patterns match this model")->needs(vendor);
    cmd->add_option("--firmware", args->firmware, "Compare this firmware version with the family's minimum")->needs(vendor);
    cmd->add_option("--format", args->format, "Output format")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    cmd->callback([args, &exitCode] {
        exitCode = run_guarded([&] {
            const auto& catalog = builtin_device_catalog();
            std::vector<DeviceMatch> matches;
            if (args->vendor.empty()) {
                for (const auto& f : catalog.families()) matches.push_back({f, FirmwareCheck::NotApplicable});
            } else {
                matches = catalog.lookup({args->vendor, args->model, args->firmware});
            }
            if (args->format == "json") {
                nlohmann::json families = nlohmann::json::array();
                for (const auto& m : matches) families.push_back(family_json(m));
                nlohmann::json query = nlohmann::json::object();
                if (!args->vendor.empty()) query["vendor"] = args->vendor;
                if (!args->model.empty()) query["model"] = args->model;
                if (!args->firmware.empty()) query["firmware"] = args->firmware;
                const nlohmann::json out = {{"dataVersion", catalog.data_version()},
                                            {"updated", catalog.updated()},
                                            {"note", catalog.note()},
                                            {"query", query},
                                            {"families", families}};
                write_output(out.dump(2) + "\n", "");
            } else {
                write_output(matches_text(matches, *args, catalog), "");
            }
            return kExitOk;
        });
    });
}

}  // namespace tenantscan::cli
