#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# loadgen's command line: every flag's bad values are rejected with exit
# code 2 and a message that names the flag and the accepted range; flag
# conflicts are named; --help and --version work. No datagram is sent: every
# case fails validation before a socket is opened.
#
# Certificate problems in DTLS mode (exit 5) use certs/gen.sh from the
# source tree; they too fail before anything is sent.
#
# usage: test_loadgen_cli.sh LOADGEN SOURCE_ROOT
set -uo pipefail

LOADGEN=${1:?usage: $0 LOADGEN SOURCE_ROOT}
top=${2:?usage: $0 LOADGEN SOURCE_ROOT}
out=$(mktemp /tmp/xtel-lg-cli.XXXXXX)
certs=$(mktemp -d /tmp/xtel-lg-certs.XXXXXX)
trap 'rm -rf "$out" "$out.json" "$certs"' EXIT
pass=0
fail=0

# expect RC PATTERN ARGS...: loadgen ARGS exits RC and stderr+stdout match PATTERN.
expect() {
	local want=$1 pat=$2 rc
	shift 2
	"$LOADGEN" "$@" >"$out" 2>&1
	rc=$?
	if [ $rc -eq "$want" ] && grep -qE -- "$pat" "$out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "not ok - loadgen $* : rc=$rc (want $want), output:"
		sed 's/^/    /' "$out" | head -5
		echo "    (wanted /$pat/)"
	fi
}

T=(--target 127.0.0.1:9 --mode plain)

# bad FLAG VALUE...: each value is rejected with the flag and its valid range.
bad() {
	local flag=$1 v
	shift
	for v in "$@"; do
		expect 2 "loadgen: invalid value '.*' for $flag \(valid: " "${T[@]}" "$flag" "$v"
	done
}

# --help / --version
expect 0 "usage: loadgen --target" --help
expect 0 "exit codes:" --help
expect 0 "3 target unreachable" -h
expect 0 "^loadgen \(xtel\) [0-9]" --version

# The target (given as the last --target, overriding T's).
for v in "" 127.0.0.1 127.0.0.1: 127.0.0.1:0 127.0.0.1:65536 127.0.0.1:x \
	 300.0.0.1:7700 2001:2::1:7700 "[2001:2::1]" "[2001:2::1]7700" \
	 "[nothost]:7700" localhost:7700 "127.0.0.1:7700 "; do
	expect 2 "loadgen: invalid value '.*' for --target \(valid: IPv4:PORT or \[IPv6\]:PORT" \
		--mode plain --target "$v"
done
expect 2 "--target ADDR:PORT is required" --mode plain

bad --clients -1 x 1.5 60001 "" 99999999999999999999 +1 " 1" 0x1
expect 2 "invalid value '0' for --clients \(valid: .*or 0 with --flood-handshakes\)" "${T[@]}" --clients 0
bad --threads 0 65 -2 abc
expect 2 "invalid value '4' for --threads \(valid: 1..2, at most one thread per client\)" "${T[@]}" --clients 2 --threads 4
bad --first-id -1 4294967296 1e3
expect 2 "invalid value '4294967295' for --first-id \(valid: 0..4294967294 for 2 clients\)" \
	"${T[@]}" --clients 2 --first-id 4294967295
bad --source "" x 127.0.0.1/32 198.18.1.0/24 300.0.0.1 "[::1]" 127.0.0.1:9
expect 2 "--source: the address must be of the target's address family \(IPv4\)" \
	"${T[@]}" --source ::1
bad --rate -1 10000001 abc 1e99 nan inf "" 0x10 +5 " 5" "5 "
bad --ramp "" 0 -5 1,,2 ,1 1, 1,x 1,0x5 "1, 2" 1,+2 1,inf 20000000 "$(seq -s, 1 65)"
bad --step 0 0.05 3601 x
bad --duration 0 -1 86401 x nan
bad --count 0 -1 1000000000001 1.5 x
bad --batch 0 257 x
bad --mode tls "" PLAIN
bad --handshake-timeout 0 0.05 601 x
bad --data-delay -1 3601 x
bad --payload-size -1 1 2 1201 x
bad --heartbeat -1 0.001 3601 x
bad --seed -1 18446744073709551616 x
bad --loss -0.1 1.5 x nan
bad --dup -0.1 2 x
bad --reorder -0.1 1.01 x
bad --reorder-depth 0 10001 x
bad --flood-handshakes 0 1000001 x
bad --flood-src 198.18.1.0 198.18.1.1/24 198.18.1.0/33 198.18.0.0/7 \
	2001:2:0:1::/63 2001:2:0:1::1/64 x/24 198.18.1.0/x
bad --report-json ""
bad --certs ""

