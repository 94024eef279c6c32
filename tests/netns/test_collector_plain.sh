#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: the collector in plain mode on the testbed.
#  1. Crafted streams over IPv4 and IPv6 with known loss, duplicates and
#     reordering, plus every decoder reject reason and an oversize datagram:
#     the summary JSON has exactly the expected totals, every drop reason
#     (zeros included) with its exact count, no trace of the rejected
#     datagrams among the clients, and one CSV row per received datagram.
#  2. The load generator (loss/dup/reorder injected from a seed): received,
#     lost, duplicates and reordered equal the loadgen's own report, in
#     total and per client.
#  3. SIGTERM while the load generator is still sending: clean exit, CSV
#     data rows == totals.received, nothing dropped from the CSV ring.
#  4. --duration stops the collector by itself with exit code 0.
#  5. SIGTERM with datagrams still queued on the sockets (the collector is
#     stopped with SIGSTOP while loadgen sends): they are read after the
#     stop (counted as drained) and accounted: received == sent exactly.
#
# usage: test_collector_plain.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_collector_plain.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"
send="$here/test_collector_send.py"
port=7700

testbed_up

csv_rows() { echo $(($(wc -l <"$1") - 1)); }

# ---- 1. crafted streams and every reject reason ----
start_collector crafted --mode plain --no-xdp --workers 2 --quiet \
	--summary-json "$work/crafted.json" --csv "$work/crafted.csv" || exit 1
in_gen python3 "$send" stream "$XTEL_COL_IP4" $port 1 4 3000 >"$work/exp4.json"
in_gen python3 "$send" stream "$XTEL_COL_IP6" $port 101 2 2000 >"$work/exp6.json"
in_gen python3 "$send" reasons "$XTEL_COL_IP4" $port >"$work/reasons.json"
sleep 0.5
stop_collector TERM
check_eq "crafted: exit code after SIGTERM" 0 "$col_rc"

python3 - "$work/crafted.json" "$work/exp4.json" "$work/exp6.json" \
	"$work/reasons.json" >"$work/crafted.check" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
e4, e6 = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
reasons = json.load(open(sys.argv[4]))
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
for k in ("received", "lost", "duplicates", "reordered"):
    check(f"totals.{k}", e4[k] + e6[k], s["totals"][k])
check("clients (4 IPv4 + 2 IPv6)", [1, 2, 3, 4, 101, 102],
      [c["client_id"] for c in s["clients"]])
all_reasons = ["truncated", "bad_magic", "bad_version", "unknown_type",
               "bad_flags", "payload_too_large", "length_mismatch",
               "malformed_metric", "bad_key", "bad_value", "too_many_metrics",
               "duplicate_key", "oversize", "client_id_mismatch",
               "registry_full", "rxq_ovfl", "dtls_failed_unknown_ca",
               "dtls_failed_expired", "dtls_failed_no_cert",
               "dtls_failed_revoked", "dtls_failed_denied",
               "dtls_failed_key_usage", "dtls_failed_bad_cn",
               "dtls_failed_no_ems", "dtls_failed_other", "dtls_failed_device",
               "dtls_renegotiation_refused",
               "dtls_handshake_timeout", "dtls_bad_cookie", "dtls_bad_hello",
               "dtls_half_open_full", "dtls_sessions_full",
               "dtls_unknown_peer", "dtls_bad_record", "dtls_replay",
               "dtls_malformed", "dtls_half_open_source_full",
               "dtls_oversize", "dtls_restart_other_id", "dtls_cookie_replay",
               "dtls_hs_msg_too_long", "dtls_hs_msg_seq_ahead",
               "dtls_hs_epoch1_early", "dtls_hs_epoch1_full",
               "dtls_hs_record_type", "dtls_hs_plain_alert",
               "device_disabled", "device_unknown"]
check("every drop reason present", sorted(all_reasons), sorted(s["drops"]))
for r in all_reasons:
    check(f"drops.{r}", reasons.get(r, 0), s["drops"].get(r))
