#!/bin/sh
# Creates, in DIR, the keys and certificates the collect tests need (test time only, never
# committed):
#   ca.pem                   a test CA (what `collect --ca-file` trusts)
#   server.pem / server.key  the fake cloud's certificate from that CA: 127.0.0.1, localhost,
#                            *.fakecloud.test (reached through the test proxy)
#   app.pem / app.key        the app registration's certificate (RSA, self-signed) and its key
#   app-combined.pem         both in one file (--certificate without --certificate-key)
#   other.key                an RSA key that belongs to no certificate
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
  -keyout ca.key -out ca.pem -days 30 -subj "/CN=tenantscan fake cloud CA" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:*.fakecloud.test\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -sha256 \
  -extfile server.ext -out server.pem 2>/dev/null

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -keyout app.key -out app.pem -days 30 \
  -subj "/CN=tenantscan collector" 2>/dev/null
cat app.pem app.key > app-combined.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key 2>/dev/null
