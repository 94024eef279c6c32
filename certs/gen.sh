#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Generates the X.509 material for XTel's DTLS transport (docs/PROTOCOL.md,
# section 8): a test CA, the collector's server certificate, one client
# certificate per client id, and deliberately bad certificates for negative
# tests. Everything is ECDSA P-256 (prime256v1) with SHA-256 signatures.
# Outputs are test material for a build or test directory, never committed.
#
# usage: certs/gen.sh [--help] OUTDIR [N]
#        certs/gen.sh revoke OUTDIR ID...
#        certs/gen.sh crl OUTDIR
#        certs/gen.sh chain OUTDIR [N]
#        certs/gen.sh chain-revoke OUTDIR ID|int...
#
#   OUTDIR/ca.crt ca.key                 test CA (CN "XTel Test CA")
#   OUTDIR/server.crt server.key         CN xtel-collector, serverAuth, SAN
#                                        IP 198.18.0.1 127.0.0.1 ::1 2001:2::1,
#                                        DNS localhost
#   OUTDIR/client-<id>.crt .key          CN client-<id>, clientAuth, id 1..N
#                                        (N defaults to 10)
#   OUTDIR/bad/rogue-ca.crt rogue-ca.key another CA, trusted by nobody
#   OUTDIR/bad/client-1-rogue.crt .key   CN client-1 signed by the rogue CA
#   OUTDIR/bad/client-1-expired.crt .key CN client-1, real CA, validity 2020
#
# revoke OUTDIR ID...: revoke client-<ID>.crt of OUTDIR for each ID (it must
# exist and chain to ca.crt; revoking one again changes nothing) in the
# revocation database OUTDIR/crl-db/, then write OUTDIR/crl.pem, the CA's
# CRL listing every revoked certificate, valid for 30 days (the collector's
# --crl; reload it with SIGHUP).
# crl OUTDIR: write OUTDIR/crl.pem again from that database, with a new CRL
# number and 30 more days (no revocation yet: an empty CRL).
# A run that has to make a new CA removes crl-db/ and crl.pem: they belong
# to the old CA.
#
# chain OUTDIR [N]: devices behind an intermediate CA, in OUTDIR/chain/
# (OUTDIR must hold the CA and server made by gen.sh OUTDIR):
#   chain/root.crt root.key   CN "XTel Test Root CA" (pathlen 1): the
#                             collector's --ca for these devices
#   chain/int.crt int.key     CN "XTel Test Intermediate CA", issued by
#                             the root; in no CA file: the devices send it
#   chain/client-<id>.crt .key CN client-<id> issued by the intermediate,
#                             id 1..N (default 4); the .crt holds the leaf,
#                             then int.crt (the chain a device sends)
#   chain/ca.crt              a copy of OUTDIR/ca.crt, so loadgen --certs
#                             OUTDIR/chain checks the collector's server.crt
#   chain/crl.pem             the --crl file: the root's CRL, the
#                             intermediate's CRL, and int.crt (the collector
#                             checks the intermediate's CRL with it), each
#                             CRL valid 30 days; made empty the first time
# chain-revoke OUTDIR ID|int...: revoke chain/client-<ID>.crt in the
# intermediate's CRL, or (int) the intermediate itself in the root's CRL,
# and write chain/crl.pem again (both CRLs with new numbers).
#
# Idempotent: files that exist and still verify are kept, so running it
# again changes nothing and a larger N only adds the missing clients. A
# missing or broken CA is regenerated, and then everything signed by it is
# too. Client certificates are created in parallel (one openssl process per
# client, two per CPU at once): 10,000 take about 30 s on 2 idle
# cores; with XTEL_CERTGEN one process does the clients (see below).
# Keys are mode 0600, certificates 0644.
#
# Environment: OPENSSL (default "openssl") selects the openssl binary;
# XTEL_CERTGEN, when set, the build's xtel-certgen
# (build/userspace/certgen/xtel-certgen), which checks and makes the
# client pairs in one process with the same profile and rules.
# Exit status: 0 done, 1 failure, 2 usage error.
set -euo pipefail