check("dropped_total", sum(reasons.values()), s["dropped_total"])
check("rx_datagrams = accepted + dropped",
      s["counters"]["accepted"] + s["dropped_total"], s["counters"]["rx_datagrams"])
check("client 999 (rejects only) absent", False,
      any(c["client_id"] == 999 for c in s["clients"]))
c1 = s["clients"][0]
check("client 1 metric keys", ["cpu", "temp"], sorted(c1["metrics"]))
check("client 1 temp last", 1.5, c1["metrics"]["temp"]["last"])
check("client 1 latency p50 > 0", True, c1["latency_us"]["p50"] > 0)
check("client 1 state", "bye", c1["state"])
check("csv rows in JSON = totals.received", s["totals"]["received"], s["csv"]["rows"])
check("csv dropped", 0, s["csv"]["dropped"])
PY
cat "$work/crafted.check"
passes=$((passes + $(grep -c '^ok' "$work/crafted.check")))
fails=$((fails + $(grep -c '^FAIL' "$work/crafted.check")))
check_eq "crafted: CSV data rows = totals.received" \
	"$(json_get "$work/crafted.json" 'd["totals"]["received"]')" \
	"$(csv_rows "$work/crafted.csv")"
check_eq "crafted: CSV header" \
	"client_id,seq,send_ts_ns,type,metrics,duplicate,gap,verdict,arrival_ns,latency_ns" \
	"$(head -1 "$work/crafted.csv")"
check_eq "crafted: CSV duplicate rows = totals.duplicates" \
	"$(json_get "$work/crafted.json" 'd["totals"]["duplicates"]')" \
	"$(awk -F, 'NR > 1 && $6 == 1' "$work/crafted.csv" | wc -l)"

# ---- 2. loadgen with injected faults: exact agreement ----
start_collector loadgen --mode plain --no-xdp --workers 2 --quiet \
	--summary-json "$work/lg-col.json" || exit 1
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 16 \
	--threads 2 --count 20000 --rate 100000 --loss 0.02 --dup 0.01 \
	--reorder 0.02 --seed 7 --quiet --report-json "$work/lg4.json" \
	>"$work/lg4.out" 2>&1
check_eq "loadgen IPv4: exit code" 0 "$?"
in_gen "$loadgen" --target "[$XTEL_COL_IP6]:$port" --mode plain --clients 4 \
	--first-id 101 --count 10000 --rate 40000 --loss 0.05 --dup 0.02 \
	--reorder 0.05 --reorder-depth 20 --seed 11 --quiet \
	--report-json "$work/lg6.json" >"$work/lg6.out" 2>&1
check_eq "loadgen IPv6: exit code" 0 "$?"
sleep 0.3
stop_collector TERM
check_eq "loadgen: collector exit code" 0 "$col_rc"
python3 - "$work/lg-col.json" "$work/lg4.json" "$work/lg6.json" >"$work/lg.check" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
g4, g6 = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
# What the collector must see, from what the loadgen says it did: every
# datagram sent is received; skipped sequence numbers are lost; doubled ones
# are duplicates; held-back ones are reordered unless nothing overtook them.
def expect(r):
    return {"received": r["sent"], "lost": r["injected_loss"],
            "duplicates": r["injected_dup"],
            "reordered": r["reorder_held"] - r["reorder_in_order"]}
e4, e6 = expect(g4["totals"]), expect(g6["totals"])
gt = {k: e4[k] + e6[k] for k in e4}
for k in ("received", "lost", "duplicates", "reordered"):
    check(f"totals.{k} = loadgen", gt[k], s["totals"][k])
gc = {c["client_id"]: expect(c) for c in g4["clients"] + g6["clients"]}
sc = {c["client_id"]: c for c in s["clients"]}
check("client ids = loadgen", sorted(gc), sorted(sc))
bad = [(i, k, gc[i][k], sc.get(i, {}).get(k)) for i in gc
       for k in ("received", "lost", "duplicates", "reordered")
       if gc[i][k] != sc.get(i, {}).get(k)]
