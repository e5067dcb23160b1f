// Certificate credentials for the OAuth 2.0 client credentials flow: an RS256-signed JWT
// ("client assertion") carrying the certificate's SHA-1 (x5t) and SHA-256 (x5t#S256) thumbprints,
// as Microsoft Entra ID expects it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace tenantscan::collect::detail {

class CertificateCredential {
public:
    // Reads the certificate (first one in the PEM file) and the unencrypted RSA private key
    // (from keyFile, or from certificateFile when keyFile is empty) and checks they belong
    // together. A file that is not PEM is read as PKCS#12 (.pfx/.p12) with `password` (certificate
    // and key in the one file). Throws CollectError naming the file on any problem; never prints
    // key material or the password.
    CertificateCredential(const std::string& certificateFile, const std::string& keyFile,
                          const std::string& password = "");
    ~CertificateCredential();
    CertificateCredential(const CertificateCredential&) = delete;
    CertificateCredential& operator=(const CertificateCredential&) = delete;

    // A client assertion for `audience` (the token endpoint URL), valid for ten minutes.
    std::string assertion(const std::string& clientId, const std::string& audience,
                          std::chrono::system_clock::time_point now) const;

    const std::string& sha1_thumbprint() const { return x5t_; }      // base64url
    const std::string& sha256_thumbprint() const { return x5tS256_; }  // base64url

private:
    struct Key;
    std::unique_ptr<Key> key_;
    std::string x5t_, x5tS256_;
};

}  // namespace tenantscan::collect::detail
