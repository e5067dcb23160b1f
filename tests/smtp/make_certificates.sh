#!/bin/sh
# Creates, in DIR, the certificates the smtp-test suite needs (test-time only, never committed):
#   ca.pem               a test CA (what --ca-file trusts)
#   server.pem/.key      signed by the CA for 127.0.0.1 and localhost, valid now
#   wronghost.pem/.key   signed by the CA for mail.other.example only
#   office365.pem/.key   signed by the CA for smtp.office365.com (reached with --connect-to)
#   expired.pem/.key     signed by the CA for 127.0.0.1, expired in 2020
#   soon.pem/.key        signed by the CA for 127.0.0.1, valid now, expires 4.5 days from now
#                        (made at test time, so --cert-expiry-days tests never go stale)
# The certificates valid now end half a day before a whole number of days (29.5 and 4.5), so
# whole days left (rounded down) is 29 and 4 for the next twelve hours: a test that runs the
# CLI twice sees the same count both times, not 30 then 29 across the second it was made in.
#   untrusted.pem/.key   for 127.0.0.1, signed by another CA that nobody trusts
# `openssl ca` is used because it is the only openssl 3.0 command that sets explicit
# notBefore/notAfter dates (-startdate/-enddate), which the expired certificate needs.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"

cat > ca.cnf <<'CNF'
[ca]
default_ca = testca
[testca]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
[any_name]
commonName = supplied
[for_loopback]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[for_other_host]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:mail.other.example
[for_office365]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:smtp.office365.com
CNF

make_ca() {  # name, subject
  : > "$1.index"
  echo 1000 > "$1.serial"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -keyout "$1.key" -out "$1.pem" -days 3650 -subj "$2" 2>/dev/null
}

issue() {  # ca, name, common name, extensions section, validity options...
  ca=$1 name=$2 cn=$3 section=$4
  shift 4
  # RSA for the "rsa" certificate: Microsoft's TLS 1.2 cipher suites are all ECDHE_RSA or RSA.
  case "$name" in
    rsa) key="-newkey rsa:2048" ;;
    *) key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1" ;;
  esac
  openssl req -new $key -nodes \
    -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  cp "$ca.index" index.txt
  cp "$ca.serial" serial
  openssl ca -batch -notext -config ca.cnf -cert "$ca.pem" -keyfile "$ca.key" \
    -extensions "$section" -in "$name.csr" -out "$name.pem" "$@" 2>/dev/null
  cp index.txt "$ca.index"
  cp serial "$ca.serial"
}

until_days() {  # N days from now less twelve hours, as openssl's -enddate wants it
  date -u -d "+$1 days -12 hours" +%Y%m%d%H%M%SZ
}

make_ca ca "/CN=tenantscan smtp-test CA"
make_ca otherca "/CN=Nobody trusts this CA"
issue ca server 127.0.0.1 for_loopback -enddate "$(until_days 30)"
issue ca rsa 127.0.0.1 for_loopback -enddate "$(until_days 30)"
issue ca wronghost mail.other.example for_other_host -enddate "$(until_days 30)"
issue ca office365 smtp.office365.com for_office365 -enddate "$(until_days 30)"
issue ca soon 127.0.0.1 for_loopback -enddate "$(until_days 5)"
issue ca expired 127.0.0.1 for_loopback -startdate 20200101000000Z -enddate 20200201000000Z
issue otherca untrusted 127.0.0.1 for_loopback -enddate "$(until_days 30)"
