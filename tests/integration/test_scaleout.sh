#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# integration tier: edge collectors -> NATS JetStream -> aggregators
# (docs/SCALE-OUT.md), for real. In the collector namespace of the testbed:
# a 3-node JetStream cluster of Debian's nats-server (R3 stream), three
# edge collectors (e1 and e2 of site siteA, e3 of siteB; e3's client ids
# are e1's, so the site keeps them apart) and two aggregators sharing the
# stream by subject (aggA: xtel.rollup.siteA.>, aggB: xtel.rollup.siteB.>).
# Load generators in the generator namespace send with injected loss,
# duplicates and reordering while the faults happen, in this order:
#   1. SIGKILL of one NATS node, restarted after 5 s;
#   2. edge e2 restarted (SIGTERM, a new run of the same edge);
#   3. every NATS node stopped (SIGKILL) for 10 s, then started again;
#      meanwhile a fourth edge (e4, siteB, 4 KiB memory backlog) starts,
#      receives, spills to disk and exits; its next run sends the files;
#   4. aggregator aggA SIGKILLed and restarted on its checkpoint;
#   5. aggregator aggB dies right after a checkpoint commit, before its
#      acks (XTEL_AGG_TEST_EXIT_AFTER_COMMIT), and is restarted.
# Then, exactly: each aggregator's site totals and per-client counters,
# latency counts and metric counts equal the sums of its edges' summary
# JSONs and of the load generators' reports (quantiles equal bucket for
# bucket where one edge run saw the client); the stream holds each rollup
# message once (Nats-Msg-Id dedup); every edge's messages were all acked
# (none dropped, none unsent) and its counters show the outage (a
# disconnect, a backlog); aggB's restart skipped the redelivered batch.
#
# SCALEOUT_LONG=1 runs the same with 60 s of load instead of 30 s.
# usage: test_scaleout.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_scaleout.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../netns/test_collector_lib.sh
. "$top/tests/netns/test_collector_lib.sh"
# shellcheck source=../lib/nats_cluster.sh
. "$top/tests/lib/nats_cluster.sh"
checks="$here/scaleout_checks.py"
command -v nats-server >/dev/null || { echo "FAIL nats-server not installed: run scripts/deps.sh"; exit 1; }

load_s=30
[ "${SCALEOUT_LONG:-0}" = 1 ] && load_s=60
base=19500			# NATS 19500-19522 (lib), HTTP 19540-41, UDP 19550-53
aggA_http=127.0.0.1:19540
aggB_http=127.0.0.1:19541
declare -A pid=()
lg_pids=()

so_cleanup() {
	local p
	for p in "${lg_pids[@]}" "${pid[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	nats_down
	lib_cleanup
}
trap so_cleanup EXIT

in_colns() { ip netns exec "$XTEL_NS_COL" "$@"; }

