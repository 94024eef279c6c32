#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Unit test of certs/gen.sh: generates N=3 into a temporary directory and
# checks the exact file layout, that the server and client certificates
# chain to the CA with the right purposes, the exact CNs and server SANs,
# P-256 keys with mode 0600, that the rogue client fails against ca.crt and
# the expired one fails with an expiry error, that a re-run changes no file
# and a larger N only adds clients, that `revoke` and `crl` emit a CRL
# listing exactly the revoked clients, that `chain` makes devices behind an
# intermediate CA whose `chain-revoke` CRLs revoke a device or the
# intermediate, and the usage errors. Prints a cmocka-
# style closing line and exits non-zero on any failure.
#
# usage: tests/unit/test_certs.sh [SOURCE_ROOT]
set -uo pipefail

root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
gen="$root/certs/gen.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtel-test-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out="$tmp/out"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "[       OK ] $*"; }
bad() { failed=$((failed + 1)); echo "[  FAILED  ] $*"; }
check() { # description command...
	local d=$1
	shift
	if "$@" >"$tmp/log" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/    /' "$tmp/log"; fi
}
check_not() { # description command... (must fail)
	local d=$1
	shift
	if "$@" >"$tmp/log" 2>&1; then bad "$d (unexpectedly succeeded)"; else ok "$d"; fi
}
equal() { # description got want
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}

command -v openssl >/dev/null || { echo "openssl not installed"; exit 77; }

# ---- generate ----
check "gen.sh OUTDIR 3 succeeds" "$gen" "$out" 3

want_files="bad/client-1-expired.crt
bad/client-1-expired.key
bad/client-1-rogue.crt
bad/client-1-rogue.key
bad/rogue-ca.crt
bad/rogue-ca.key
ca.crt
ca.key
client-1.crt
client-1.key
client-2.crt
client-2.key
client-3.crt
client-3.key
server.crt
server.key"
equal "exact file layout" "$(cd "$out" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)" "$want_files"

# ---- chains and purposes ----
check "server chains to CA (sslserver)" openssl verify -CAfile "$out/ca.crt" -purpose sslserver "$out/server.crt"
for i in 1 2 3; do
	check "client-$i chains to CA (sslclient)" openssl verify -CAfile "$out/ca.crt" -purpose sslclient "$out/client-$i.crt"
	check_not "client-$i is not a server cert" openssl verify -CAfile "$out/ca.crt" -purpose sslserver "$out/client-$i.crt"
done
check_not "server is not a client cert" openssl verify -CAfile "$out/ca.crt" -purpose sslclient "$out/server.crt"

# ---- names and extensions ----
subject() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }
equal "server CN" "$(subject "$out/server.crt")" "CN=xtel-collector"
for i in 1 2 3; do
	equal "client-$i CN" "$(subject "$out/client-$i.crt")" "CN=client-$i"
done
equal "rogue client CN" "$(subject "$out/bad/client-1-rogue.crt")" "CN=client-1"
equal "expired client CN" "$(subject "$out/bad/client-1-expired.crt")" "CN=client-1"
ext() { openssl x509 -in "$1" -noout -ext "$2" | sed -n '2p' | sed 's/^ *//'; }
equal "server SANs" "$(ext "$out/server.crt" subjectAltName)" \
	"IP Address:198.18.0.1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:2:0:0:0:0:0:1, DNS:localhost"
equal "server EKU" "$(ext "$out/server.crt" extendedKeyUsage)" "TLS Web Server Authentication"
equal "client EKU" "$(ext "$out/client-2.crt" extendedKeyUsage)" "TLS Web Client Authentication"
equal "CA basicConstraints" "$(ext "$out/ca.crt" basicConstraints)" "CA:TRUE, pathlen:0"
equal "CA keyUsage" "$(ext "$out/ca.crt" keyUsage)" "Certificate Sign, CRL Sign"
equal "leaf basicConstraints" "$(ext "$out/client-1.crt" basicConstraints)" "CA:FALSE"
equal "leaf keyUsage" "$(ext "$out/server.crt" keyUsage)" "Digital Signature"

