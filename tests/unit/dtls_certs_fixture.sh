#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Test fixture for the DTLS tests (tests/lib/dtls_harness.c makes it for
# each test_dtls_* program): certificates in the certs/gen.sh layout
# (OUTDIR/ca.{crt,key}, server.{crt,key}, client-<id>.{crt,key} for ids 1..N,
# OUTDIR/bad/ rogue CA, rogue client-1, expired client-1; ECDSA P-256), plus
# certificates only the DTLS tests need, in OUTDIR/extra/, signed by the real
# CA: client certs whose CN is not a valid client id, and client-1 certs
# without the key usages a client certificate needs.
#
# usage: dtls_certs_fixture.sh OUTDIR [N]          full set
#        dtls_certs_fixture.sh --extras OUTDIR     only OUTDIR/extra/, using an
#                                                  existing OUTDIR/ca.{crt,key}
set -euo pipefail

extras_only=0
if [ "${1:-}" = "--extras" ]; then
	extras_only=1
	shift
fi
out=${1:?usage: dtls_certs_fixture.sh [--extras] OUTDIR [N]}
n=${2:-10}
mkdir -p "$out/bad" "$out/extra"
cd "$out"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME CN CA_CRT CA_KEY [extfile-section-text]
sign() {
	local name=$1 cn=$2 cacrt=$3 cakey=$4 ext=${5:-}
	key "$name.key"
	openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
	if [ -n "$ext" ]; then
		printf '%s\n' "$ext" > "$name.ext"
		openssl x509 -req -in "$name.csr" -CA "$cacrt" -CAkey "$cakey" \
			-CAcreateserial -days 3650 -sha256 -extfile "$name.ext" \
			-out "$name.crt" 2>/dev/null
		rm -f "$name.ext"
	else
		openssl x509 -req -in "$name.csr" -CA "$cacrt" -CAkey "$cakey" \
			-CAcreateserial -days 3650 -sha256 -out "$name.crt" 2>/dev/null
	fi
	rm -f "$name.csr"
}

selfsigned_ca() { # NAME CN
	key "$1.key"
	openssl req -new -x509 -key "$1.key" -subj "/CN=$2" -days 3650 -sha256 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$1.crt" 2>/dev/null
}

client_ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

if [ $extras_only -eq 0 ]; then
	selfsigned_ca ca "XTel test CA"
	sign server xtel-collector ca.crt ca.key "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:198.18.0.1,IP:127.0.0.1,IP:::1,IP:2001:2::1,DNS:localhost"
	for i in $(seq 1 "$n"); do
		sign "client-$i" "client-$i" ca.crt ca.key "$client_ext"
	done

	selfsigned_ca bad/rogue-ca "XTel rogue CA"
	sign bad/client-1-rogue client-1 bad/rogue-ca.crt bad/rogue-ca.key "$client_ext"

	# Expired: validity entirely in the past, via `openssl ca` which takes
	# explicit start and end dates.
	db=$(mktemp -d)
	: > "$db/index.txt"
	cat > "$db/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
x509_extensions = e
[p]
commonName = supplied
[e]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF
	echo 01 > "$db/serial"
	key bad/client-1-expired.key
	openssl req -new -key bad/client-1-expired.key -subj "/CN=client-1" \
		-out "$db/exp.csr" 2>/dev/null
	openssl ca -batch -config "$db/ca.cnf" -cert ca.crt -keyfile ca.key \
		-startdate 20200101000000Z -enddate 20210101000000Z \
		-in "$db/exp.csr" -out bad/client-1-expired.crt >/dev/null 2>&1
	rm -rf "$db"
fi

# CNs that must not yield a client id: not numeric, zero, too large, junk.
sign extra/client-badcn-alpha client-abc ca.crt ca.key "$client_ext"
sign extra/client-badcn-zero client-0 ca.crt ca.key "$client_ext"
sign extra/client-badcn-big client-4294967296 ca.crt ca.key "$client_ext"
sign extra/client-badcn-junk "client-7x" ca.crt ca.key "$client_ext"
sign extra/client-max client-4294967295 ca.crt ca.key "$client_ext"
# Client certificates for something else than a client's signature: no
# extensions at all, no extended key usage, no key usage, serverAuth only,
# keyAgreement instead of digitalSignature.
sign extra/client-1-noext client-1 ca.crt ca.key
sign extra/client-1-noeku client-1 ca.crt ca.key "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature"
sign extra/client-1-noku client-1 ca.crt ca.key "basicConstraints=CA:FALSE
extendedKeyUsage=clientAuth"
sign extra/client-1-serverauth client-1 ca.crt ca.key "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth"
sign extra/client-1-keyagree client-1 ca.crt ca.key "basicConstraints=CA:FALSE
keyUsage=critical,keyAgreement
extendedKeyUsage=clientAuth"
rm -f ca.srl bad/rogue-ca.srl
