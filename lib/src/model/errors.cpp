#include <tenantscan/errors.hpp>

#include <utility>

namespace tenantscan {

namespace {

std::string compose(const std::string& file, const std::string& pointer, const std::string& message) {
    std::string text;
    for (const std::string* part : {&file, &pointer}) {
        if (!part->empty()) {
            text += *part;
            text += ": ";
        }
    }
    return text + message;
}

}  // namespace

InputError::InputError(std::string file, std::string pointer, std::string message)
    : std::runtime_error(compose(file, pointer, message)),
      file_(std::move(file)),
      pointer_(std::move(pointer)),
      message_(std::move(message)) {}

}  // namespace tenantscan