# Payload templates are checked against the wire grammar.
expect 2 "loadgen: invalid value 'a=1;' for --payload: .*malformed_metric" "${T[@]}" --payload 'a=1;'
expect 2 "loadgen: invalid value 'bad key=1' for --payload: .*bad_key" "${T[@]}" --payload 'bad key=1'
expect 2 "loadgen: invalid value 'a=x' for --payload: .*bad_value" "${T[@]}" --payload 'a=x'
expect 2 "loadgen: invalid value 'a=1;a=2' for --payload: .*duplicate_key" "${T[@]}" --payload 'a=1;a=2'
expect 2 "loadgen: invalid value 'a={nope}' for --payload: .*bad placeholder" "${T[@]}" --payload 'a={nope}'
expect 2 "loadgen: invalid value 'a={rand:5:1}' for --payload: .*bad placeholder" "${T[@]}" --payload 'a={rand:5:1}'
expect 2 "loadgen: invalid value 'a={rand:1.5:2}' for --payload: .*bad placeholder" "${T[@]}" --payload 'a={rand:1.5:2}'
expect 2 "loadgen: invalid value 'a=\{seq' for --payload: .*bad placeholder" "${T[@]}" --payload 'a={seq'
expect 2 "loadgen: invalid value 'a=1}' for --payload: .*unmatched" "${T[@]}" --payload 'a=1}'
expect 2 "loadgen: invalid value '.*' for --payload: .*too_many_metrics" "${T[@]}" \
	--payload "$(for i in $(seq 33); do printf 'k%d=1;' "$i"; done | sed 's/;$//')"

# Combinations.
expect 2 "--ramp and --rate cannot be used together" "${T[@]}" --ramp 1,2 --rate 5
expect 2 "--ramp and --duration" "${T[@]}" --ramp 1,2 --duration 5
expect 2 "--step needs --ramp" "${T[@]}" --step 2
expect 2 "--payload and --payload-size cannot be used together" "${T[@]}" --payload a=1 --payload-size 10
expect 2 "--loss \+ --dup \+ --reorder = 1.2: expected a sum of at most 1" "${T[@]}" --loss 0.5 --dup 0.5 --reorder 0.2
expect 2 "--reorder-depth needs --reorder" "${T[@]}" --reorder-depth 5
expect 2 "--flood-src needs --flood-handshakes" "${T[@]}" --flood-src 198.18.1.0/24
expect 2 "--flood-src: the range must be of the target's address family \(IPv4\)" \
	"${T[@]}" --flood-handshakes 10 --flood-src 2001:2:0:1::/64
expect 2 "--mode dtls needs --certs DIR" --target 127.0.0.1:9
expect 2 "--mode dtls needs --certs DIR" --target 127.0.0.1:9 --mode dtls
expect 2 "unknown option '--bogus'" "${T[@]}" --bogus
expect 2 "--rate needs a value" "${T[@]}" --rate
expect 2 "unexpected argument 'extra'" "${T[@]}" extra
expect 2 "invalid value '/nonexistent/dir/r.json' for --report-json: cannot create" \
	"${T[@]}" --count 1 --report-json /nonexistent/dir/r.json

# Good values are accepted: a tiny run to a loopback port nobody listens on
# is answered with ICMP port unreachable, hence exit 3.
closed=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect 3 "unreachable" --target "127.0.0.1:$closed" --mode plain --count 5 --rate 1000 --quiet
# Certificates (DTLS mode): checked before any socket is opened.
if "$top/certs/gen.sh" "$certs/ok" 6 >/dev/null 2>&1; then
	D=(--target 127.0.0.1:9 --count 1)
	expect 5 "--certs $certs/none: cannot read CA $certs/none/ca.crt" "${D[@]}" --certs "$certs/none"
	cp -r "$certs/ok" "$certs/no5" && rm "$certs/no5/client-5.crt"
	expect 5 "cannot read certificate $certs/no5/client-5.crt: No such file" \
		"${D[@]}" --certs "$certs/no5" --clients 6
	cp -r "$certs/ok" "$certs/nokey" && rm "$certs/nokey/client-2.key"
	expect 5 "cannot read private key $certs/nokey/client-2.key" \
		"${D[@]}" --certs "$certs/nokey" --clients 3
	cp -r "$certs/ok" "$certs/swap" && cp "$certs/swap/client-2.key" "$certs/swap/client-1.key"
	expect 5 "private key $certs/swap/client-1.key does not match certificate $certs/swap/client-1.crt" \
		"${D[@]}" --certs "$certs/swap" --clients 2
	expect 5 "client-7.crt: No such file" "${D[@]}" --certs "$certs/ok" --clients 2 --first-id 6
	cp -r "$certs/ok" "$certs/badca" && echo garbage >"$certs/badca/ca.crt"
	expect 5 "--certs $certs/badca: .*ca.crt" "${D[@]}" --certs "$certs/badca"
else
	fail=$((fail + 1))
	echo "not ok - certs/gen.sh failed: cannot test certificate errors"
fi

# --scenario: a missing file and a bad rule, named with file and line
expect 2 "loadgen: --scenario /nonexistent/sc: No such file" "${T[@]}" --scenario /nonexistent/sc
printf '3 10 end latency 50\n4 10 end boom\n' >"$certs/sc"
expect 2 "loadgen: --scenario $certs/sc:2: unknown fault 'boom'" "${T[@]}" --scenario "$certs/sc"

# (No-route targets are tested in tests/netns/test_loadgen_netns.sh, where
# the namespace's routes are known and nothing can leave the testbed.)

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
