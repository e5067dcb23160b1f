#include <tenantscan/detail/migration_plan.hpp>

#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

#include "report/common.hpp"

namespace tenantscan {

namespace {

bool breaks_something(const Finding& f) {
    return f.status == Status::Fail || f.status == Status::Review || f.status == Status::Error;
}

// The first related object of the finding that plays `role`, or nullptr.
const Related* related_as(const Finding& f, Related::Role role) {
    for (const Related& r : f.related)
        if (r.role == role) return &r;
    return nullptr;
}

Severity worst_of(const SenderPlan& plan) {
    Severity worst = Severity::Info;
    for (const Finding* f : plan.breaks)
        if (at_least(f->severity, worst)) worst = f->severity;
    return worst;
}

const char* kind_label(SenderPlan::Kind kind) {
    switch (kind) {
        case SenderPlan::Kind::Device: return "device";
        case SenderPlan::Kind::Account: return "account";
        case SenderPlan::Kind::HveAccount: return "HVE account";
    }
    return "";
}

}  // namespace

std::vector<SenderPlan> build_migration_plan(const std::vector<Finding>& findings) {
    std::map<std::string, SenderPlan> devices, accounts;  // by lower-case name
    std::map<std::string, std::string> accountOfDevice;   // device key → account key
    for (const Finding& f : findings) {
        const std::string key = to_lower(f.subject.name);
        SenderPlan* plan = nullptr;
        if (f.subject.kind == "smtpClient") {
            plan = &devices[key];
            plan->kind = SenderPlan::Kind::Device;
            if (const Related* sender = related_as(f, Related::Role::Sender)) plan->what = sender->detail;
            if (const Related* account = related_as(f, Related::Role::SignsInAs); account && !account->name.empty())
                accountOfDevice[key] = to_lower(account->name);
            if (const Related* vendor = related_as(f, Related::Role::VendorSays)) plan->device = vendor->detail;
        } else if (f.subject.kind == "user" || f.subject.kind == "hveAccount") {
            plan = &accounts[key];
            const bool hve = f.subject.kind == "hveAccount";
            plan->kind = hve ? SenderPlan::Kind::HveAccount : SenderPlan::Kind::Account;
            if (const Related* sender = related_as(f, Related::Role::Sender))
                plan->what = sender->detail;
            else if (plan->what.empty())
                plan->what = hve ? fmt::format("HVE account {}", f.subject.name) : fmt::format("account {}", f.subject.name);
            if (hve && plan->target.empty())
                plan->target = "stay on HVE (smtp.hve.mx.microsoft:587, STARTTLS) once the findings above are fixed";
        } else {
            continue;  // tenant-wide findings belong to no sender
        }
        plan->name = f.subject.name;
        if (const Related* target = related_as(f, Related::Role::MigrateTo); target && !target->name.empty())
            plan->target = target->name;
        if (breaks_something(f)) plan->breaks.push_back(&f);
    }

    // A device inherits what breaks for the account it signs in as; an account used by a device
    // is shown with the device rather than on its own.
    std::map<std::string, bool> accountShownWithDevice;
    for (auto& [key, device] : devices) {
        auto link = accountOfDevice.find(key);
        if (link == accountOfDevice.end()) continue;
        auto account = accounts.find(link->second);
        if (account == accounts.end()) continue;
        device.breaks.insert(device.breaks.end(), account->second.breaks.begin(), account->second.breaks.end());
        accountShownWithDevice[link->second] = true;
    }

    std::vector<SenderPlan> plan;
    for (auto& [key, device] : devices) plan.push_back(std::move(device));
    for (auto& [key, account] : accounts)
        if (!accountShownWithDevice.count(key)) plan.push_back(std::move(account));
    // Worst first: by severity, then what is certain (fail, error) before what needs a look (review).
    auto certainty = [](const Finding* f) { return f->status == Status::Fail ? 0 : f->status == Status::Error ? 1 : 2; };
    for (auto& sender : plan)
        std::stable_sort(sender.breaks.begin(), sender.breaks.end(), [&](const Finding* a, const Finding* b) {
            return std::make_tuple(a->severity, certainty(a), a->rule) < std::make_tuple(b->severity, certainty(b), b->rule);
        });
    std::stable_sort(plan.begin(), plan.end(), [](const SenderPlan& a, const SenderPlan& b) {
        if (a.breaks.empty() != b.breaks.empty()) return !a.breaks.empty();
        const auto wa = worst_of(a), wb = worst_of(b);
        if (wa != wb) return at_least(wa, wb);
        return a.name < b.name;
    });
    return plan;
}

void write_migration_plan_text(const std::vector<SenderPlan>& plan, bool colour, std::ostream& stream) {
    if (plan.empty()) return;
    const auto needAction = std::count_if(plan.begin(), plan.end(), [](const SenderPlan& s) { return !s.breaks.empty(); });
    const std::string heading = fmt::format("MIGRATION PLAN ({} sender{}, {} need{} action)", plan.size(),
                                            plan.size() == 1 ? "" : "s", needAction, needAction == 1 ? "s" : "");
    report_detail::StreamedText out(stream);
    out += "\n" + (colour ? fmt::format("\x1b[1m{}\x1b[0m", heading) : heading) + "\n";
    for (const SenderPlan& sender : plan) {
        if (sender.breaks.empty()) {
            out += fmt::format("  ok  {} ({}){}\n", sender.name, kind_label(sender.kind),
                               sender.target.empty() ? "" : fmt::format(" → {}", sender.target));
            continue;
        }
        out += fmt::format("\n  {} ({})\n", sender.name, kind_label(sender.kind));
        if (!sender.what.empty()) out += fmt::format("    what:   {}\n", sender.what);
        for (std::size_t i = 0; i < sender.breaks.size(); ++i) {
            const Finding& f = *sender.breaks[i];
            out += fmt::format("    {} [{} {}] {}: {}\n", i == 0 ? "breaks:" : "       ", to_string(f.status),
                               to_string(f.severity), f.rule, f.message);
        }
        if (!sender.device.empty()) out += fmt::format("    oauth:  {}\n", sender.device);
        if (!sender.target.empty()) out += fmt::format("    go to:  {}\n", sender.target);
    }
    out.flush();
}

std::string migration_plan_to_text(const std::vector<SenderPlan>& plan, bool colour) {
    std::ostringstream out;
    write_migration_plan_text(plan, colour, out);
    return out.str();
}

}  // namespace tenantscan
