#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: the collector with its XDP program (and AF_XDP) on the
# testbed, driven by the load generator. Every check is an exact count:
#  1. plain: per client, the packets in the pinned xtel_clients map (read
#     with bpftool) equal what loadgen says it sent; the summary JSON's
#     xdp_clients agree with bpftool, its xdp.stats.passed equals the
#     total sent, and userspace received all of it.
#  2. dtls: the same per established session: sent + 1 (the client's
#     close_notify arrives while the session is still up; handshake
#     datagrams are sessionless and counted as no_session instead).
#  3. flood: a spoofed ClientHello flood from the flood range runs while
#     established DTLS clients send. During the flood, the XDP outcomes of
#     sessionless datagrams (bucket drops + global drops + admitted)
#     add up to exactly what the flood sent; exactly the admitted ones were
#     answered (HelloVerifyRequests loadgen got back); the drops are > 0;
#     the established clients lose nothing.
#  4. --afxdp, plain and dtls: everything arrives through AF_XDP
#     (redirected == AF_XDP rx == what was sent, nothing passed to the
#     kernel) and userspace received exactly what was sent.
#  5. restart: the pinned per-client counters survive a collector restart
#     (cumulative), while the second run's userspace totals are its own.
#  6. --allow with a CIDR that excludes the generator: every datagram is
#     dropped in XDP under not_allowed, userspace sees none.
#  7. the per-client and session maps are sized by --max-clients and
#     workers x --max-sessions above the built-in 65,536; pins of another
#     size are replaced at the next start.
#
# usage: test_collector_xdp.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_collector_xdp.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"
command -v bpftool >/dev/null || PATH=$PATH:/usr/sbin
port=7700

testbed_up
certs="$work/certs"
"$top/certs/gen.sh" "$certs" 8 >/dev/null 2>&1 || { echo "FAIL certs/gen.sh"; exit 1; }
DTLS=(--cert "$certs/server.crt" --key "$certs/server.key" --ca "$certs/ca.crt")

# Probe: can XDP be attached here at all? (skip only if really not)
if ! in_col "$collector" --mode plain --iface "$XTEL_COL_IF" \
	--pin-dir "$XTEL_BPFFS/probe" --duration 0.1 --quiet \
	>"$work/probe.out" 2>"$work/probe.err"; then
	if grep -q "CAP_BPF\|CAP_NET_ADMIN" "$work/probe.err"; then
		echo "SKIP: XDP refused here"; cat "$work/probe.err"; exit 77
	fi
	echo "FAIL probe run:"; cat "$work/probe.err"; exit 1
fi

# bpftool view of a pin dir: {"stats": {index: packets}, "clients": {id: packets}}
bpf_view() {
	python3 - "$1" <<'PY'
import json, subprocess, sys
pins = sys.argv[1]
def dump(m):
    out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", f"{pins}/{m}"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)
stats = {}
for e in dump("xtel_stats"):
    f = e["formatted"]
    stats[f["key"]] = sum(v["value"]["packets"] for v in f["values"])
clients = {}
for e in dump("xtel_clients"):
    v = e["formatted"]["value"]
    if isinstance(v, list):	# per-CPU map
        clients[e["formatted"]["key"]] = sum(x["value"]["packets"] for x in v)
    else:
        clients[e["formatted"]["key"]] = v["packets"]
print(json.dumps({"stats": stats, "clients": clients}))
PY
}

