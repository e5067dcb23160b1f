#include "support/entra_licence.hpp"

#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

namespace tenantscan::rules {

namespace {

bool is_premium_plan(const ServicePlan& plan) {
    return iequals(plan.servicePlanName, "AAD_PREMIUM") || iequals(plan.servicePlanName, "AAD_PREMIUM_P2");
}

enum class Known { Yes, No, Missing };

Known sku_usable(const SubscribedSku& sku) {
    if (sku.capabilityStatus.empty()) return Known::Missing;
    return iequals(sku.capabilityStatus, "Enabled") || iequals(sku.capabilityStatus, "Warning") ? Known::Yes : Known::No;
}

Known plan_provisioned(const ServicePlan& plan) {
    if (plan.provisioningStatus.empty()) return Known::Missing;
    return iequals(plan.provisioningStatus, "Success") ? Known::Yes : Known::No;
}

std::string sku_label(const SubscribedSku& sku) {
    return "'" + (sku.skuPartNumber.empty() ? sku.skuId : sku.skuPartNumber) + "'";
}

}  // namespace

P1Licence find_p1_licence(const Snapshot& snapshot) {
    P1Licence licence;
    if (!snapshot.subscribedSkus) {
        licence.status = "unknown";
        return licence;
    }
    bool usable = false, maybe = false;
    for (const auto& sku : *snapshot.subscribedSkus)
        for (const auto& plan : sku.servicePlans) {
            if (!is_premium_plan(plan)) continue;
            const Known skuState = sku_usable(sku), planState = plan_provisioned(plan);
            if (skuState == Known::Yes && planState == Known::Yes) usable = true;
            if (skuState != Known::No && planState != Known::No && (skuState == Known::Missing || planState == Known::Missing)) {
                maybe = true;
                if (skuState == Known::Missing)
                    licence.missing.push_back("capabilityStatus of SKU " + sku_label(sku));
                if (planState == Known::Missing)
                    licence.missing.push_back(fmt::format("provisioningStatus of plan {} in SKU {}", plan.servicePlanName,
                                                          sku_label(sku)));
            }
            licence.servicePlans.push_back({{"skuPartNumber", sku.skuPartNumber},
                                            {"capabilityStatus", sku.capabilityStatus},
                                            {"servicePlanName", plan.servicePlanName},
                                            {"provisioningStatus", plan.provisioningStatus}});
        }
    licence.status = usable ? "licensed" : maybe ? "undetermined" : "notLicensed";
    if (usable) licence.missing.clear();
    return licence;
}

}  // namespace tenantscan::rules
