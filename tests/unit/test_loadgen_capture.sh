#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# loadgen end to end on loopback (plain mode; DTLS end to end is covered by
# the collector's netns tests). A capture socket on an ephemeral port
# receives and decodes every datagram, and the arrivals are compared with
# loadgen's JSON report: exact datagram counts per type and per client,
# every sequence number, and injected loss/dup/reorder equal to what the
# capture observes (missing seqs, extra copies, late arrivals), over
# 127.0.0.1 and ::1. Also: heartbeat numbering, determinism per seed, exact
# totals for --duration and --ramp, the ClientHello flood, SIGINT (BYE and
# report still sent), --source and the unreachable-target exit code.
#
# DTLS mode without a server: the handshakes of all clients start
# concurrently, are retransmitted, and time out with exit 4; a closed port
# gives exit 3.
#
# usage: test_loadgen_capture.sh LOADGEN CAPTURE_TOOL SOURCE_ROOT
set -uo pipefail

LOADGEN=${1:?usage: $0 LOADGEN CAPTURE_TOOL}
CAPTURE=${2:?usage: $0 LOADGEN CAPTURE_TOOL}
top=${3:?usage: $0 LOADGEN CAPTURE_TOOL SOURCE_ROOT}
CHECKER=$(dirname "$0")/test_loadgen_check.py
work=$(mktemp -d /tmp/xtel-lg-capture.XXXXXX)
cap_pid=
cleanup() {
	[ -n "$cap_pid" ] && kill "$cap_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

if ! command -v python3 >/dev/null; then
	echo "python3 is missing: run scripts/deps.sh" >&2
	exit 1
fi

# start_capture / wait_capture
. "$(dirname "$0")/loadgen_capture_lib.sh"

# check NAME [--same-as OTHER] [json.path=value...]: NAME.cap vs NAME.json.
check() {
	python3 "$CHECKER" "$work" "$@"
}

# scenario NAME BIND_ADDR EXPECT_BYES [loadgen flags...]
scenario() {
	local name=$1 addr=$2 byes=$3 host
	shift 3
	start_capture "$addr" "$name" --expect-byes "$byes"
	host=$addr
	[[ $addr == *:* ]] && host="[$addr]"
	"$LOADGEN" --target "$host:$port" --mode plain --quiet \
		--report-json "$work/$name.json" "$@" >"$work/$name.out" 2>"$work/$name.err"
	lg_rc=$?
	wait_capture
	cap_rc=$?
	if [ $lg_rc -ne 0 ] || [ $cap_rc -ne 0 ]; then
		echo "    loadgen rc=$lg_rc capture rc=$cap_rc"
		sed 's/^/    /' "$work/$name.err"
		return 1
	fi
}

# 1. Exact counts and numbering, IPv4 and IPv6, several threads.
for fam in 127.0.0.1 ::1; do
	n="plain-${fam//[:.]/_}"
	if scenario "$n" "$fam" 6 --clients 6 --threads 2 --count 1500 --rate 30000 &&
	   check "$n" totals.sent=9012 totals.sent_data=9000 totals.injected_loss=0; then
		ok "$fam: 6 clients x 1500 DATA + INIT + BYE arrive exactly, seqs 0..1500"
	else
		not_ok "$fam: exact arrivals without faults"
	fi
done

# 2. Faults: arrivals match the report exactly, per client.
for fam in 127.0.0.1 ::1; do
	n="faults-${fam//[:.]/_}"
	if scenario "$n" "$fam" 4 --clients 4 --threads 2 --count 3000 --rate 60000 \
		--loss 0.04 --dup 0.03 --reorder 0.05 --reorder-depth 4 --seed 42 &&
	   check "$n"; then
		ok "$fam: --loss/--dup/--reorder arrivals equal the JSON report per client"
	else
		not_ok "$fam: fault injection accounting"
	fi
done

# 3. Same seed again (other thread layout): the same faults; other seed differs.
if scenario faults-again 127.0.0.1 4 --clients 4 --threads 1 --count 3000 --rate 60000 \
	--loss 0.04 --dup 0.03 --reorder 0.05 --reorder-depth 4 --seed 42 &&
   check faults-again --same-as faults-127_0_0_1; then
	ok "same --seed gives the same faults at the same seqs"
else
	not_ok "determinism for a seed"
fi
if scenario faults-seed2 127.0.0.1 4 --clients 4 --count 3000 --rate 60000 \
	--loss 0.04 --dup 0.03 --reorder 0.05 --reorder-depth 4 --seed 43 &&
   check faults-seed2 &&
   ! cmp -s <(grep -o '"injected_loss": [0-9]*' "$work/faults-seed2.json") \
	     <(grep -o '"injected_loss": [0-9]*' "$work/faults-127_0_0_1.json"); then
	ok "another --seed gives other faults"
else
	not_ok "different seeds should differ"
fi

# 4. Heartbeats at a low rate: numbering shared with DATA, BYE last.
if scenario hb ::1 2 --clients 2 --count 6 --rate 10 --heartbeat 0.05 &&
   check hb && python3 -c "
import json,sys; r=json.load(open('$work/hb.json'))
sys.exit(0 if r['totals']['sent_heartbeat'] >= 4 else 1)"; then
	ok "--heartbeat: HEARTBEATs take seqs between DATA, counted exactly"
else
	not_ok "heartbeats"
fi

# 5. --duration and --ramp consume exactly rate x time sequence numbers.
if scenario dur 127.0.0.1 3 --clients 3 --rate 9000 --duration 0.5 &&
   check dur totals.data_seqs=4500; then
	ok "--rate 9000 --duration 0.5: exactly 4500 DATA seqs"
else
	not_ok "duration total"
fi
if scenario ramp 127.0.0.1 2 --clients 2 --threads 2 --ramp 2000,6000 --step 0.5 &&
   check ramp totals.data_seqs=4000 && python3 -c "
import json,sys; r=json.load(open('$work/ramp.json'))
s=r['ramp']; sys.exit(0 if len(s)==2 and sum(x['data_seqs'] for x in s)==4000 else 1)"; then
	ok "--ramp 2000,6000 --step 0.5: 4000 DATA seqs, reported per step"
else
	not_ok "ramp"
fi

# 6. --payload-size: every DATA datagram is exactly 28 + B bytes and valid.
if scenario size 127.0.0.1 1 --count 50 --rate 5000 --payload-size 1200 &&
   check size && [ "$(awk '$4 == 3 && $7 != 1228' "$work/size.cap" | wc -l)" -eq 0 ]; then
	ok "--payload-size 1200: valid 1228-byte DATA datagrams"
else
	not_ok "payload size"
fi

# 7. SIGINT: stops early, BYE still sent, report written, exit 0.
start_capture 127.0.0.1 sigint --expect-byes 3
"$LOADGEN" --target "127.0.0.1:$port" --mode plain --quiet --clients 3 \
	--rate 3000 --duration 30 --reorder 0.1 --reorder-depth 50 \
	--report-json "$work/sigint.json" >"$work/sigint.out" 2>&1 &
lg=$!
sleep 0.7
kill -INT $lg
wait $lg
lg_rc=$?
wait_capture
if [ $lg_rc -eq 0 ] && check sigint interrupted=True; then
	ok "SIGINT: exit 0, held datagrams and BYE sent, report matches arrivals"
else
	not_ok "SIGINT (loadgen rc=$lg_rc)"
fi

# 8. ClientHello flood from many loopback sources (127.0.0.0/8 is local).
start_capture 127.0.0.1 flood --expect-total 1 --idle-ms 400
"$LOADGEN" --target "127.0.0.1:$port" --mode plain --quiet --clients 0 \
	--flood-handshakes 4000 --duration 0.5 --flood-src 127.0.1.0/24 \
	--report-json "$work/flood.json" >"$work/flood.out" 2>&1
lg_rc=$?
wait_capture
if [ $lg_rc -eq 0 ] && python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
r = json.load(open(f"{w}/flood.json"))
lines = [l.split() for l in open(f"{w}/flood.cap") if not l.startswith("#")]
hellos = [l for l in lines if l[2] == "client_hello"]
srcs = {l[0] for l in hellos}
ports = {l[1] for l in hellos}
ok = (r["flood"]["sent"] == 2000 and len(hellos) == 2000 and len(lines) == 2000
      and all(s.startswith("127.0.1.") for s in srcs) and len(srcs) > 100
      and len(ports) > 32)
print(f"    sent {r['flood']['sent']} received {len(hellos)} sources {len(srcs)} ports {len(ports)}")
sys.exit(0 if ok else 1)
PY
then
	ok "--flood-handshakes 4000 for 0.5 s: 2000 ClientHellos from >100 addresses, >32 ports"
else
	not_ok "flood (loadgen rc=$lg_rc)"
fi

# 8b. --source: every client's socket speaks from the given address (one
# port each); an address this host does not have fails at once with exit 1.
if scenario source 127.0.0.1 4 --clients 4 --count 50 --rate 10000 --source 127.0.3.7 &&
   check source totals.sent=208 && python3 - "$work" <<'PY'
import sys
lines = [l.split() for l in open(sys.argv[1] + "/source.cap") if not l.startswith("#")]
srcs = {l[0] for l in lines}
ports = {l[1] for l in lines}
print(f"    {len(lines)} datagrams from {sorted(srcs)}, {len(ports)} ports")
sys.exit(0 if len(lines) == 208 and srcs == {"127.0.3.7"} and len(ports) == 4 else 1)
PY
then
	ok "--source 127.0.3.7: 4 clients' 208 datagrams all from 127.0.3.7, 4 ports"
else
	not_ok "--source 127.0.3.7"
fi
"$LOADGEN" --target 127.0.0.1:9 --mode plain --quiet --count 1 --source 192.0.2.1 \
	>"$work/nosrc.out" 2>"$work/nosrc.err"
lg_rc=$?
if [ $lg_rc -eq 1 ] && grep -q "cannot bind the --source address" "$work/nosrc.err"; then
	ok "--source 192.0.2.1 (not local): exit 1, '$(head -1 "$work/nosrc.err")'"
else
	not_ok "--source not local: rc=$lg_rc, expected 1"
fi

# 9. Unreachable target: a closed loopback port answers ICMP port unreachable.
closed=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$LOADGEN" --target "127.0.0.1:$closed" --mode plain --quiet --rate 1000 \
	--duration 2 >"$work/unreach.out" 2>"$work/unreach.err"
lg_rc=$?
if [ $lg_rc -eq 3 ] && grep -q "unreachable" "$work/unreach.err"; then
	ok "closed port: exit 3 with 'unreachable' ($(head -1 "$work/unreach.err"))"
else
	not_ok "unreachable target: rc=$lg_rc, expected 3"
fi

# 10. DTLS against a silent endpoint: 8 concurrent handshakes, each
# retransmitted, all time out together (not one after the other).
if "$top/certs/gen.sh" "$work/certs" 8 >/dev/null 2>&1; then
	start_capture 127.0.0.1 hs --expect-total 1 --idle-ms 1500
	t0=$(date +%s%N)
	"$LOADGEN" --target "127.0.0.1:$port" --certs "$work/certs" --clients 8 \
		--threads 2 --count 5 --handshake-timeout 1.2 --quiet \
		--report-json "$work/hs.json" >"$work/hs.out" 2>"$work/hs.err"
	lg_rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	wait_capture
	if [ $lg_rc -eq 4 ] && grep -q "8 of 8 DTLS handshakes failed; client .*: no handshake within --handshake-timeout 1.2s" "$work/hs.err" &&
	   [ $ms -lt 4000 ] && python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
r = json.load(open(f"{w}/hs.json"))
lines = [l.split() for l in open(f"{w}/hs.cap") if not l.startswith("#")]
ports = {l[1] for l in lines if l[2] == "client_hello"}
hs = r["handshakes"]
ok = (len(ports) == 8 and hs["failed"] == 8 and hs["ok"] == 0 and hs["retransmits"] >= 8
      and r["totals"]["sent"] == 0 and r["exit_code"] == 4
      and all("handshake-timeout" in c["handshake_error"] for c in r["clients"]))
print(f"    ClientHellos from {len(ports)} ports, {len(lines)} datagrams, retransmits {hs['retransmits']}")
sys.exit(0 if ok else 1)
PY
	then
		ok "DTLS, silent endpoint: 8 concurrent handshakes retransmitted, exit 4 after ${ms} ms"
	else
		not_ok "DTLS handshake timeout: rc=$lg_rc after ${ms} ms: $(cat "$work/hs.err")"
	fi
	"$LOADGEN" --target "127.0.0.1:$closed" --certs "$work/certs" --clients 2 \
		--count 1 --quiet >"$work/hs3.out" 2>"$work/hs3.err"
	lg_rc=$?
	if [ $lg_rc -eq 3 ] && grep -q "unreachable during the handshake" "$work/hs3.err"; then
		ok "DTLS to a closed port: exit 3"
	else
		not_ok "DTLS to a closed port: rc=$lg_rc $(cat "$work/hs3.err")"
	fi
else
	not_ok "certs/gen.sh failed"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
