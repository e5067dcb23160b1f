// Errors that name where the input went wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace tenantscan {

// Raised for unreadable or structurally invalid input. what() reads
// "<file>: <pointer>: <message>" (pointer omitted when empty), e.g.
// "tenant.json: /graph/conditionalAccessPolicies: expected an array, got a string".
class InputError : public std::runtime_error {
public:
    InputError(std::string file, std::string pointer, std::string message);
    const std::string& file() const noexcept { return file_; }
    const std::string& pointer() const noexcept { return pointer_; }
    const std::string& message() const noexcept { return message_; }

private:
    std::string file_, pointer_, message_;
};

}  // namespace tenantscan
