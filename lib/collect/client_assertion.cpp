#include "client_assertion.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>
#include <tenantscan/collect.hpp>

#include "encoding.hpp"

namespace tenantscan::collect::detail {

namespace {

struct BioCloser { void operator()(BIO* b) const { BIO_free(b); } };
struct X509Closer { void operator()(X509* x) const { X509_free(x); } };
struct MdCtxCloser { void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); } };
using BioPtr = std::unique_ptr<BIO, BioCloser>;
using X509Ptr = std::unique_ptr<X509, X509Closer>;

// Refuses to prompt for a passphrase: an unattended job has nobody to answer.
int no_passphrase(char*, int, int, void*) { return -1; }

BioPtr open_file(const std::string& path, const char* what) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) throw CollectError(std::string("cannot read the ") + what + " file " + path);
    return bio;
}

std::string digest(const X509* certificate, const EVP_MD* type) {
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (X509_digest(certificate, type, bytes, &length) != 1) throw CollectError("cannot compute the certificate thumbprint");
    return base64url_encode(std::string(reinterpret_cast<char*>(bytes), length));
}

std::string random_uuid() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) throw CollectError("no random numbers available for the assertion id");
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    char text[37];
    std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return text;
}

}  // namespace

struct CertificateCredential::Key {
    EVP_PKEY* pkey = nullptr;
    ~Key() { EVP_PKEY_free(pkey); }
};

CertificateCredential::CertificateCredential(const std::string& certificateFile, const std::string& keyFile,
                                             const std::string& password)
    : key_(std::make_unique<Key>()) {
    X509Ptr certificate;
    bool pem = false;
    {
        BioPtr bio = open_file(certificateFile, "certificate");
        char head[4096];
        // PEM files hold "-----BEGIN" (perhaps after text): anything with it is read as PEM.
        std::string start;
        for (int n; start.size() < 65536 && (n = BIO_read(bio.get(), head, sizeof head)) > 0;)
            start.append(head, static_cast<std::size_t>(n));
        pem = start.find("-----BEGIN") != std::string::npos;
    }
    if (pem) {
        BioPtr bio = open_file(certificateFile, "certificate");
        certificate.reset(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
        ERR_clear_error();
        if (!certificate) throw CollectError("no PEM certificate found in " + certificateFile);
        const std::string& keyPath = keyFile.empty() ? certificateFile : keyFile;
        {
            BioPtr keyBio = open_file(keyPath, "private key");
            key_->pkey = PEM_read_bio_PrivateKey(keyBio.get(), nullptr, no_passphrase, nullptr);
        }
        ERR_clear_error();
        if (key_->pkey == nullptr)
            throw CollectError("no unencrypted private key found in " + keyPath +
                               (keyFile.empty() ? " (give the key file with --certificate-key)" : "") +
                               "; encrypted PEM keys are not supported: keep the key in a file only the job can read, "
                               "or use a PKCS#12 (.pfx) file with its password");
    } else {
        if (!keyFile.empty()) throw CollectError(certificateFile + " is not PEM: a PKCS#12 file holds its key, drop --certificate-key");
        BioPtr bio = open_file(certificateFile, "certificate");
        PKCS12* p12 = d2i_PKCS12_bio(bio.get(), nullptr);
        if (p12 == nullptr) {
            ERR_clear_error();
            throw CollectError(certificateFile + " is neither a PEM file nor a PKCS#12 (.pfx/.p12) file");
        }
        X509* cert = nullptr;
        STACK_OF(X509)* chain = nullptr;
        int ok = PKCS12_parse(p12, password.c_str(), &key_->pkey, &cert, &chain);
        PKCS12_free(p12);
        if (chain != nullptr) sk_X509_pop_free(chain, X509_free);
        certificate.reset(cert);
        ERR_clear_error();
        if (ok != 1)
            throw CollectError("cannot open the PKCS#12 file " + certificateFile +
                               (password.empty() ? ": it needs a password (--certificate-password-env VAR or "
                                                   "AZURE_CLIENT_CERTIFICATE_PASSWORD)"
                                                 : ": wrong password or damaged file"));
        if (!certificate || key_->pkey == nullptr)
            throw CollectError("the PKCS#12 file " + certificateFile + " does not hold both a certificate and its private key");
    }
    const std::string& keyPath = pem && !keyFile.empty() ? keyFile : certificateFile;
    if (EVP_PKEY_base_id(key_->pkey) != EVP_PKEY_RSA)
        throw CollectError("the private key in " + keyPath + " is not an RSA key (Entra ID client assertions use RS256)");
    if (X509_check_private_key(certificate.get(), key_->pkey) != 1) {
        ERR_clear_error();
        throw CollectError("the private key in " + keyPath + " does not belong to the certificate in " + certificateFile);
    }
    x5t_ = digest(certificate.get(), EVP_sha1());
    x5tS256_ = digest(certificate.get(), EVP_sha256());
}

CertificateCredential::~CertificateCredential() = default;

std::string CertificateCredential::assertion(const std::string& clientId, const std::string& audience,
                                             std::chrono::system_clock::time_point now) const {
    long long issuedAt = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", x5t_}, {"x5t#S256", x5tS256_}};
    nlohmann::json claims = {{"aud", audience},          {"iss", clientId},       {"sub", clientId},
                             {"jti", random_uuid()},     {"nbf", issuedAt},       {"iat", issuedAt},
                             {"exp", issuedAt + 600}};
    std::string signingInput = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());

    std::unique_ptr<EVP_MD_CTX, MdCtxCloser> context(EVP_MD_CTX_new());
    std::size_t length = 0;
    const auto* input = reinterpret_cast<const unsigned char*>(signingInput.data());
    if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_->pkey) != 1 ||
        EVP_DigestSign(context.get(), nullptr, &length, input, signingInput.size()) != 1) {
        ERR_clear_error();
        throw CollectError("cannot sign the client assertion with the certificate's private key");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, input,
                       signingInput.size()) != 1) {
        ERR_clear_error();
        throw CollectError("cannot sign the client assertion with the certificate's private key");
    }
    signature.resize(length);
    return signingInput + "." + base64url_encode(signature);
}

}  // namespace tenantscan::collect::detail