# ---- 1/2. per-client XDP counters = loadgen's sent, plain and DTLS ----
run_agree() { # name mode extra_per_client collector-args...
	local name=$1 mode=$2 extra=$3; shift 3
	local pins="$XTEL_BPFFS/$name" lgargs=(--mode "$mode")
	[ "$mode" = dtls ] && lgargs+=(--certs "$certs")
	rm -rf "$pins"
	start_collector "$name" --mode "$mode" --iface "$XTEL_COL_IF" \
		--pin-dir "$pins" --workers 2 --quiet \
		--summary-json "$work/$name.json" "$@" || { fail "$name: start"; return; }
	in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" "${lgargs[@]}" --clients 4 \
		--count 3000 --rate 30000 --seed 3 --loss 0.01 --dup 0.01 --quiet \
		--report-json "$work/$name-lg4.json" >"$work/$name-lg4.out" 2>&1
	check_eq "$name: loadgen IPv4 exit code" 0 "$?"
	in_gen "$loadgen" --target "[$XTEL_COL_IP6]:$port" "${lgargs[@]}" --clients 2 \
		--first-id 5 --count 2000 --rate 20000 --quiet \
		--report-json "$work/$name-lg6.json" >"$work/$name-lg6.out" 2>&1
	check_eq "$name: loadgen IPv6 exit code" 0 "$?"
	sleep 0.3
	bpf_view "$pins" >"$work/$name-bpf.json"
	stop_collector TERM
	check_eq "$name: collector exit code" 0 "$col_rc"
	python3 - "$work/$name.json" "$work/$name-bpf.json" "$extra" \
		"$work/$name-lg4.json" "$work/$name-lg6.json" >"$work/$name.check" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
extra = int(sys.argv[3]); lg = [json.load(open(p)) for p in sys.argv[4:]]
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
name = s["mode"]
sent = {c["client_id"]: c["sent"] for g in lg for c in g["clients"]}
total = sum(g["totals"]["sent"] for g in lg)
bc = {int(k): v for k, v in b["clients"].items()}
check(f"{name}: bpftool per-client packets = loadgen sent (+{extra})",
      {i: n + extra for i, n in sent.items()}, bc)
jc = {c["client_id"]: c["packets"] for c in s["xdp_clients"]}
check(f"{name}: summary xdp_clients = bpftool", bc, jc)
st = s["xdp"]["stats"]
check(f"{name}: xdp passed = sent + sessionless",
      total + len(sent) * extra + st["no_session"]["packets"], st["passed"]["packets"])
check(f"{name}: xdp dropped nothing", 0,
      sum(v["packets"] for k, v in st.items() if k.startswith("drop_")))
check(f"{name}: bpftool passed = summary", b["stats"]["4"], st["passed"]["packets"])
check(f"{name}: userspace received = sent", total, s["totals"]["received"])
exp_lost = sum(g["totals"]["injected_loss"] for g in lg)
check(f"{name}: userspace lost = injected", exp_lost, s["totals"]["lost"])
check(f"{name}: no userspace drops", 0, s["dropped_total"])
check(f"{name}: xdp_peer_errors", 0, s["counters"]["xdp_peer_errors"])
PY
	tally "$work/$name.check"
}
run_agree plain plain 0
run_agree dtls dtls 1 "${DTLS[@]}"

# ---- 3. handshake flood vs established DTLS clients ----
pins="$XTEL_BPFFS/flood"
rm -rf "$pins"
start_collector flood --mode dtls --iface "$XTEL_COL_IF" --pin-dir "$pins" \
	--workers 2 --quiet --handshake-rate 10 --handshake-burst 4 \
	--handshake-global-rate 500 --handshake-global-burst 100 \
	--summary-json "$work/flood.json" "${DTLS[@]}" || exit 1
veth0=$(veth_drops)
ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls \
	--certs "$certs" --clients 4 --count 6000 --rate 8000 --quiet \
	--report-json "$work/flood-clients.json" >"$work/flood-clients.out" 2>&1 &
lg_pid=$!
# The clients' handshakes take milliseconds; wait until all 4 are up.
for _ in $(seq 50); do
	[ "$(bpf_view "$pins" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["clients"]))')" = 4 ] && break
	sleep 0.05
done
bpf_view "$pins" >"$work/flood-before.json"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --clients 0 \
	--flood-handshakes 20000 --duration 1 --quiet \
	--report-json "$work/flood-lg.json" >"$work/flood-lg.out" 2>&1
check_eq "flood: loadgen flood exit code" 0 "$?"
sleep 0.2
bpf_view "$pins" >"$work/flood-after.json"
wait "$lg_pid"
check_eq "flood: established clients' loadgen exit code" 0 "$?"
sleep 0.3
stop_collector TERM
check_eq "flood: collector exit code" 0 "$col_rc"
veth1=$(veth_drops)
python3 - "$work/flood.json" "$work/flood-before.json" "$work/flood-after.json" \
	"$work/flood-lg.json" "$work/flood-clients.json" "$((veth1 - veth0))" \
	>"$work/flood.check" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
