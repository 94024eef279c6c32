#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: SIGHUP with --config (collector main.c reload(), reload.c).
# A collector with XDP on the testbed's veth, DTLS, an allowlist and a
# deny list, all from a config file, serves one long-lived IPv6 client
# while the file is edited and SIGHUP sent:
#   0. a server certificate and key that do not match: refused; one from
#      another CA: taken, so a client that trusts only our CA now fails
#      its handshake; the original again: the client is served;
#   1. a new deny-list path: taken, client 2 is refused from then on;
#   2. a bad value (port = 0): refused with FILE:LINE: KEY, nothing changes;
#   3. a non-reloadable key (interval): logged as needing a restart;
#   4. a new allowlist without the generator's IPv4 address: a client over
#      IPv4 is dropped in XDP, IPv6 still served;
#   5. log-level = "warn": the next reload's info lines are gone.
# The long-lived client's session and counters survive all of it: its
# received/lost in the final summary equal what the loadgen sent.
#
# usage: test_service_reload.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_service_reload.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"

command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
certs=$work/certs
"$top/certs/gen.sh" "$certs" 3 >/dev/null 2>&1 || { echo "FAIL certs/gen.sh"; exit 1; }
"$top/certs/gen.sh" "$work/other" 1 >/dev/null 2>&1 || { echo "FAIL certs/gen.sh other"; exit 1; }
srv_crt=$certs/server.crt
srv_key=$certs/server.key
testbed_up

conf=$work/collector.conf
printf '# nobody\n' >"$work/deny-a.txt"
printf '2\n' >"$work/deny-b.txt"
# write_conf DENY ALLOW4 INTERVAL LEVEL [EXTRA]
write_conf() {
	cat >"$conf" <<EOF
mode = "dtls";
iface = "$XTEL_COL_IF";
pin-dir = "$XTEL_BPFFS/reload";
workers = 1;
quiet = true;
cert = "$srv_crt";
key = "$srv_key";
ca = "$certs/ca.crt";
deny-list = "$work/$1";
allow = ["$2", "$XTEL_GEN_IP6/128"];
interval = $3;
log-level = "$4";
summary-json = "$work/reload.json";
${5:-}
EOF
}
hups=0
# reload PATTERN: SIGHUP, then wait until one more line has PATTERN.
reload() {
	local before
	before=$(grep -c -- "$1" "$work/rl.err")
	hups=$((hups + 1))
	kill -HUP "$col_pid"
	for _ in $(seq 100); do
		[ "$(grep -c -- "$1" "$work/rl.err")" -gt "$before" ] && break
		sleep 0.05
	done
	check "SIGHUP $hups: '$1'" test "$(grep -c -- "$1" "$work/rl.err")" -gt "$before"
	sleep 0.3	# a worker tick: the new policy is in place
}
lg() { # lg NAME TARGET ID COUNT [ARGS]: one loadgen run in the generator ns
	local name=$1 target=$2 id=$3 count=$4; shift 4
	in_gen "$loadgen" --target "$target" --mode dtls --certs "$certs" \
		--first-id "$id" --clients 1 --count "$count" --quiet \
		--report-json "$work/$name.json" "$@" >"$work/$name.out" 2>&1
}

write_conf deny-a.txt "$XTEL_GEN_IP4/32" 1 info
start_collector rl --config "$conf" || exit 1
check "XDP attached from the config file" grep -q "XDP .* on $XTEL_COL_IF" "$work/rl.err"
# The long-lived client: 6000 datagrams over ~12 s, across every reload.
lg c1 "[$XTEL_COL_IP6]:7700" 1 6000 --rate 500 &
c1=$!
lg c3a "$XTEL_COL_IP4:7700" 3 50 --rate 500
check_eq "client 3 over IPv4 before the reloads" 0 "$?"

# 0. the server certificate
srv_key=$work/other/server.key
write_conf deny-a.txt "$XTEL_GEN_IP4/32" 1 info
reload "SIGHUP: reload refused (see above); the running configuration stays"
check "... a key of another certificate, named" grep -qF \
	"private key $work/other/server.key does not match certificate $certs/server.crt" "$work/rl.err"