# ---- keys ----
for k in ca server client-1 client-2 client-3 bad/rogue-ca bad/client-1-rogue bad/client-1-expired; do
	equal "$k.key is P-256" "$(openssl pkey -in "$out/$k.key" -noout -text | sed -n 's/^ASN1 OID: //p')" "prime256v1"
	equal "$k.key mode" "$(stat -c %a "$out/$k.key")" "600"
	equal "$k.key matches $k.crt" "$(openssl pkey -in "$out/$k.key" -pubout)" \
		"$(openssl x509 -in "$out/$k.crt" -noout -pubkey)"
done
equal "certificate signature is ecdsa-with-SHA256" \
	"$(openssl x509 -in "$out/client-1.crt" -noout -text | sed -n 's/^ *Signature Algorithm: //p' | head -n 1)" \
	"ecdsa-with-SHA256"

# ---- bad/ ----
check_not "rogue client fails against ca.crt" openssl verify -CAfile "$out/ca.crt" "$out/bad/client-1-rogue.crt"
check "rogue client chains to the rogue CA" openssl verify -CAfile "$out/bad/rogue-ca.crt" -purpose sslclient "$out/bad/client-1-rogue.crt"
openssl verify -CAfile "$out/ca.crt" "$out/bad/client-1-expired.crt" >"$tmp/exp.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q 'error 10 at 0 depth lookup: certificate has expired' "$tmp/exp.log"; then
	ok "expired client fails with an expiry error"
else
	bad "expired client: rc=$rc, $(tr '\n' ' ' <"$tmp/exp.log")"
fi
check "expired client is otherwise valid (real CA)" \
	openssl verify -CAfile "$out/ca.crt" -no_check_time -purpose sslclient "$out/bad/client-1-expired.crt"

# ---- idempotence ----
sums() { (cd "$out" && find . -type f | LC_ALL=C sort | xargs sha256sum); }
before=$(sums)
check "re-run succeeds" "$gen" "$out" 3
equal "re-run changes no file" "$(sums)" "$before"
check "re-run with N=5 succeeds" "$gen" "$out" 5
equal "N=5 only adds client-4 and client-5" \
	"$(diff <(echo "$before") <(sums) | sed -n 's/^> [0-9a-f]*  //p' | tr '\n' ' ')" \
	"./client-4.crt ./client-4.key ./client-5.crt ./client-5.key "
check "client-5 chains to the same CA" openssl verify -CAfile "$out/ca.crt" -purpose sslclient "$out/client-5.crt"
rm -f "$out/client-2.crt"
before2=$(sums)
check "re-run after deleting client-2.crt" "$gen" "$out" 5
equal "only client-2 is regenerated" \
	"$(diff <(echo "$before2") <(sums) | sed -n 's/^[<>] [0-9a-f]*  //p' | LC_ALL=C sort -u | tr '\n' ' ')" \
	"./client-2.crt ./client-2.key "
check "regenerated client-2 chains to CA" openssl verify -CAfile "$out/ca.crt" -purpose sslclient "$out/client-2.crt"
cp "$out/client-4.crt" "$out/client-3.crt"
cp "$out/client-4.key" "$out/client-3.key"
before2=$(sums)
check "re-run after copying client-4 over client-3" "$gen" "$out" 5
equal "a pair of another CN is regenerated" \
	"$(diff <(echo "$before2") <(sums) | sed -n 's/^[<>] [0-9a-f]*  //p' | LC_ALL=C sort -u | tr '\n' ' ')" \
	"./client-3.crt ./client-3.key "
