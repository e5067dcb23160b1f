// Whether the tenant has Microsoft Entra ID P1 (needed for Conditional Access), from
// /graph/subscribedSkus. Shared by hve-security-defaults and tenant-conditional-access-licence.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <tenantscan/model.hpp>

namespace tenantscan::rules {

// Entra ID P1 comes with the service plan AAD_PREMIUM (P2: AAD_PREMIUM_P2), inside many SKUs
// (Entra ID P1/P2, Microsoft 365 Business Premium, E3, E5, EMS). A plan counts when it is
// provisioned in a SKU that is not suspended, deleted or locked out.
struct P1Licence {
    std::string status;  // "licensed" | "notLicensed" | "unknown" (subscribedSkus not collected)
    // Every AAD_PREMIUM/AAD_PREMIUM_P2 plan seen: {skuPartNumber, capabilityStatus, servicePlanName, provisioningStatus}
    nlohmann::json servicePlans = nlohmann::json::array();
};

P1Licence find_p1_licence(const Snapshot& snapshot);

}  // namespace tenantscan::rules
