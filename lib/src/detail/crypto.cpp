#include <tenantscan/detail/crypto.hpp>

#include <openssl/evp.h>

#include <stdexcept>

#include <fmt/format.h>

namespace tenantscan::detail {

std::string sha256(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("OpenSSL could not compute a SHA-256 digest");
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string sha256_hex(std::string_view bytes) {
    std::string out;
    for (unsigned char c : sha256(bytes)) out += fmt::format("{:02x}", c);
    return out;
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string quads;
    for (char c : text) {
        if (c == '=') break;
        if (c != ' ' && c != '\t') quads += c;
    }
    if (quads.size() % 4 == 1) return std::nullopt;  // no encoding ends with a single character
    const std::size_t padding = (4 - quads.size() % 4) % 4;
    quads.append(padding, '=');
    std::string out(quads.size() / 4 * 3, '\0');
    // EVP_DecodeBlock rejects characters outside the alphabet and writes the padded bytes as zeros.
    const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(quads.data()), static_cast<int>(quads.size()));
    if (written < 0) return std::nullopt;
    out.resize(static_cast<std::size_t>(written) - padding);
    return out;
}

}  // namespace tenantscan::detail