equal "... as client-3" "$(openssl x509 -in "$out/client-3.crt" -noout -subject)" "subject=CN = client-3"
if [ -n "${XTEL_CERTGEN:-}" ]; then
	# xtel-certgen also checks that the key is the certificate's.
	cp "$out/client-5.key" "$out/client-1.key"
	before2=$(sums)
	check "re-run after a wrong client-1.key" "$gen" "$out" 5
	equal "xtel-certgen: a pair whose key is another's is regenerated" \
		"$(diff <(echo "$before2") <(sums) | sed -n 's/^[<>] [0-9a-f]*  //p' | LC_ALL=C sort -u | tr '\n' ' ')" \
		"./client-1.crt ./client-1.key "
	equal "... and its key matches" "$(openssl x509 -in "$out/client-1.crt" -noout -pubkey)" \
		"$(openssl pkey -in "$out/client-1.key" -pubout)"
	equal "xtel-certgen: certificate mode" "$(stat -c %a "$out/client-1.crt")" "644"
	equal "xtel-certgen: key mode" "$(stat -c %a "$out/client-1.key")" "600"
	check "xtel-certgen: P-256 key" sh -c "openssl pkey -in '$out/client-1.key' -noout -text | grep -q 'NIST CURVE: P-256'"
	# A relative XTEL_CERTGEN is taken from where gen.sh was called.
	rm -f "$out/client-5.crt"
	(cd "$(dirname "$XTEL_CERTGEN")" && XTEL_CERTGEN=$(basename "$XTEL_CERTGEN") "$gen" "$out" 5) \
		>"$tmp/log" 2>&1
	equal "xtel-certgen by a relative path" "$?:$(tail -n 1 "$tmp/log")" \
		"0:certs/gen.sh: $out: CA, server, clients 1..5 (1 new), bad/ ready"
	"$XTEL_CERTGEN" --clients 0 >/dev/null 2>&1
	equal "xtel-certgen: a bad value is a usage error" "$?" "2"
	"$XTEL_CERTGEN" --ca-cert "$out/ca.crt" --ca-key "$out/bad/rogue-ca.key" --dir "$out" \
		--stage "$tmp" --clients 1 >/dev/null 2>&1
	equal "xtel-certgen: a CA key not the CA's fails" "$?" "1"
fi

# ---- revocation: revoke and crl ----
crl_serials() { openssl crl -in "$out/crl.pem" -noout -text | sed -n 's/^ *Serial Number: //p' | LC_ALL=C sort | tr '\n' ' '; }
crl_number() { openssl crl -in "$out/crl.pem" -noout -crlnumber | sed 's/^crlNumber=//'; }
serial_of() { openssl x509 -in "$out/$1" -noout -serial | sed 's/^serial=//'; }
crl_verify() { # crt: openssl verify with the CRL, prints its verdict
	openssl verify -crl_check -CRLfile "$out/crl.pem" -CAfile "$out/ca.crt" "$out/$1" 2>&1 | tail -n 1
}
check "crl OUTDIR succeeds" "$gen" crl "$out"
check "crl.pem is signed by the CA" openssl crl -in "$out/crl.pem" -CAfile "$out/ca.crt" -noout
equal "a new CRL revokes nothing" "$(crl_serials)" ""
equal "its CRL number" "$(crl_number)" "0x01"
equal "crl.pem mode" "$(stat -c %a "$out/crl.pem")" "644"
equal "client-2 verifies with the empty CRL" "$(crl_verify client-2.crt)" "$out/client-2.crt: OK"
"$gen" revoke "$out" 2 >"$tmp/log" 2>&1
equal "revoke OUTDIR 2" "$?:$(cat "$tmp/log")" "0:certs/gen.sh: $out/crl.pem: 1 revoked"
equal "the CRL lists exactly client-2" "$(crl_serials)" "$(serial_of client-2.crt) "
equal "client-2 is revoked" "$(crl_verify client-2.crt)" "error $out/client-2.crt: verification failed"
openssl verify -crl_check -CRLfile "$out/crl.pem" -CAfile "$out/ca.crt" "$out/client-2.crt" \
	>"$tmp/rev.log" 2>&1
if grep -q 'error 23 at 0 depth lookup: certificate revoked' "$tmp/rev.log"; then
	ok "client-2 fails as revoked (error 23)"
else
	bad "client-2 fails as revoked (error 23)"
fi
equal "client-1 still verifies" "$(crl_verify client-1.crt)" "$out/client-1.crt: OK"
check "revoking client-2 again succeeds" "$gen" revoke "$out" 2
equal "... and changes nothing in the list" "$(crl_serials)" "$(serial_of client-2.crt) "
check "revoke OUTDIR 3 1" "$gen" revoke "$out" 3 1
equal "the CRL lists clients 1, 2, 3" "$(crl_serials)" \
	"$(printf '%s\n' "$(serial_of client-1.crt)" "$(serial_of client-2.crt)" "$(serial_of client-3.crt)" | LC_ALL=C sort | tr '\n' ' ')"
