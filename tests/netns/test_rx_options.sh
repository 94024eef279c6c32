#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: the collector's receive-path options (issue 16,
# docs/CAPACITY.md "Receive-path options") keep the accounting exact.
#  1. XDP attached (veth gets a NAPI), io_uring NAPI busy polling with
#     prefer, SO_BUSY_POLL, a small completion batch and a small buffer ring
#     (so it runs dry and is re-armed): loadgen with injected loss,
#     duplicates and reordering; received/lost/duplicates/reordered equal
#     the loadgen's report in total and per client, the summary names the
#     ring mode "+napi_prefer", and the small ring was re-armed.
#  2. The same in --rx-wait 0 mode (busy batching) with --rx-batch 1 and
#     NAPI without prefer, --no-xdp (no NAPI on the veth: nothing to poll,
#     still exact).
#  3. The kernel refuses both (a seccomp filter, tests/netns/refuse.c, gives
#     the errnos of an older kernel): one line each, ring mode without
#     "napi", the accounting exact as without the options.
#  4. A bad value is refused with the option's range (exit 2).
#  5. DTLS past the batch prefetch's threshold (4,096 sessions a worker):
#     4,200 devices on one worker send in fleet order (--batch 1, every
#     record from another session); every record is accounted exactly, and
#     every record's completion was handled with the prefetch
#     (rx_prefetched); with --rx-prefetch 0 none was, and the counts are
#     the same. Then through AF_XDP (--afxdp, its RX ring the batch): exact,
#     every record with the prefetch, no ring loss.
#
# usage: test_rx_options.sh SOURCE_ROOT COLLECTOR LOADGEN REFUSE
# (XTEL_CERTGEN, if set, makes case 5's 4,200 certificates in one process.)
set -uo pipefail
top=${1:?usage: test_rx_options.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
refuse=${4:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"
port=7700

testbed_up

# exact NAME MODE: the collector summary NAME.json against loadgen's
# NAME-lg.json; MODE is the io_uring mode the summary must report.
exact() {
	python3 - "$work/$1.json" "$work/$1-lg.json" "$1" "$2" >"$work/$1.check" <<'PY'
import json, sys
s, g = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
name, mode = sys.argv[3], sys.argv[4]
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{name}: {what}: expected {exp}, got {got}")
def expect(r):
    return {"received": r["sent"], "lost": r["injected_loss"],
            "duplicates": r["injected_dup"],
            "reordered": r["reorder_held"] - r["reorder_in_order"]}
e = expect(g["totals"])
for k in ("received", "lost", "duplicates", "reordered"):
    check(f"totals.{k} = loadgen", e[k], s["totals"][k])
gc = {c["client_id"]: expect(c) for c in g["clients"]}
sc = {c["client_id"]: c for c in s["clients"]}
bad = [(i, k, gc[i][k], sc.get(i, {}).get(k)) for i in gc
       for k in ("received", "lost", "duplicates", "reordered")
       if gc[i][k] != sc.get(i, {}).get(k)]
check("per-client counts = loadgen", [], bad[:5])
check("no drops", 0, s["dropped_total"])
check("io_uring mode", mode, s["io_uring_mode"])
print(f"info {name}: enobufs {s['counters']['enobufs']}, rearms {s['counters']['rearms']}, "
      f"cqe_batches {s['counters']['cqe_batches']}")
PY
	tally "$work/$1.check"
}

# send NAME CLIENTS COUNT RATE SEED: loadgen with injected faults.
send() {
	in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients "$2" \
		--threads 2 --count "$3" --rate "$4" --loss 0.02 --dup 0.01 \
		--reorder 0.02 --seed "$5" --quiet --report-json "$work/$1-lg.json" \
		>"$work/$1-lg.out" 2>&1
	check_eq "$1: loadgen exit code" 0 "$?"
}

# ---- 1. XDP + NAPI busy polling (prefer) + SO_BUSY_POLL + small ring ----
start_collector napi --mode plain --iface "$XTEL_COL_IF" --pin-dir "$XTEL_BPFFS/rxopt" \
	--workers 1 --quiet --rx-napi 50 --rx-napi-prefer --busy-poll 50 \
	--rx-batch 16 --rx-buffers 64 --summary-json "$work/napi.json" || exit 1
send napi 16 5000 100000 5
sleep 0.3
stop_collector TERM
check_eq "napi: collector exit code" 0 "$col_rc"
exact napi single_issuer+defer_taskrun+napi_prefer
check "napi: the 64-buffer ring ran dry and was re-armed" \
	python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["counters"]["rearms"] < 1)' \
	"$work/napi.json"
rm -rf "$XTEL_BPFFS/rxopt"

# ---- 2. busy batching, one completion per wait, NAPI without a NAPI ----
start_collector busy --mode plain --no-xdp --workers 2 --quiet --rx-wait 0 \
	--rx-batch 1 --rx-napi 20 --summary-json "$work/busy.json" || exit 1
send busy 8 5000 50000 9
sleep 0.3
stop_collector TERM
check_eq "busy: collector exit code" 0 "$col_rc"
exact busy single_issuer+defer_taskrun+napi

# ---- 3. the kernel refuses both (refuse: a seccomp filter) ----
# As a kernel older than 6.9 (IORING_REGISTER_NAPI: EINVAL) or one without
# CONFIG_NET_RX_BUSY_POLL (SO_BUSY_POLL: ENOPROTOOPT) does: one line says
# so, the ring mode names no NAPI, and the accounting stays exact.
real_collector=$collector
collector=$refuse
start_collector refused --busy-poll --napi -- "$real_collector" --mode plain --no-xdp \
	--workers 1 --quiet --rx-napi 50 --busy-poll 50 \
	--summary-json "$work/refused.json" || exit 1
collector=$real_collector
send refused 4 2000 20000 13
sleep 0.3
stop_collector TERM
check_eq "refused: collector exit code" 0 "$col_rc"
check "refused: says the kernel refused IORING_REGISTER_NAPI" \
	grep -q -- "--rx-napi: kernel refused IORING_REGISTER_NAPI (Invalid argument;" "$work/refused.err"
check "refused: says SO_BUSY_POLL was refused" \
	grep -q -- "--busy-poll: SO_BUSY_POLL refused (Protocol not available)" "$work/refused.err"
exact refused single_issuer+defer_taskrun

# ---- 4. ranges ----
for bad in "--rx-napi 10001" "--busy-poll 10001" "--rx-batch 32769" \
	"--rx-prefetch 65"; do
	# shellcheck disable=SC2086
	"$collector" --mode plain --no-xdp $bad >/dev/null 2>"$work/bad.err"
	check_eq "refused: $bad exit code" 2 "$?"
	check "refused: $bad names the range" grep -q "for ${bad%% *} (valid: 0 or 1\.\." "$work/bad.err"
done

# ---- 5. DTLS in fleet order past the batch prefetch's threshold ----
fleet=4200
certs=$work/certs
"$top/certs/gen.sh" "$certs" "$fleet" >/dev/null 2>&1 || fail "certs/gen.sh $fleet"
# fleet NAME PREFETCH RATE [RECEIVER OPTION...]: one worker, $fleet devices
# x 3 records, interleaved (RATE 0: as fast as the sender goes).
fleet() {
	local name=$1 pf=$2 rate=$3
	shift 3
	start_collector "$name" --workers 1 --quiet --max-sessions 5000 \
		--rx-prefetch "$pf" --cert "$certs/server.crt" --key "$certs/server.key" \
		--ca "$certs/ca.crt" --summary-json "$work/$name.json" "$@" || return 1
	in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
		--clients "$fleet" --count 3 --batch 1 --rate "$rate" --handshake-timeout 60 \
		--quiet --report-json "$work/$name-lg.json" >"$work/$name-lg.out" 2>&1
	check_eq "$name: loadgen exit code" 0 "$?"
	sleep 0.3
	stop_collector TERM
	check_eq "$name: collector exit code" 0 "$col_rc"
	exact "$name" single_issuer+defer_taskrun
}
fleet fleetpf 2 0 --no-xdp
fleet fleetnopf 0 0 --no-xdp
rm -rf "$XTEL_BPFFS/rxopt-afxdp"
# AF_XDP: a ring of 65,536 frames and a bounded rate, so nothing overflows it
fleet fleetax 2 200000 --iface "$XTEL_COL_IF" --afxdp --afxdp-frames 65536 \
	--pin-dir "$XTEL_BPFFS/rxopt-afxdp"
rm -rf "$XTEL_BPFFS/rxopt-afxdp"
python3 - "$work/fleetpf.json" "$work/fleetnopf.json" "$work/fleetax.json" "$fleet" \
	>"$work/fleet.check" <<'PY'
import json, sys
on, off = (json.load(open(p))["counters"] for p in sys.argv[1:3])
ax = json.load(open(sys.argv[3]))
n = int(sys.argv[4])
def check(what, ok, got):
    print(("ok   " if ok else "FAIL ") + f"fleet: {what} (got {got})")
# INIT, 3 DATA and BYE a device, all sent once every handshake is done.
check(f"--rx-prefetch 2: every record ({5 * n}) with the prefetch",
      5 * n <= on["rx_prefetched"] <= on["cqe_batches"] * 256, on["rx_prefetched"])
check("--rx-prefetch 0: none", off["rx_prefetched"] == 0, off["rx_prefetched"])
check("every record accepted either way", on["accepted"] == off["accepted"] == 5 * n,
      (on["accepted"], off["accepted"]))
axc, axr = ax["counters"], ax["afxdp"]
check("AF_XDP in use", axr is not False and axr["rx_packets"] > 5 * n, axr)
check(f"AF_XDP: every record ({5 * n}) with the prefetch",
      axr and 5 * n <= axc["rx_prefetched"] <= axr["rx_packets"], axc["rx_prefetched"])
check("AF_XDP: every record accepted", axc["accepted"] == 5 * n, axc["accepted"])
check("AF_XDP: no ring loss", axr and axr["rx_ring_full"] + axr["rx_dropped"] == 0, axr)
PY
tally "$work/fleet.check"

finish
