#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# loadgen over the testbed veth: loadgen runs in xtel-gen, a capture socket
# in xtel-col receives and decodes everything, and the arrivals must equal
# loadgen's JSON report exactly (per client, per type, every seq, injected
# loss/dup/reorder), over IPv4 and IPv6, with several threads and at 100k
# pps. Also: the ClientHello flood arrives from the testbed's flood ranges
# (198.18.1.0/24, 2001:2:0:1::/64), and a target without a route exits 3.
# DTLS end to end against the collector (when its path is given): mutual
# auth handshakes over IPv4 and IPv6, the collector's loss/dup/reorder
# counts equal what loadgen injected, the flood is answered with
# HelloVerifyRequests, and a client certificate from a rogue CA fails the
# handshake with exit 4 and OpenSSL's reason; two loadgens held after
# their handshakes by --data-delay are released by SIGUSR1 one after the
# other (the bench's 100,000-client chain) and the collector counts all.
# Honours XTEL_NS_SUFFIX through scripts/testbed.sh.
#
# usage: test_loadgen_netns.sh SOURCE_ROOT LOADGEN CAPTURE_TOOL [COLLECTOR]
set -uo pipefail

top=${1:?usage: $0 SOURCE_ROOT LOADGEN CAPTURE_TOOL [COLLECTOR]}
LOADGEN=${2:?usage: $0 SOURCE_ROOT LOADGEN CAPTURE_TOOL [COLLECTOR]}
CAPTURE=${3:?usage: $0 SOURCE_ROOT LOADGEN CAPTURE_TOOL [COLLECTOR]}
COLLECTOR=${4:-}
CHECKER=$top/tests/unit/test_loadgen_check.py
tb=$top/scripts/testbed.sh
eval "$("$tb" env)"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root for network namespaces"
	exit 77
fi
if ! ip netns add "xtel-probe$$" 2>/dev/null; then
	echo "SKIP: cannot create network namespaces here"
	exit 77
fi
ip netns del "xtel-probe$$"