equal "each CRL has the next number" "$(crl_number)" "0x04"
check "crl OUTDIR re-issues it" "$gen" crl "$out"
equal "... with the same list" "$(crl_serials)" \
	"$(printf '%s\n' "$(serial_of client-1.crt)" "$(serial_of client-2.crt)" "$(serial_of client-3.crt)" | LC_ALL=C sort | tr '\n' ' ')"
equal "... and number 5" "$(crl_number)" "0x05"
next=$(openssl crl -in "$out/crl.pem" -noout -nextupdate | sed 's/^nextUpdate=//')
last=$(openssl crl -in "$out/crl.pem" -noout -lastupdate | sed 's/^lastUpdate=//')
equal "the CRL is valid for 30 days" "$(( ($(date -d "$next" +%s) - $(date -d "$last" +%s)) / 86400 ))" "30"
before=$(sums)
check "a re-run keeps the revocations" "$gen" "$out" 5
equal "... changing no file" "$(sums)" "$before"
revoke_err() { # name status pattern args...
	local name=$1 want=$2 pattern=$3
	shift 3
	"$gen" "$@" >/dev/null 2>"$tmp/err"
	local rc=$?
	if [ $rc -eq "$want" ] && grep -q -- "$pattern" "$tmp/err"; then
		ok "$name: exit $rc"
	else
		bad "$name: rc=$rc $(cat "$tmp/err")"
	fi
}
revoke_err "revoke without an ID" 2 "at least one client ID" revoke "$out"
revoke_err "revoke ID 0" 2 "client ID must be a whole number" revoke "$out" 0
revoke_err "revoke ID abc" 2 "client ID must be a whole number" revoke "$out" abc
revoke_err "revoke an ID without a certificate" 1 "client-99.crt not found" revoke "$out" 99
revoke_err "crl with an extra argument" 2 "crl takes only OUTDIR" crl "$out" 3
revoke_err "crl of a missing OUTDIR" 1 "does not exist" crl "$tmp/none"
mkdir -p "$tmp/noca"
revoke_err "crl without a CA" 1 "no valid ca.crt" crl "$tmp/noca"
equal "the failed revoke left the CRL as it was" "$(crl_number)" "0x05"
rm -f "$out/ca.crt"
check "a run that makes a new CA" "$gen" "$out" 5
equal "... drops the old CA's revocations" "$(ls "$out" | grep -c '^crl')" "0"

# ---- chain, chain-revoke: devices behind an intermediate CA ----
ch=$out/chain
chain_verify() { # crt: with every CA's CRL (crl_check_all), prints its verdict
	openssl verify -crl_check_all -CRLfile "$ch/crl.pem" -CAfile "$ch/root.crt" \
		-untrusted "$ch/int.crt" "$ch/$1" 2>&1 | grep -E '^error [0-9]+ at|OK$' | head -n 1
}
pem_count() { grep -c -- "-----BEGIN $1-----" "$2"; }
check "chain OUTDIR 2 succeeds" "$gen" chain "$out" 2
equal "chain/: its files" "$(cd "$ch" && ls | tr '\n' ' ')" \
	"ca.crt client-1.crt client-1.key client-2.crt client-2.key crl-db-int crl-db-root crl.pem int.crt int.key root.crt root.key "
equal "the root may have one intermediate" "$(ext "$ch/root.crt" basicConstraints)" "CA:TRUE, pathlen:1"
equal "the intermediate none" "$(ext "$ch/int.crt" basicConstraints)" "CA:TRUE, pathlen:0"
equal "the intermediate is the root's" "$(openssl x509 -in "$ch/int.crt" -noout -issuer)" "issuer=CN = XTel Test Root CA"
equal "a device's file: its leaf, then the intermediate" "$(pem_count CERTIFICATE "$ch/client-1.crt")" "2"
equal "chain/ca.crt is the collector's CA" "$(cmp "$ch/ca.crt" "$out/ca.crt" && echo same)" "same"
equal "crl.pem: the two CRLs and the intermediate" \
	"$(pem_count 'X509 CRL' "$ch/crl.pem") $(pem_count CERTIFICATE "$ch/crl.pem")" "2 1"