lg c2a "$XTEL_COL_IP4:7700" 2 10 --handshake-timeout 2
check_eq "the old certificate stayed: client 2 served" 0 "$?"
srv_crt=$work/other/server.crt
write_conf deny-a.txt "$XTEL_GEN_IP4/32" 1 info
reload "SIGHUP: server certificate $work/other/server.crt reloaded (new handshakes)"
lg c2b "$XTEL_COL_IP4:7700" 2 10 --handshake-timeout 2
check_eq "a certificate of another CA in use: client 2 refuses the server" 4 "$?"
srv_crt=$certs/server.crt srv_key=$certs/server.key
write_conf deny-a.txt "$XTEL_GEN_IP4/32" 1 info
reload "SIGHUP: server certificate $certs/server.crt reloaded (new handshakes)"
lg c2c "$XTEL_COL_IP4:7700" 2 10 --handshake-timeout 2
check_eq "ours again: client 2 served" 0 "$?"

# 1. a new deny list path
write_conf deny-b.txt "$XTEL_GEN_IP4/32" 1 info
reload "SIGHUP: DTLS policy reloaded: no CRL, 1 client id denied (--deny-list)"
check "the changed key is named" grep -qF \
	"reload: deny-list = \"$work/deny-b.txt\" (was \"$work/deny-a.txt\")" "$work/rl.err"
lg c2 "$XTEL_COL_IP4:7700" 2 10 --handshake-timeout 2
check_eq "denied client 2: loadgen reports a failed handshake" 4 "$?"

# 2. a bad value: refused, the running configuration stays
write_conf deny-a.txt "$XTEL_GEN_IP4/32" 1 info "port = 0;"
reload "SIGHUP: reload refused (see above); the running configuration stays"
check "FILE:LINE: KEY of the bad value" grep -qF \
	"collector: $conf:14: port: invalid value '0' for --port (valid: 1..65535)" "$work/rl.err"
lg c2d "$XTEL_COL_IP4:7700" 2 10 --handshake-timeout 2
check_eq "still denied after the refused reload" 4 "$?"

# 3. a key that needs a restart
write_conf deny-b.txt "$XTEL_GEN_IP4/32" 2 info
reload "reload: interval changed to 2: it takes effect at the next start"

# 4. the allowlist without the generator's IPv4 address
write_conf deny-b.txt "198.18.0.99/32" 1 info
reload "SIGHUP: allowlist now 2 prefixes"
lg c3b "$XTEL_COL_IP4:7700" 3 10 --handshake-timeout 2
check_eq "IPv4 client outside the new allowlist: no handshake" 4 "$?"
lg c3c "[$XTEL_COL_IP6]:7700" 3 50 --rate 500
check_eq "IPv6 client still allowed" 0 "$?"

# 5. log level warn: the following reload logs no info line
write_conf deny-b.txt "198.18.0.99/32" 1 warn
reload 'reload: log-level = "warn" (was "info")'
n_info=$(grep -c "SIGHUP: DTLS policy reloaded" "$work/rl.err")
write_conf deny-a.txt "198.18.0.99/32" 1 warn
kill -HUP "$col_pid"
sleep 0.5
check_eq "no info lines at log-level warn" "$n_info" \
	"$(grep -c "SIGHUP: DTLS policy reloaded" "$work/rl.err")"
lg c2e "[$XTEL_COL_IP6]:7700" 2 10
check_eq "client 2 allowed again (deny-a, taken quietly)" 0 "$?"

wait "$c1"
check_eq "long-lived client 1: loadgen exit code" 0 "$?"
sleep 0.5
stop_collector TERM
check_eq "collector exit code" 0 "$col_rc"
python3 - "$work/reload.json" "$work/c1.json" "$work/c3a.json" "$work/c3c.json" \
	>"$work/check" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
c1, c3a, c3c = (json.load(open(p)) for p in sys.argv[2:5])
sc = {c["client_id"]: c for c in s["clients"]}
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
check("client 1 received = sent across the reloads", c1["totals"]["sent"], sc[1]["received"])
check("client 1 lost", 0, sc[1]["lost"])
check("client 3 received = its two allowed runs",
      c3a["totals"]["sent"] + c3c["totals"]["sent"], sc[3]["received"])
PY
tally "$work/check"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