work=$(mktemp -d /tmp/xtel-lg-netns.XXXXXX)
cap_pid=
col_pid=
cleanup() {
	[ -n "$cap_pid" ] && kill "$cap_pid" 2>/dev/null
	[ -n "$col_pid" ] && kill "$col_pid" 2>/dev/null
	"$tb" down >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
"$tb" up || { echo "not ok - testbed.sh up failed"; exit 1; }

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
col() { ip netns exec "$XTEL_NS_COL" "$@"; }
gen() { ip netns exec "$XTEL_NS_GEN" "$@"; }

# start_capture / wait_capture, with the capture inside xtel-col.
CAPTURE_IN="ip netns exec $XTEL_NS_COL"
. "$top/tests/unit/loadgen_capture_lib.sh"

# scenario NAME ADDR BYES [loadgen flags]: loadgen in xtel-gen -> capture.
scenario() {
	local name=$1 addr=$2 byes=$3 host lg_rc cap_rc
	shift 3
	start_capture "$addr" "$name" --expect-byes "$byes"
	host=$addr
	[[ $addr == *:* ]] && host="[$addr]"
	gen "$LOADGEN" --target "$host:$port" --mode plain --quiet \
		--report-json "$work/$name.json" "$@" >"$work/$name.out" 2>"$work/$name.err"
	lg_rc=$?
	wait_capture
	cap_rc=$?
	if [ $lg_rc -ne 0 ] || [ $cap_rc -ne 0 ]; then
		echo "    loadgen rc=$lg_rc capture rc=$cap_rc"
		sed 's/^/    /' "$work/$name.err"
		return 1
	fi
	sed 's/^/    /' "$work/$name.out" | grep -E "data seqs|injected"
}

for addr in "$XTEL_COL_IP4" "$XTEL_COL_IP6"; do
	n="veth-${addr//[:.]/_}"
	if scenario "$n" "$addr" 8 --clients 8 --threads 2 --count 2000 \
		--rate 40000 --loss 0.02 --dup 0.02 --reorder 0.03 --reorder-depth 6 \
		--heartbeat 0.02 --seed 11 &&
	   python3 "$CHECKER" "$work" "$n" totals.data_seqs=16000; then
		ok "$addr: 8 clients / 2 threads with faults: capture in $XTEL_NS_COL equals the report"
	else
		not_ok "$addr: capture over veth"
	fi
done

# 100k pps over veth, two threads: still exact.
if scenario fast "$XTEL_COL_IP4" 4 --clients 4 --threads 2 --count 25000 \
	--rate 100000 --payload-size 64 --loss 0.01 --dup 0.01 --seed 3 &&
   python3 "$CHECKER" "$work" fast totals.data_seqs=100000; then
	ok "100000 DATA at 100k pps over veth: exact arrivals"
else
	not_ok "100k pps over veth"
fi

# Flood from the testbed's ranges, both families.
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$XTEL_COL_IP4; net=$XTEL_FLOOD_NET4; pfx=198.18.1.
	else addr=$XTEL_COL_IP6; net=$XTEL_FLOOD_NET6; pfx=2001:2:0:1:; fi
	host=$addr
	[ $fam = 6 ] && host="[$addr]"
	start_capture "$addr" "flood$fam" --expect-total 1 --idle-ms 400
	gen "$LOADGEN" --target "$host:$port" --mode plain --quiet --clients 0 \
		--flood-handshakes 5000 --duration 0.4 --flood-src "$net" \
		--report-json "$work/flood$fam.json" >"$work/flood$fam.out" 2>&1
	lg_rc=$?
	wait_capture
	if [ $lg_rc -eq 0 ] && python3 - "$work/flood$fam" "$pfx" <<'PY'
import json, sys
base, pfx = sys.argv[1], sys.argv[2]
r = json.load(open(base + ".json"))
lines = [l.split() for l in open(base + ".cap") if not l.startswith("#")]
hellos = [l for l in lines if l[2] == "client_hello"]
srcs = {l[0] for l in hellos}
print(f"    sent {r['flood']['sent']} received {len(hellos)} from {len(srcs)} addresses")
sys.exit(0 if r["flood"]["sent"] == 2000 and len(hellos) == 2000 and
         len(lines) == 2000 and len(srcs) > 100 and
         all(s.startswith(pfx) for s in srcs) else 1)
PY
	then
		ok "IPv$fam flood from $net: 2000 ClientHellos arrive from >100 addresses"
	else
		not_ok "IPv$fam flood (loadgen rc=$lg_rc)"
		sed 's/^/    /' "$work/flood$fam.out"
	fi
done

# No route: nothing is sent, exit 3 at connect. 198.19.0.0/16 and
# 2001:2:ffff::/48 are in the benchmarking ranges but not on the testbed.
for t in 198.19.0.1:7700 "[2001:2:ffff::1]:7700"; do
	gen "$LOADGEN" --target "$t" --mode plain --count 1 >"$work/noroute.out" 2>&1
	rc=$?
	if [ $rc -eq 3 ] && grep -q "unreachable: Network is unreachable" "$work/noroute.out"; then
		ok "no route to $t: exit 3"
	else
		not_ok "no route to $t: rc=$rc"
		sed 's/^/    /' "$work/noroute.out"
	fi
done

# DTLS against the collector.
if [ -n "$COLLECTOR" ] && "$top/certs/gen.sh" "$work/certs" 8 >/dev/null 2>&1; then
	C=$work/certs
	cp -r "$C" "$work/rogue"
	cp "$C/bad/client-1-rogue.crt" "$work/rogue/client-1.crt"
	cp "$C/bad/client-1-rogue.key" "$work/rogue/client-1.key"
	# start_collector ADDR NAME: DTLS collector in xtel-col on port 7700.
	start_collector() {
		# ip netns exec execs the collector: $! is the collector itself.
		ip netns exec "$XTEL_NS_COL" "$COLLECTOR" --mode dtls --bind "$1" --port 7700 --no-xdp \
			--workers 2 --cert "$C/server.crt" --key "$C/server.key" \
			--ca "$C/ca.crt" --quiet --duration 60 \
			--summary-json "$work/$2.col.json" >"$work/$2.col.out" 2>&1 &
		col_pid=$!
		sleep 0.5
	}
	stop_collector() {
		# SIGTERM: background jobs of a script ignore SIGINT.
		kill -TERM "$col_pid" 2>/dev/null
		wait "$col_pid"
		col_pid=
	}
	for addr in "$XTEL_COL_IP4" "$XTEL_COL_IP6"; do
		n="dtls-${addr//[:.]/_}"
		host=$addr
		[[ $addr == *:* ]] && host="[$addr]"
		start_collector "$addr" "$n"
		gen "$LOADGEN" --target "$host:7700" --certs "$C" --clients 8 --threads 2 \
			--count 1000 --rate 20000 --loss 0.02 --dup 0.02 --reorder 0.03 \
			--reorder-depth 4 --seed 5 --flood-handshakes 2000 --quiet \
			--report-json "$work/$n.json" >"$work/$n.out" 2>"$work/$n.err"
		lg_rc=$?
		sleep 0.3
		stop_collector
		if [ $lg_rc -eq 0 ] && python3 - "$work/$n" <<'PY'
import json, sys
b = sys.argv[1]
lg = json.load(open(b + ".json"))
col = json.load(open(b + ".col.json"))
t, ct = lg["totals"], col["totals"]
pairs = [("received", ct["received"], t["sent"]),
         ("DATA", ct["by_type"]["DATA"], t["sent_data"]),
         ("lost", ct["lost"], t["injected_loss"]),
         ("duplicates", ct["duplicates"], t["injected_dup"]),
         ("reordered", ct["reordered"], t["injected_reorder"]),
         ("clients", ct["clients"], 8),
         ("handshakes", lg["handshakes"]["ok"], 8),
         ("flood answered", lg["flood"]["replies"], lg["flood"]["sent"])]
bad = [f"{k}: collector {a} loadgen {b}" for k, a, b in pairs if a != b]
print("    " + ", ".join(f"{k} {a}" for k, a, _ in pairs))
for x in bad:
    print("    MISMATCH", x)
sys.exit(1 if bad else 0)
PY
		then
			ok "DTLS over $addr: 8 handshakes, collector counts equal loadgen's report, flood answered"
		else
			not_ok "DTLS over $addr (loadgen rc=$lg_rc)"
			sed 's/^/    /' "$work/$n.err" | head -5
		fi
	done
	start_collector "$XTEL_COL_IP4" rogue
	gen "$LOADGEN" --target "$XTEL_COL_IP4:7700" --certs "$work/rogue" --clients 3 \
		--count 10 --quiet >"$work/rogue.out" 2>"$work/rogue.err"
	lg_rc=$?
	stop_collector
	if [ $lg_rc -eq 4 ] && grep -q "1 of 3 DTLS handshakes failed; client 1: .*unknown ca" "$work/rogue.err"; then
		ok "rogue client certificate: exit 4 ($(cat "$work/rogue.err"))"
	else
		not_ok "rogue certificate: rc=$lg_rc $(cat "$work/rogue.err")"
	fi
	# Two loadgens as the bench's 100,000-client rows chain them: each
	# holds its sessions in --data-delay after its handshakes, the second
	# starts once the first said so, and SIGUSR1 lets one after the other
	# send (an hour's delay: without the signal the test's timeout ends it).
	start_collector "$XTEL_COL_IP4" chain
	announced() { # err file: the handshakes-done line, within 20 s
		for _ in $(seq 200); do
			grep -q "handshakes done, DATA in 3600 s or at SIGUSR1" "$1" && return 0
			sleep 0.1
		done
		return 1
	}
	chain_ok=1
	pids=()
	for k in 0 1; do
		# ip netns exec execs the loadgen: $! is the loadgen itself.
		ip netns exec "$XTEL_NS_GEN" "$LOADGEN" --target "$XTEL_COL_IP4:7700" \
			--certs "$C" --clients 4 --first-id $((1 + 4 * k)) --count 500 --data-delay 3600 --quiet \
			--report-json "$work/chain$k.json" >"$work/chain$k.out" 2>"$work/chain$k.err" &
		pids+=($!)
		announced "$work/chain$k.err" || chain_ok=0
	done
	for k in 0 1; do
		kill -USR1 "${pids[$k]}" 2>/dev/null
		wait "${pids[$k]}"
		rc=$?
		[ $rc -eq 0 ] || { chain_ok=0; echo "    loadgen $k: rc=$rc"; }
	done
	sleep 0.3
	stop_collector
	if [ $chain_ok = 1 ] && python3 - "$work" "$top/tests/lib" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[2])
import checks
w = sys.argv[1]
col = json.load(open(w + "/chain.col.json"))["totals"]
lg = [json.load(open(w + "/chain%d.json" % k)) for k in (0, 1)]
checks.check("received = sent by both", sum(r["totals"]["sent"] for r in lg), col["received"])
checks.check("DATA: 4 + 4 clients x 500", 8 * 500, col["by_type"]["DATA"])
checks.check("clients", 8, col["clients"])
checks.check("handshakes", 8, sum(r["handshakes"]["ok"] for r in lg))
sys.exit(1 if checks.fails else 0)
PY
	then
		ok "two loadgens held in --data-delay, released by SIGUSR1 one after the other: counts equal"
	else
		not_ok "loadgens released by SIGUSR1 ($(cat "$work/chain0.err" "$work/chain1.err" | head -4))"
	fi
elif [ -n "$COLLECTOR" ]; then
	not_ok "certs/gen.sh failed"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