b0, b1 = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
fl, cl = json.load(open(sys.argv[4])), json.load(open(sys.argv[5]))
# Dropped by the veth pair before XDP, flood and clients together: 0 on an
# idle machine, some hundreds when the flood overflows the veth ring. The
# clients' share is what the collector found missing from them; the rest
# is the flood's. Every check below is exact with any value of it.
veth = int(sys.argv[6])
cl_sent = sum(c["sent"] for c in cl["clients"])
cl_missing = cl_sent - s["totals"]["received"]
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
def d(i): return b1["stats"].get(str(i), 0) - b0["stats"].get(str(i), 0)
RATELIMIT, GLOBAL, NO_SESSION = 19, 20, 23
sent = fl["flood"]["sent"]
print(f"info flood sent {sent}, bucket drops {d(RATELIMIT)}, global drops {d(GLOBAL)}, "
      f"admitted {d(NO_SESSION)}, veth drops {veth} ({cl_missing} of the clients')")
check("flood: bucket + global drops + admitted + its veth drops = flood sent",
      sent, d(RATELIMIT) + d(GLOBAL) + d(NO_SESSION) + veth - cl_missing)
check("flood: the clients lost only what the veth dropped", True,
      0 <= cl_missing <= veth)
# Each admitted ClientHello (no cookie) is answered with one
# HelloVerifyRequest; so was each established client's first ClientHello
# (no retransmits: checked below). loadgen may stop reading before the
# last replies arrive, so its count is only a bound.
ncl = len(cl["clients"])
check("flood: collector's cookie_sent = admitted + the clients' first hellos",
      d(NO_SESSION) + ncl, s["dtls"]["cookie_sent"])
check("flood: HelloVerifyRequests loadgen got back <= admitted", True,
      fl["flood"]["replies"] <= d(NO_SESSION))
check("flood: dropped in XDP (> 0)", True, d(RATELIMIT) + d(GLOBAL) > 0)
check("flood: the global limit dropped some (> 0)", True, d(GLOBAL) > 0)
# The global bucket (burst 100, 500/s) bounds what can be admitted while
# the flood ran (its elapsed time, plus slack for the snapshots around it).
bound = 100 + 500 * (fl["flood"]["elapsed_s"] + 0.5)
check(f"flood: admitted within the global bucket (<= {bound:.0f})", True, d(NO_SESSION) <= bound)
check("flood: sent something", True, sent > 5000)
check("flood: established clients' handshakes before the flood",
      0, sum(c["handshake_retransmits"] for c in cl["clients"]))
tot = cl["totals"]["sent"]
check("flood: established clients received = sent - veth losses", tot - cl_missing,
      s["totals"]["received"])
check("flood: established clients lost = veth losses", cl_missing, s["totals"]["lost"])
sc = {c["client_id"]: c["received"] + c["lost"] for c in s["clients"]}
check("flood: per client received + lost = sent",
      {c["client_id"]: c["sent"] for c in cl["clients"]}, sc)
xc = {c["client_id"]: c["packets"] for c in s["xdp_clients"]}
check("flood: per client XDP packets = received + close_notify",
      {c["client_id"]: c["received"] + 1 for c in s["clients"]}, xc)
check("flood: no socket overflow", 0, s["drops"]["rxq_ovfl"])
PY
tally "$work/flood.check"

# ---- 4. --afxdp delivers exactly what was sent ----
for mode in plain dtls; do
	pins="$XTEL_BPFFS/afxdp-$mode"
	rm -rf "$pins"
	extra=()
	lgx=(--mode "$mode")
	if [ "$mode" = dtls ]; then extra=("${DTLS[@]}"); lgx+=(--certs "$certs"); fi
	start_collector "afxdp-$mode" --mode "$mode" --iface "$XTEL_COL_IF" --afxdp \
		--pin-dir "$pins" --workers 1 --quiet \
		--summary-json "$work/afxdp-$mode.json" "${extra[@]}" || { fail "afxdp $mode: start"; continue; }
	check "afxdp $mode: AF_XDP in use" grep -q "AF_XDP" "$work/afxdp-$mode.err"
	in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" "${lgx[@]}" --clients 4 \
		--count 5000 --rate 50000 --quiet --report-json "$work/afxdp-$mode-lg.json" \
		>"$work/afxdp-$mode-lg.out" 2>&1
	check_eq "afxdp $mode: loadgen exit code" 0 "$?"
	sleep 0.3
	stop_collector TERM
	check_eq "afxdp $mode: collector exit code" 0 "$col_rc"
	python3 - "$work/afxdp-$mode.json" "$work/afxdp-$mode-lg.json" "$mode" \
		>"$work/afxdp-$mode.check" <<'PY'
