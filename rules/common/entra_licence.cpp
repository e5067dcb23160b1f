#include "common/entra_licence.hpp"

#include <tenantscan/json_input.hpp>

namespace tenantscan::rules {

namespace {

bool is_premium_plan(const ServicePlan& plan) {
    return iequals(plan.servicePlanName, "AAD_PREMIUM") || iequals(plan.servicePlanName, "AAD_PREMIUM_P2");
}

bool is_usable_sku(const SubscribedSku& sku) {
    return sku.capabilityStatus.empty() || iequals(sku.capabilityStatus, "Enabled") ||
           iequals(sku.capabilityStatus, "Warning");
}

}  // namespace

P1Licence find_p1_licence(const Snapshot& snapshot) {
    P1Licence licence;
    if (!snapshot.subscribedSkus) {
        licence.status = "unknown";
        return licence;
    }
    bool usable = false;
    for (const auto& sku : *snapshot.subscribedSkus)
        for (const auto& plan : sku.servicePlans) {
            if (!is_premium_plan(plan)) continue;
            const bool provisioned = plan.provisioningStatus.empty() || iequals(plan.provisioningStatus, "Success");
            usable = usable || (provisioned && is_usable_sku(sku));
            licence.servicePlans.push_back({{"skuPartNumber", sku.skuPartNumber},
                                            {"capabilityStatus", sku.capabilityStatus},
                                            {"servicePlanName", plan.servicePlanName},
                                            {"provisioningStatus", plan.provisioningStatus}});
        }
    licence.status = usable ? "licensed" : "notLicensed";
    return licence;
}

}  // namespace tenantscan::rules
