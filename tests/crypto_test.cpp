// The library's SHA-256 and base64 (tenantscan/detail/crypto.hpp, OpenSSL EVP) against the published test
// vectors: FIPS 180-2 appendix B (SHA-256) and RFC 4648 §10 (base64).
#include <doctest/doctest.h>

#include <tenantscan/detail/crypto.hpp>

using namespace tenantscan::detail;

TEST_CASE("crypto: SHA-256 gives the FIPS 180-2 digests") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256("abc").size() == 32);
}

TEST_CASE("crypto: base64 encodes and decodes the RFC 4648 vectors") {
    const char* vectors[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},       {"foo", "Zm9v"},
                                {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& v : vectors) {
        CAPTURE(v[0]);
        CHECK(base64_encode(v[0]) == v[1]);
        CHECK(base64_decode(v[1]) == std::string(v[0]));
    }
    CHECK(base64_encode(std::string("\0\xff", 2)) == "AP8=");
    CHECK(base64_decode("AP8=") == std::string("\0\xff", 2));
}

TEST_CASE("crypto: base64 decoding skips spaces, accepts missing padding and refuses other characters") {
    CHECK(base64_decode("Zm9v YmFy") == std::string("foobar"));
    CHECK(base64_decode("Zm9vYg") == std::string("foob"));
    CHECK(base64_decode("Zm9vYmE") == std::string("fooba"));
    CHECK_FALSE(base64_decode("Zm9*"));
    CHECK_FALSE(base64_decode("Zm9vY"));  // five characters: no encoding gives that
    CHECK_FALSE(base64_decode("Zm9v-_"));  // the URL alphabet is not standard base64
}