prog=certs/gen.sh
max_n=100000
ca_days=3650
leaf_days=825

usage() {
	sed -n '/^# usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//'
}

die() { # status message...
	local status=$1
	shift
	echo "$prog: $*" >&2
	exit "$status"
}

outdir=
n=10
args=()
cmd=make
case "${1:-}" in
revoke | crl | chain | chain-revoke) cmd=$1; shift ;;
esac
for a in "$@"; do
	case "$a" in
	-h | --help) usage; exit 0 ;;
	--) ;;
	-[0-9]*) args+=("$a") ;;	# a negative N: reported as a bad N below
	-*) die 2 "unknown option '$a' (try --help)" ;;
	*) args+=("$a") ;;
	esac
done
[ ${#args[@]} -ge 1 ] || { usage >&2; exit 2; }
outdir=${args[0]}
[ -n "$outdir" ] || die 2 "OUTDIR must not be empty"
revoke_ids=()
case $cmd in
revoke)
	[ ${#args[@]} -ge 2 ] || die 2 "revoke needs OUTDIR and at least one client ID (try --help)"
	for id in "${args[@]:1}"; do
		[[ $id =~ ^[1-9][0-9]{0,9}$ ]] && [ "$id" -le 4294967295 ] ||
			die 2 "client ID must be a whole number from 1 to 4294967295, got '$id'"
		revoke_ids+=("$id")
	done
	;;
crl) [ ${#args[@]} -eq 1 ] || die 2 "crl takes only OUTDIR (try --help)" ;;
chain-revoke)
	[ ${#args[@]} -ge 2 ] || die 2 "chain-revoke needs OUTDIR and at least one client ID or 'int' (try --help)"
	for id in "${args[@]:1}"; do
		[ "$id" = int ] || { [[ $id =~ ^[1-9][0-9]{0,9}$ ]] && [ "$id" -le 4294967295 ]; } ||
			die 2 "chain-revoke takes client IDs (1 to 4294967295) or 'int', got '$id'"
		revoke_ids+=("$id")
	done
	;;
*) [ ${#args[@]} -le 2 ] || die 2 "too many arguments (try --help)" ;;
esac
[ "$cmd" = chain ] && n=4
if { [ "$cmd" = make ] || [ "$cmd" = chain ]; } && [ ${#args[@]} -eq 2 ]; then
	n=${args[1]}
	if ! [[ $n =~ ^[1-9][0-9]{0,5}$ ]] || [ "$n" -gt "$max_n" ]; then
		die 2 "N must be a whole number from 1 to $max_n, got '$n'"
	fi
fi

openssl=${OPENSSL:-openssl}
command -v "$openssl" >/dev/null 2>&1 ||
	die 1 "'$openssl' not found: install the openssl package (apt-get install openssl) or set OPENSSL"
"$openssl" version 2>/dev/null | grep -q '^OpenSSL 3\.' ||
	die 1 "'$openssl' is not OpenSSL 3.x (req -CA needs 3.0 or later)"

# XTEL_CERTGEN relative to where gen.sh was called: it runs in OUTDIR.
certgen=${XTEL_CERTGEN:-}
case $certgen in
"" | /*) ;;
*) certgen=$PWD/$certgen ;;
esac

# Keys must never be readable by others, not even for a moment.
umask 077
if [ "$cmd" != make ]; then
	[ -d "$outdir" ] || die 1 "OUTDIR '$outdir' does not exist: make it first with $prog OUTDIR"
fi
mkdir -p "$outdir/bad" 2>/dev/null ||
	die 1 "cannot create '$outdir/bad': choose a writable OUTDIR"
probe="$outdir/.gen-probe.$$"
{ : >"$probe" && rm -f "$probe"; } 2>/dev/null ||
	die 1 "OUTDIR '$outdir' is not writable: choose another directory"
outdir=$(cd "$outdir" && pwd)
cd "$outdir"

# Temporary files (config, CSRs, the openssl ca database) and freshly made
# certificates live in a staging directory until they are complete, so an
# interrupted run never leaves a half-written file under a final name.
stage=$(mktemp -d "$outdir/.gen-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

cat >"$stage/openssl.cnf" <<'EOF'
# Written by certs/gen.sh; only the sections it names are used.
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_root]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_int]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:198.18.0.1, IP:127.0.0.1, IP:::1, IP:2001:2::1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca]
default_ca = expired_ca
[expired_ca]
database = $ENV::XTEL_CA_DIR/index.txt
new_certs_dir = $ENV::XTEL_CA_DIR
rand_serial = yes
default_md = sha256
policy = any_policy
copy_extensions = none
unique_subject = no
[any_policy]
commonName = supplied
[xtel_crl]
database = $ENV::XTEL_CRL_DIR/index.txt
crlnumber = $ENV::XTEL_CRL_DIR/crlnumber
default_md = sha256
default_crl_days = 30
EOF
cnf="$stage/openssl.cnf"
# The [expired_ca] section names its database through the environment, and
# openssl expands it whenever it loads the file, so it must always be set.
export XTEL_CA_DIR="$stage/ca-db"
# The revocation database of `revoke` and `crl` lives with the CA.
export XTEL_CRL_DIR="$outdir/crl-db"
newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc)

ossl() { # openssl with its chatter kept for the error message
	if ! "$openssl" "$@" 2>"$stage/err"; then
		cat "$stage/err" >&2
		die 1 "openssl $1 failed"
	fi
}

# A certificate and key pair is kept when both exist, the certificate
# chains to CA (with -purpose when given), and the key is the certificate's.
pair_ok() { # crt key cafile [purpose]
	local crt=$1 key=$2 ca=$3 purpose=${4:-}
	[ -s "$crt" ] && [ -s "$key" ] || return 1
	"$openssl" verify -CAfile "$ca" ${purpose:+-purpose "$purpose"} \
		"$crt" >/dev/null 2>&1 || return 1
	[ "$("$openssl" x509 -in "$crt" -noout -pubkey 2>/dev/null)" = \
	  "$("$openssl" pkey -in "$key" -pubout 2>/dev/null)" ]
}

ca_ok() { # crt key
	pair_ok "$1" "$2" "$1" &&
		"$openssl" x509 -in "$1" -noout -ext basicConstraints 2>/dev/null |
		grep -q 'CA:TRUE'
}

install_files() { # files... (from the staging dir into OUTDIR/their place)
	local f
	for f in "$@"; do
		case "$f" in *.crt) chmod 0644 "$stage/$f" ;; esac
		mv -f "$stage/$f" "$outdir/$f"
	done
}

make_ca() { # name cn [ext] (name.crt/.key, relative to OUTDIR)
	local name=$1 cn=$2 ext=${3:-v3_ca}
	mkdir -p "$stage/$(dirname "$name")"
	ossl req -x509 -new -config "$cnf" -extensions "$ext" "${newkey[@]}" \
		-keyout "$stage/$name.key" -out "$stage/$name.crt" \
		-subj "/CN=$cn" -days "$ca_days"
	install_files "$name.key" "$name.crt"
}

make_leaf() { # name cn ext ca-name [days]
	local name=$1 cn=$2 ext=$3 ca=$4 days=${5:-$leaf_days}
	mkdir -p "$stage/$(dirname "$name")"
	ossl req -x509 -new -config "$cnf" -extensions "$ext" "${newkey[@]}" \
		-keyout "$stage/$name.key" -out "$stage/$name.crt" \
		-subj "/CN=$cn" -CA "$ca.crt" -CAkey "$ca.key" -days "$days"
	install_files "$name.key" "$name.crt"
}

# A certificate whose whole validity lies in the past. OpenSSL 3.0's req
# and x509 cannot backdate (-not_before arrived in 3.4), but `openssl ca`
# takes explicit -startdate/-enddate.
make_expired() { # name cn
	local name=$1 cn=$2 cadir=$XTEL_CA_DIR
	mkdir -p "$cadir" "$stage/$(dirname "$name")"
	: >"$cadir/index.txt"
	ossl req -new -config "$cnf" "${newkey[@]}" -keyout "$stage/$name.key" \
		-out "$cadir/req.csr" -subj "/CN=$cn"
	ossl ca -batch -config "$cnf" -name expired_ca \
		-cert ca.crt -keyfile ca.key -extensions v3_client -notext \
		-startdate 20200101000000Z -enddate 20200201000000Z \
		-in "$cadir/req.csr" -out "$stage/$name.crt"
	install_files "$name.key" "$name.crt"
}

is_expired_cert() { # crt: verifies against ca.crt except for the time
	"$openssl" verify -CAfile ca.crt -no_check_time -purpose sslclient \
		"$1" >/dev/null 2>&1 &&
		! "$openssl" x509 -in "$1" -noout -checkend 0 >/dev/null 2>&1
}

# ---- revoke, crl ----
# The CRL goes through the staging directory like every other output.
write_crl() {
	ossl ca -batch -config "$cnf" -name xtel_crl -cert ca.crt -keyfile ca.key \
		-gencrl -out "$stage/crl.pem"
	chmod 0644 "$stage/crl.pem"
	mv -f "$stage/crl.pem" "$outdir/crl.pem"
}

crl_db() { # dir: the revocation database of one CA (XTEL_CRL_DIR)
	export XTEL_CRL_DIR=$1
	mkdir -p "$XTEL_CRL_DIR"
	[ -e "$XTEL_CRL_DIR/index.txt" ] || : >"$XTEL_CRL_DIR/index.txt"
	[ -s "$XTEL_CRL_DIR/crlnumber" ] || echo 01 >"$XTEL_CRL_DIR/crlnumber"
}

revoked_in_db() { # serial: already revoked in XTEL_CRL_DIR's database
	awk -F'\t' -v s="$1" '$1 == "R" && $4 == s { f = 1 } END { exit !f }' \
		"$XTEL_CRL_DIR/index.txt"
}

# ---- chain, chain-revoke: devices behind an intermediate CA ----
# The --crl file of chain/: both CAs' CRLs from their databases, and the
# intermediate's certificate the collector checks its CRL with.
write_chain_crl() {
	crl_db "$outdir/chain/crl-db-root"
	ossl ca -batch -config "$cnf" -name xtel_crl -cert chain/root.crt \
		-keyfile chain/root.key -gencrl -out "$stage/root.crl"
	crl_db "$outdir/chain/crl-db-int"
	ossl ca -batch -config "$cnf" -name xtel_crl -cert chain/int.crt \
		-keyfile chain/int.key -gencrl -out "$stage/int.crl"
	cat "$stage/root.crl" "$stage/int.crl" chain/int.crt >"$stage/chain-crl.pem"
	chmod 0644 "$stage/chain-crl.pem"
	mv -f "$stage/chain-crl.pem" "$outdir/chain/crl.pem"
}

chain_ok() { # crt key: the pair, the leaf then int.crt, chaining to root.crt
	[ -s "$1" ] && [ -s "$2" ] || return 1
	[ "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$1")" = 2 ] || return 1
	"$openssl" verify -CAfile chain/root.crt -untrusted chain/int.crt \
		-purpose sslclient "$1" >/dev/null 2>&1 || return 1
	[ "$("$openssl" x509 -in "$1" -noout -pubkey 2>/dev/null)" = \
	  "$("$openssl" pkey -in "$2" -pubout 2>/dev/null)" ]
}

if [ "$cmd" = chain ] || [ "$cmd" = chain-revoke ]; then
	ca_ok ca.crt ca.key || die 1 "$outdir has no valid ca.crt and ca.key: run $prog $outdir first"
	mkdir -p chain
	if [ "$cmd" = chain-revoke ]; then
		ca_ok chain/root.crt chain/root.key && [ -s chain/int.crt ] ||
			die 1 "$outdir/chain has no root and intermediate: run $prog chain $outdir first"
		for id in "${revoke_ids[@]}"; do
			if [ "$id" = int ]; then
				crt=chain/int.crt ca=chain/root
				crl_db "$outdir/chain/crl-db-root"
			else
				crt=chain/client-$id.crt ca=chain/int
				[ -s "$crt" ] || die 1 "$outdir/$crt not found: nothing to revoke"
				crl_db "$outdir/chain/crl-db-int"
			fi
			serial=$("$openssl" x509 -in "$crt" -noout -serial | sed 's/^serial=//')
			revoked_in_db "$serial" && continue
			ossl ca -batch -config "$cnf" -name xtel_crl -cert "$ca.crt" \
				-keyfile "$ca.key" -revoke "$crt"
		done
		write_chain_crl
		nrev=$(cat chain/crl-db-root/index.txt chain/crl-db-int/index.txt | grep -c '^R' || true)
		echo "$prog: $outdir/chain/crl.pem: $nrev revoked"
		exit 0
	fi
	fresh=0
	if ! ca_ok chain/root.crt chain/root.key; then
		make_ca chain/root "XTel Test Root CA" v3_root
		fresh=1
	fi
	if [ $fresh = 1 ] || ! pair_ok chain/int.crt chain/int.key chain/root.crt; then
		make_leaf chain/int "XTel Test Intermediate CA" v3_int chain/root "$ca_days"
		fresh=1
	fi
	# A new CA: its clients and revocations belong to the old one.
	[ $fresh = 1 ] && rm -rf chain/crl-db-root chain/crl-db-int chain/crl.pem
	made=0
	for ((i = 1; i <= n; i++)); do
		[ $fresh = 0 ] && chain_ok "chain/client-$i.crt" "chain/client-$i.key" && continue
		make_leaf "chain/client-$i" "client-$i" v3_client chain/int
		cat chain/int.crt >>"chain/client-$i.crt"
		made=$((made + 1))
	done
	cp ca.crt "$stage/chain-ca.crt"
	chmod 0644 "$stage/chain-ca.crt"
	mv -f "$stage/chain-ca.crt" chain/ca.crt
	[ -s chain/crl.pem ] || write_chain_crl
	echo "$prog: $outdir/chain: root, intermediate, clients 1..$n ($made new), crl.pem ready"
	exit 0
fi

if [ "$cmd" != make ]; then
	ca_ok ca.crt ca.key || die 1 "$outdir has no valid ca.crt and ca.key: run $prog $outdir first"
	crl_db "$XTEL_CRL_DIR"
	for id in "${revoke_ids[@]}"; do
		crt=client-$id.crt
		[ -s "$crt" ] || die 1 "$outdir/$crt not found: nothing to revoke"
		"$openssl" verify -CAfile ca.crt "$crt" >/dev/null 2>&1 ||
			die 1 "$outdir/$crt is not issued by $outdir/ca.crt"
		serial=$("$openssl" x509 -in "$crt" -noout -serial | sed 's/^serial=//')
		# index.txt: status, expiry, revocation date, serial, file, subject
		revoked_in_db "$serial" && continue
		ossl ca -batch -config "$cnf" -name xtel_crl -cert ca.crt -keyfile ca.key \
			-revoke "$crt"
	done
	write_crl
	nrev=$(grep -c '^R' "$XTEL_CRL_DIR/index.txt" || true)
	echo "$prog: $outdir/crl.pem: $nrev revoked"
	exit 0
fi

# ---- CA and server ----
fresh_ca=0
if ! ca_ok ca.crt ca.key; then
	make_ca ca "XTel Test CA"
	fresh_ca=1
	rm -rf "$XTEL_CRL_DIR" crl.pem
fi
if [ $fresh_ca = 1 ] || ! pair_ok server.crt server.key ca.crt sslserver; then
	make_leaf server xtel-collector v3_server ca
fi

# ---- clients ----
# With XTEL_CERTGEN (the build's xtel-certgen, userspace/certgen/) one
# process checks and makes them all: the same files, 100,000 in about a
# minute on 2 cores instead of ~5 min of openssl processes.
if [ -n "$certgen" ]; then
	[ -x "$certgen" ] || die 1 "XTEL_CERTGEN '$certgen' is not an executable: build it (ninja -C build) or unset it"
	fresh=()
	[ $fresh_ca = 1 ] && fresh=(--fresh)
	progress=()
	[ "$n" -ge 20000 ] || progress=(--progress 0)
	out=$("$certgen" --ca-cert ca.crt --ca-key ca.key --dir "$outdir" \
		--stage "$stage" --clients "$n" --days "$leaf_days" "${fresh[@]}" \
		"${progress[@]}") || die 1 "creating client certificates failed ($certgen)"
	made=${out#made }
fi
# Which of client-1..N are already good? One openssl verify process checks
# them all (per-file processes would cost minutes at N = 10,000), then one
# pass over the concatenated certificates checks every subject.
declare -A good=()
if [ $fresh_ca = 0 ] && [ -z "$certgen" ]; then
	have=()
	for ((i = 1; i <= n; i++)); do
		[ -s "client-$i.crt" ] && [ -s "client-$i.key" ] && have+=("client-$i.crt")
	done
	if [ ${#have[@]} -gt 0 ]; then
		verified=()
		while IFS= read -r line; do
			case "$line" in
			client-*.crt:\ OK) verified+=("${line%: OK}") ;;
			esac
		done < <(printf '%s\0' "${have[@]}" |
			xargs -0 "$openssl" verify -CAfile ca.crt -purpose sslclient 2>/dev/null || true)
		if [ ${#verified[@]} -gt 0 ]; then
			mapfile -t subjects < <(cat "${verified[@]}" |
				"$openssl" crl2pkcs7 -nocrl -certfile /dev/stdin 2>/dev/null |
				"$openssl" pkcs7 -print_certs -noout 2>/dev/null |
				sed -n 's/^subject=//p')
			if [ ${#subjects[@]} -eq ${#verified[@]} ]; then
				for j in "${!verified[@]}"; do
					f=${verified[$j]}
					[ "${subjects[$j]}" = "CN = ${f%.crt}" ] && good[$f]=1
				done
			fi
		fi
	fi
fi
missing=()
for ((i = 1; i <= n; i++)); do
	[ -n "$certgen" ] || [ -n "${good[client-$i.crt]:-}" ] || missing+=("$i")
done
if [ ${#missing[@]} -gt 0 ]; then
	# Twice the CPUs: each process also waits on file I/O.
	njobs=$(( $(nproc 2>/dev/null || echo 1) * 2 ))
	if ! printf '%s\n' "${missing[@]}" |
		xargs -P "$njobs" -I '{}' "$openssl" req -x509 -new -config "$cnf" \
			-extensions v3_client "${newkey[@]}" \
			-keyout "$stage/client-{}.key" -out "$stage/client-{}.crt" \
			-subj "/CN=client-{}" -CA ca.crt -CAkey ca.key \
			-days "$leaf_days" 2>"$stage/err"; then
		head -n 20 "$stage/err" >&2
		die 1 "creating client certificates failed"
	fi
	# Whole batches of renames and chmods: one process each, not per file.
	find "$stage" -maxdepth 1 -name 'client-*.crt' -exec chmod 0644 {} +
	find "$stage" -maxdepth 1 -name 'client-*' -exec mv -f -t "$outdir" {} +
fi

# ---- bad/: material the collector must reject ----
fresh_rogue=0
if ! ca_ok bad/rogue-ca.crt bad/rogue-ca.key; then
	make_ca bad/rogue-ca "XTel Rogue CA"
	fresh_rogue=1
fi
if [ $fresh_rogue = 1 ] ||
	! pair_ok bad/client-1-rogue.crt bad/client-1-rogue.key bad/rogue-ca.crt sslclient; then
	make_leaf bad/client-1-rogue client-1 v3_client bad/rogue-ca
fi
if [ $fresh_ca = 1 ] || ! [ -s bad/client-1-expired.key ] ||
	! is_expired_cert bad/client-1-expired.crt; then
	make_expired bad/client-1-expired client-1
fi
is_expired_cert bad/client-1-expired.crt ||
	die 1 "bad/client-1-expired.crt did not come out expired"

[ -n "$certgen" ] || made=${#missing[@]}
echo "$prog: $outdir: CA, server, clients 1..$n ($made new), bad/ ready"