import json, sys
s, g, mode = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"afxdp {mode}: {what}: expected {exp}, got {got}")
sent = g["totals"]["sent"]
st = s["xdp"]["stats"]
check("userspace received = sent", sent, s["totals"]["received"])
check("lost", 0, s["totals"]["lost"])
check("nothing passed to the kernel socket", 0, st["passed"]["packets"])
check("xsk_miss", 0, st["xsk_miss"]["packets"])
check("AF_XDP rx = redirected", st["redirected"]["packets"], s["afxdp"]["rx_packets"])
if mode == "plain":
    check("redirected = sent", sent, st["redirected"]["packets"])
    check("userspace rx_datagrams = sent", sent, s["counters"]["rx_datagrams"])
else:
    n = len(g["clients"])
    check("redirected = sent + close_notify + sessionless handshake datagrams",
          sent + n + st["no_session"]["packets"], st["redirected"]["packets"])
    check("handshakes", n, s["dtls"]["handshakes_ok"])
    check("DTLS replies sent by the AF_XDP path", True, s["counters"]["tx_datagrams"] > 0)
check("AF_XDP ring losses", 0, s["afxdp"]["rx_ring_full"] + s["afxdp"]["rx_dropped"])
check("no drops", 0, s["dropped_total"])
PY
	tally "$work/afxdp-$mode.check"
done

# ---- 5. pinned counters survive a restart ----
pins="$XTEL_BPFFS/restart"
rm -rf "$pins"
for run in 1 2; do
	start_collector "restart$run" --mode plain --iface "$XTEL_COL_IF" --pin-dir "$pins" \
		--workers 1 --quiet --summary-json "$work/restart$run.json" || exit 1
	in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 2 \
		--count $((run * 1000)) --rate 20000 --quiet \
		--report-json "$work/restart$run-lg.json" >/dev/null 2>&1
	check_eq "restart run $run: loadgen exit code" 0 "$?"
	sleep 0.3
	stop_collector TERM
	check_eq "restart run $run: collector exit code" 0 "$col_rc"
done
python3 - "$work"/restart1.json "$work"/restart2.json "$work"/restart1-lg.json \
	"$work"/restart2-lg.json >"$work/restart.check" <<'PY'
import json, sys
s1, s2, g1, g2 = (json.load(open(p)) for p in sys.argv[1:5])
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"restart: {what}: expected {exp}, got {got}")
sent = {}
for g in (g1, g2):
    for c in g["clients"]:
        sent[c["client_id"]] = sent.get(c["client_id"], 0) + c["sent"]
check("XDP per-client packets accumulate over both runs", sent,
      {c["client_id"]: c["packets"] for c in s2["xdp_clients"]})
check("XDP passed accumulates", g1["totals"]["sent"] + g2["totals"]["sent"],
      s2["xdp"]["stats"]["passed"]["packets"])
check("second run's userspace totals are its own", g2["totals"]["sent"],
      s2["totals"]["received"])
PY
tally "$work/restart.check"
check "restart: program detached after exit" \
	bash -c "! ip netns exec $XTEL_NS_COL ip link show $XTEL_COL_IF | grep -q 'xdp'"

# ---- 5b. after SIGKILL the program stays; --detach removes it ----
# A killed collector cannot detach: the program keeps passing the port's
# traffic to a closed socket until --detach (docs/COLLECTOR.md, exit codes).
pins="$XTEL_BPFFS/kill"
rm -rf "$pins"
xdp_on() { ip netns exec "$XTEL_NS_COL" ip link show "$XTEL_COL_IF" | grep -q 'xdp'; }
start_collector kill --mode plain --iface "$XTEL_COL_IF" --pin-dir "$pins" \
	--workers 1 --quiet || exit 1
