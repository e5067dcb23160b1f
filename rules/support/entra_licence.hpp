// Whether the tenant has Microsoft Entra ID P1 (needed for Conditional Access), from
// /graph/subscribedSkus. Shared by hve-security-defaults and tenant-conditional-access-licence.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/model.hpp>

namespace tenantscan::rules {

// Entra ID P1 comes with the service plan AAD_PREMIUM (P2: AAD_PREMIUM_P2), inside many SKUs
// (Entra ID P1/P2, Microsoft 365 Business Premium, E3, E5, EMS). A plan counts when it is
// provisioned (provisioningStatus Success) in a SKU whose capabilityStatus is Enabled or Warning.
// A missing status is not "fine": when no plan is known to be usable and one would be if its
// missing statuses were good, the answer is "undetermined".
struct P1Licence {
    // "licensed" | "notLicensed" | "undetermined" (a P1/P2 plan lacks provisioningStatus or its SKU
    // capabilityStatus) | "unknown" (subscribedSkus not collected)
    std::string status;
    // For "undetermined": what is missing, e.g. "capabilityStatus of SKU 'AAD_PREMIUM'".
    std::vector<std::string> missing;
    // Every AAD_PREMIUM/AAD_PREMIUM_P2 plan seen: {skuPartNumber, capabilityStatus, servicePlanName, provisioningStatus}
    nlohmann::json servicePlans = nlohmann::json::array();
};

P1Licence find_p1_licence(const Snapshot& snapshot);

}  // namespace tenantscan::rules