equal "client-1 verifies through the intermediate, with both CRLs" \
	"$(chain_verify client-1.crt)" "$ch/client-1.crt: OK"
equal "not against the root alone" "$(openssl verify -CAfile "$ch/root.crt" \
	"$ch/client-1.crt" >/dev/null 2>&1; echo $?)" "2"
check "device keys are 0600" test "$(stat -c %a "$ch/client-1.key")" = 600
before=$(cd "$ch" && cat ./* 2>/dev/null | sha256sum)
check "chain OUTDIR 2 again" "$gen" chain "$out" 2
equal "... changing no file" "$(cd "$ch" && cat ./* 2>/dev/null | sha256sum)" "$before"
"$gen" chain-revoke "$out" 2 >"$tmp/log" 2>&1
equal "chain-revoke OUTDIR 2" "$?:$(cat "$tmp/log")" "0:certs/gen.sh: $ch/crl.pem: 1 revoked"
equal "client-2 is revoked by the intermediate's CRL (depth 0)" \
	"$(chain_verify client-2.crt)" "error 23 at 0 depth lookup: certificate revoked"
equal "client-1 still verifies" "$(chain_verify client-1.crt)" "$ch/client-1.crt: OK"
check "chain-revoke OUTDIR int" "$gen" chain-revoke "$out" int
equal "then client-1 fails: its intermediate revoked (depth 1)" \
	"$(chain_verify client-1.crt)" "error 23 at 1 depth lookup: certificate revoked"
revoke_err "chain-revoke without an ID" 2 "at least one client ID or 'int'" chain-revoke "$out"
revoke_err "chain-revoke ID x" 2 "chain-revoke takes client IDs" chain-revoke "$out" x
revoke_err "chain-revoke an ID without a certificate" 1 "chain/client-9.crt not found" chain-revoke "$out" 9
mkdir -p "$tmp/onlyca" && cp "$out/ca.crt" "$out/ca.key" "$tmp/onlyca/"
revoke_err "chain-revoke before chain" 1 "run certs/gen.sh chain" chain-revoke "$tmp/onlyca" 1

# ---- usage and errors ----
check "--help exits 0" "$gen" --help
if "$gen" --help | grep '^usage: certs/gen.sh' >/dev/null; then ok "--help prints usage"; else bad "--help prints usage"; fi
"$gen" --help >"$tmp/help"
for line in "       certs/gen.sh revoke OUTDIR ID..." "       certs/gen.sh crl OUTDIR" \
	"       certs/gen.sh chain OUTDIR [N]" "       certs/gen.sh chain-revoke OUTDIR ID|int..."; do
	if grep -qxF -- "$line" "$tmp/help"; then ok "--help: '$line'"; else bad "--help lacks '$line'"; fi
done
for n in 0 -1 abc 1.5 007 100001; do
	"$gen" "$tmp/n" "$n" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q "N must be a whole number" "$tmp/err"; then
		ok "N=$n rejected"
	else
		bad "N=$n: rc=$rc $(cat "$tmp/err")"
	fi
done
"$gen" >/dev/null 2>&1
equal "no OUTDIR is a usage error" "$?" "2"
OPENSSL="$tmp/no-such-openssl" "$gen" "$tmp/x" 1 >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "not found" "$tmp/err"; then ok "missing openssl reported"; else bad "missing openssl: rc=$rc $(cat "$tmp/err")"; fi
"$gen" /proc/xtel-cannot-create 1 >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "writable OUTDIR" "$tmp/err"; then ok "unwritable OUTDIR reported"; else bad "unwritable OUTDIR: rc=$rc $(cat "$tmp/err")"; fi
equal "no staging directory left behind" "$(find "$out" -name '.gen-*' | wc -l)" "0"

echo "[==========] certs: $((passed + failed)) check(s) run."
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