check("per-client received/lost/duplicates/reordered = loadgen", [], bad[:5])
check("loadgen injected some of each fault", True,
      min(gt["lost"], gt["duplicates"], gt["reordered"]) > 0)
check("no drops", 0, s["dropped_total"])
PY
cat "$work/lg.check"
passes=$((passes + $(grep -c '^ok' "$work/lg.check")))
fails=$((fails + $(grep -c '^FAIL' "$work/lg.check")))

# ---- 3. SIGTERM under load ----
start_collector sigterm --mode plain --no-xdp --workers 2 --quiet \
	--summary-json "$work/term.json" --csv "$work/term.csv" || exit 1
# Not through in_gen: $! must be the process (timeout forwards the signal).
ip netns exec "$XTEL_NS_GEN" timeout 20 "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain \
	--clients 8 --count 2000000 --rate 200000 --quiet >/dev/null 2>&1 &
lg_pid=$!
sleep 1.5
stop_collector TERM
kill -TERM "$lg_pid" 2>/dev/null
wait "$lg_pid" 2>/dev/null
check_eq "sigterm: collector exit code" 0 "$col_rc"
received=$(json_get "$work/term.json" 'd["totals"]["received"]')
check "sigterm: received traffic before the signal" test "$received" -gt 100000
check_eq "sigterm: CSV data rows = totals.received" "$received" "$(csv_rows "$work/term.csv")"
check_eq "sigterm: csv dropped" 0 "$(json_get "$work/term.json" 'd["csv"]["dropped"]')"
check_eq "sigterm: stop reason" "signal SIGTERM" "$(json_get "$work/term.json" 'd["stop_reason"]')"

# ---- 4. --duration ----
start_collector duration --mode plain --no-xdp --workers 1 --duration 1 \
	--interval 0.2 --summary-json "$work/dur.json" || exit 1
wait_collector
check_eq "duration: exit code" 0 "$col_rc"
check_eq "duration: stop reason" duration "$(json_get "$work/dur.json" 'd["stop_reason"]')"
check "duration: periodic table printed" grep -q "clients 0 (live 0, stale 0, bye 0)" "$work/duration.out"

# ---- 5. SIGTERM drains what is queued on the sockets ----
start_collector drain --mode plain --no-xdp --workers 2 --quiet \
	--summary-json "$work/drain.json" || exit 1
kill -STOP "$col_pid"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 8 \
	--count 1000 --rate 0 --quiet --report-json "$work/drain-lg.json" >/dev/null 2>&1
check_eq "drain: loadgen exit code" 0 "$?"
kill -TERM "$col_pid"
kill -CONT "$col_pid"
wait "$col_pid"
col_rc=$?
col_pid=
check_eq "drain: collector exit code" 0 "$col_rc"
python3 - "$work/drain.json" "$work/drain-lg.json" >"$work/drain.check" <<'PY'
import json, sys
s, g = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"drain: {what}: expected {exp}, got {got}")
sent = g["totals"]["sent"]
check("received = sent (queued datagrams read after the stop)", sent, s["totals"]["received"])
# How many of them the stop's drain read, rather than the workers' normal
# loop, depends on which thread the scheduler runs first after SIGCONT
# (with --rx-wait a worker whose wait already expired reads them at once):
# not asserted, only bounded and shown.
check("drained after the stop <= sent", True, 0 <= s["counters"]["drained"] <= sent)
print(f"info drain: {s['counters']['drained']} of {sent} read by the stop's drain")
check("drain not cut", 0, s["counters"]["drain_cut"])
check("no socket overflow", 0, s["drops"]["rxq_ovfl"])
PY
cat "$work/drain.check"
passes=$((passes + $(grep -c '^ok' "$work/drain.check")))
fails=$((fails + $(grep -c '^FAIL' "$work/drain.check")))

finish