# wait_line FILE TEXT: until a line of FILE has TEXT (10 s at most)
wait_line() {
	for _ in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# start_edge NAME SITE PORT [RUN [ARGS...]]
start_edge() {
	local name=$1 site=$2 port=$3 run=${4:-1}
	shift $(($# < 4 ? $# : 4))
	# not through a shell function: $! must be the collector itself
	ip netns exec "$XTEL_NS_COL" "$collector" --mode plain --no-xdp --bind "$XTEL_COL_IP4" \
		--port "$port" --workers 2 --quiet --interval 0.5 --stale-after 30 \
		--export "$urls" --site "$site" --edge "$name" --export-max-wait 2000 \
		--export-drain 30 --summary-json "$work/$name.$run.json" "$@" \
		>"$work/$name.$run.out" 2>"$work/$name.$run.err" &
	pid[$name]=$!
	wait_line "$work/$name.$run.err" "plain mode, " && return 0
	fail "edge $name did not start"; cat "$work/$name.$run.err"
	return 1
}

# start_agg NAME HTTP FILTER [ENV...]
start_agg() {
	local name=$1 http=$2 filter=$3; shift 3
	ip netns exec "$XTEL_NS_COL" env "$@" "$collector" --aggregate "$urls" --agg-db "$work/$name.db" \
		--agg-durable "$name" --agg-filter "$filter" --agg-replicas 3 \
		--agg-ack-wait 2 --agg-batch 16 --http "$http" --http-rate 0 \
		--interval 0.25 --stale-after 30 >>"$work/$name.out" 2>>"$work/$name.err" &
	pid[$name]=$!
	wait_line "$work/$name.err" "aggregate: consumer $name" && return 0
	fail "aggregator $name did not bind its consumer"; cat "$work/$name.err"
	return 1
}

stop_pid() { # NAME SIGNAL -> rc in $?
	kill "-$2" "${pid[$1]}" 2>/dev/null
	wait "${pid[$1]}"
	local rc=$?
	unset "pid[$1]"
	return $rc
}

# loadgen NAME PORT FIRST_ID SEED SECONDS: in the background
loadgen_bg() {
	ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:$2" --mode plain --clients 4 \
		--first-id "$3" --rate 400 --duration "$5" --loss 0.02 --dup 0.01 \
		--reorder 0.02 --seed "$4" --quiet --report-json "$work/$1.json" \
		>"$work/$1.out" 2>&1 &
	lg_pids+=($!)
}

js_msgs() { # messages in the stream, from node I's monitoring port
	in_colns curl -sf "http://127.0.0.1:$((base + 19 + $1))/jsz?streams=true" |
		python3 -c 'import json,sys; d=json.load(sys.stdin)
print(sum(s["state"]["messages"] for a in d.get("account_details", [])
      for s in a.get("stream_detail", []) if s["name"] == "XTEL_ROLLUP"))'
}

testbed_up
nats_up "$work/nats" "$base" ip netns exec "$XTEL_NS_COL" || exit 1
urls=$(nats_urls)
ok "3-node JetStream cluster up"
start_agg aggA "$aggA_http" 'xtel.rollup.siteA.>' || exit 1
start_agg aggB "$aggB_http" 'xtel.rollup.siteB.>' XTEL_AGG_TEST_EXIT_AFTER_COMMIT=12 || exit 1
check "aggA created the R3 stream" grep -q "stream XTEL_ROLLUP created (R3)" "$work/aggA.err"
start_edge e1 siteA 19550 || exit 1
start_edge e2 siteA 19551 || exit 1
start_edge e3 siteB 19552 || exit 1

half=$((load_s / 3))
loadgen_bg lg1 19550 1 11 "$load_s"
loadgen_bg lg3 19552 1 33 "$load_s"
loadgen_bg lg2a 19551 101 21 "$half"
sleep 3

# 1. one node SIGKILLed
nats_kill 1 KILL
ok "NATS node n1 SIGKILLed"
sleep 5
nats_start 1

# 2. edge e2 restarted between its two load runs
wait "${lg_pids[2]}"
stop_pid e2 TERM
check_eq "edge e2 (first run) exit code" 0 "$?"
start_edge e2 siteA 19551 2 || exit 1
loadgen_bg lg2b 19551 101 22 "$half"

# 3. NATS stopped entirely for 10 s
sleep 1
for i in 1 2 3; do nats_kill "$i" KILL; done
ok "every NATS node SIGKILLed"
# An edge that starts while NATS is away, with a 4 KiB memory backlog and
# a spill directory: it spills, and at its exit (no drain) keeps the rest
# there; its next run finds the files and sends them once NATS is back.
spill=(--export-backlog 0.004 --export-spill "$work/spill")
start_edge e4 siteB 19553 1 "${spill[@]}" --export-drain 0 || exit 1
loadgen_bg lg4 19553 201 44 4
wait "${lg_pids[4]}"
sleep 1
stop_pid e4 TERM
check_eq "edge e4 (started and stopped while NATS was down) exit code" 0 "$?"
sleep 4
for i in 1 2 3; do nats_start "$i"; done
nats_wait_js && ok "NATS back, JetStream leader elected"
start_edge e4 siteB 19553 2 "${spill[@]}" || exit 1
check "e4's second run found the first run's spill files" \
	grep -q "unacknowledged messages of an earlier run found" "$work/e4.2.err"

# 4. aggregator aggA SIGKILLed mid-run and restarted
sleep 2
stop_pid aggA KILL
ok "aggA SIGKILLed"
sleep 1
start_agg aggA "$aggA_http" 'xtel.rollup.siteA.>' || exit 1

# 5. aggB died after a commit, before its acks: restart it (no hook)
# (bounded: e3 keeps publishing, so the 12th commit comes; 60 s at most)
for _ in $(seq 600); do kill -0 "${pid[aggB]}" 2>/dev/null || break; sleep 0.1; done
if kill -0 "${pid[aggB]}" 2>/dev/null; then
	fail "aggB did not reach its 12th commit in 60 s"
	stop_pid aggB KILL
else
	wait "${pid[aggB]}"
	check_eq "aggB exited by the test hook" 9 "$?"
	unset "pid[aggB]"
fi
check "aggB: the hook fired after a commit" grep -q "exiting before the acks" "$work/aggB.err"
start_agg aggB "$aggB_http" 'xtel.rollup.siteB.>' || exit 1

for p in "${lg_pids[@]}"; do wait "$p"; done
lg_pids=()
for e in e1 e2 e3 e4; do
	stop_pid "$e" TERM
	check_eq "edge $e exit code" 0 "$?"
done

want() { # SITE FILES...: the received sum of the summary JSONs
	python3 -c 'import json,sys; print(sum(json.load(open(f))["totals"]["received"] for f in sys.argv[1:]))' "$@"
}
in_colns python3 "$checks" wait "http://$aggA_http" siteA \
	"$(want "$work/e1.1.json" "$work/e2.1.json" "$work/e2.2.json")" 60 || fail "aggA caught up"
in_colns python3 "$checks" wait "http://$aggB_http" siteB \
	"$(want "$work/e3.1.json" "$work/e4.1.json" "$work/e4.2.json")" 60 ||
	fail "aggB caught up"
sleep 1		# one more view, after the last checkpoint

in_colns python3 "$checks" exact "http://$aggA_http" siteA \
	"$work/e1.1.json,$work/e2.1.json,$work/e2.2.json" \
	"$work/lg1.json,$work/lg2a.json,$work/lg2b.json" >"$work/A.check" 2>&1
tally "$work/A.check"
in_colns python3 "$checks" exact "http://$aggB_http" siteB \
	"$work/e3.1.json,$work/e4.1.json,$work/e4.2.json" "$work/lg3.json,$work/lg4.json" >"$work/B.check" 2>&1
tally "$work/B.check"

# The edges' exporter counters say what happened, and add up.
for f in e1.1 e2.1 e2.2 e3.1 e4.1 e4.2; do
	x=$(json_get "$work/$f.json" 'd["export"]["messages"] + d["export"]["recovered"] - d["export"]["acked"] - d["export"]["backlog_dropped"] - d["export"]["unsent_at_exit"] - d["export"]["spill_kept_at_exit"]')
	check_eq "$f: messages + recovered = acked + dropped + unsent + kept" 0 "$x"
	check_eq "$f: no message dropped from the backlog" 0 \
		"$(json_get "$work/$f.json" 'd["export"]["backlog_dropped"]')"
	check_eq "$f: none unsent at exit" 0 "$(json_get "$work/$f.json" 'd["export"]["unsent_at_exit"]')"
done
for f in e1.1 e3.1; do
	check "$f: the outage is counted (disconnects >= 1)" \
		test "$(json_get "$work/$f.json" 'd["export"]["disconnects"]')" -ge 1
	check "$f: the backlog held the outage (peak >= 10 messages)" \
		test "$(json_get "$work/$f.json" 'd["export"]["backlog_peak_messages"]')" -ge 10
done
check "e4.1: the full memory backlog spilled to disk" \
	test "$(json_get "$work/e4.1.json" 'd["export"]["spilled"]')" -ge 1
kept=$(json_get "$work/e4.1.json" 'd["export"]["spill_kept_at_exit"]')
check_eq "e4.1: everything unsent at exit was kept on disk" \
	"$(json_get "$work/e4.1.json" 'd["export"]["messages"]')" "$kept"
check_eq "e4.2: recovered what e4.1 kept" "$kept" \
	"$(json_get "$work/e4.2.json" 'd["export"]["recovered"]')"
check_eq "e4: no spill error" 0 \
	"$(json_get "$work/e4.2.json" 'd["export"]["spill_errors"] + d["export"]["spill_kept_at_exit"]')"
check_eq "e4: the spill directory is empty at the end" "" "$(ls "$work/spill")"
sent=$(python3 -c 'import json,sys; print(sum(json.load(open(f))["export"]["messages"] for f in sys.argv[1:]))' \
	"$work"/e1.1.json "$work"/e2.1.json "$work"/e2.2.json "$work"/e3.1.json \
	"$work"/e4.1.json "$work"/e4.2.json)
check_eq "stream: every rollup message stored once (Nats-Msg-Id)" "$sent" "$(js_msgs 2)"

# The aggregators' own counters: the redelivered batch was skipped.
st=$(in_colns curl -sf "http://$aggB_http/api/v1/stats")
dupB=$(echo "$st" | python3 -c 'import json,sys; print(json.load(sys.stdin)["aggregate"]["duplicates"])')
check "aggB: the batch committed before the crash came back and was skipped (duplicates $dupB)" \
	test "$dupB" -ge 1
# Every edge message is in its run's ranges (none in the pruned per-id
# table): per aggregator at least one range per edge run of its site, at
# most one more per hole those runs made (views dropped, messages lost).
ranges_check() { # AGG HTTP SUMMARIES...
	local name=$1 url=$2
	shift 2
	in_colns curl -sf "http://$url/api/v1/stats" >"$work/$name.stats.json"
	python3 - "$name" "$work/$name.stats.json" "$@" >"$work/$name.ranges.check" <<'PY'
import json, sys
name = sys.argv[1]
a = json.load(open(sys.argv[2]))["aggregate"]
x = [json.load(open(f))["export"] for f in sys.argv[3:]]
runs, holes = len(x), sum(e["views_dropped"] + e["backlog_dropped"] for e in x)
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{name}: {what}: expected {exp}, got {got}")
check("no id in the per-id table", 0, a["applied_ids"])
check("no foreign message", 0, a["foreign_messages"])
check(f"{runs} edge runs, {runs}..{runs + holes} ranges", True,
      runs <= a["applied_ranges"] <= runs + holes)
PY
	tally "$work/$name.ranges.check"
}
ranges_check aggA "$aggA_http" "$work"/e1.1.json "$work"/e2.1.json "$work"/e2.2.json
ranges_check aggB "$aggB_http" "$work"/e3.1.json "$work"/e4.1.json "$work"/e4.2.json
check "aggA /metrics: per-client series carry the site label" \
	bash -c "ip netns exec $XTEL_NS_COL curl -sf http://$aggA_http/metrics | grep -q 'xtel_client_received_datagrams_total{site=\"siteA\",client_id=\"101\"}'"
check "aggA /metrics: site totals" \
	bash -c "ip netns exec $XTEL_NS_COL curl -sf http://$aggA_http/metrics | grep -q '^xtel_site_received_datagrams_total{site=\"siteA\"}'"
if command -v promtool >/dev/null; then
	check "aggA /metrics passes promtool check metrics" bash -c \
		"ip netns exec $XTEL_NS_COL curl -sf http://$aggA_http/metrics | promtool check metrics"
fi
check_eq "aggA: no decode error" 0 "$(in_colns curl -sf "http://$aggA_http/api/v1/stats" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["aggregate"]["decode_errors"])')"
for a in aggA aggB; do
	stop_pid "$a" TERM
	check_eq "$a exit code" 0 "$?"
done
finish