out=$(in_col "$collector" --detach "$XTEL_COL_IF" 2>&1); rc=$?
check_eq "detach: refused while a collector runs (exit 1)" 1 "$rc"
check "detach: says a collector drives it" grep -q "another xtel process drives" <<<"$out"
check "detach: the running collector's program is still attached" xdp_on
stop_collector KILL
check "detach: the program stays attached after SIGKILL" xdp_on
out=$(in_col "$collector" --detach "$XTEL_COL_IF" 2>&1); rc=$?
check_eq "detach: exit code" 0 "$rc"
check "detach: says it detached" grep -q "^collector: detached the XDP program from $XTEL_COL_IF" <<<"$out"
check "detach: no program left" bash -c "! ip netns exec $XTEL_NS_COL ip link show $XTEL_COL_IF | grep -q 'xdp'"
check "detach: the pinned counters stay" test -e "$pins/xtel_stats"
out=$(in_col "$collector" --detach "$XTEL_COL_IF" 2>&1); rc=$?
check_eq "detach again: nothing to do, exit code" 0 "$rc"
check "detach again: says none is attached" grep -q "no xtel XDP program is attached to $XTEL_COL_IF" <<<"$out"
out=$(in_col "$collector" --detach xtel-nosuch 2>&1); rc=$?
check_eq "detach: unknown interface, exit code" 6 "$rc"

# ---- 6. --allow excludes the generator ----
pins="$XTEL_BPFFS/allow"
rm -rf "$pins"
start_collector allow --mode plain --iface "$XTEL_COL_IF" --pin-dir "$pins" \
	--allow 198.18.0.128/25 --allow 2001:2:0:5::/64 --workers 1 --quiet \
	--summary-json "$work/allow.json" || exit 1
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 3 \
	--count 1000 --rate 20000 --quiet --report-json "$work/allow-lg.json" >/dev/null 2>&1
check_eq "allow: loadgen exit code" 0 "$?"
sleep 0.3
stop_collector TERM
check_eq "allow: collector exit code" 0 "$col_rc"
python3 - "$work/allow.json" "$work/allow-lg.json" >"$work/allow.check" <<'PY'
import json, sys
s, g = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"allow: {what}: expected {exp}, got {got}")
st = s["xdp"]["stats"]
check("all dropped as not_allowed", g["totals"]["sent"], st["drop_not_allowed"]["packets"])
check("passed", 0, st["passed"]["packets"])
check("userspace rx_datagrams", 0, s["counters"]["rx_datagrams"])
check("userspace clients", 0, s["totals"]["clients"])
check("allowlist on in the xdp object", True, s["xdp"]["allowlist"])
PY
tally "$work/allow.check"

# ---- 7. the maps follow --max-clients and --max-sessions ----
# An entry per client and per DTLS session of every worker: 100,000
# clients and 2 x 40,000 sessions, above the built-in 65,536; a restart with
# the defaults finds pins of another size and replaces them.
pins="$XTEL_BPFFS/sized"
rm -rf "$pins"
map_entries() { bpftool -j map show pinned "$pins/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_entries"])'; }
start_collector sized --mode dtls --iface "$XTEL_COL_IF" --pin-dir "$pins" --workers 2 \
	--quiet --max-clients 100000 --max-sessions 40000 "${DTLS[@]}" || exit 1
check_eq "sized: xtel_clients entries = --max-clients" 100000 "$(map_entries xtel_clients)"
check_eq "sized: xtel_peers entries = 2 workers x --max-sessions" 80000 "$(map_entries xtel_peers)"
stop_collector TERM
check_eq "sized: collector exit code" 0 "$col_rc"
start_collector sized2 --mode dtls --iface "$XTEL_COL_IF" --pin-dir "$pins" --workers 2 \
	"${DTLS[@]}" || exit 1
check_eq "sized: the defaults' xtel_clients" 65536 "$(map_entries xtel_clients)"
check_eq "sized: the defaults' xtel_peers" 65536 "$(map_entries xtel_peers)"
check "sized: the pins of another size were replaced, with a warning" \
	grep -q "xdp: replacing stale pinned map $pins/xtel_clients" "$work/sized2.err"
stop_collector TERM
check_eq "sized: second collector exit code" 0 "$col_rc"
rm -rf "$pins"

finish
