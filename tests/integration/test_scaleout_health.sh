#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# integration tier: the edge's health verdicts through NATS JetStream to
# the aggregator (rollup key 17, docs/SCALE-OUT.md). A 3-node JetStream
# cluster, one edge collector (site siteH) and one aggregator in the
# collector namespace of the testbed; a load generator sends 6 clients at
# 100 datagrams/s each, and a scenario adds 50 ms of queueing to client 3
# and stops client 5, 10 s into the load. Asserted: the aggregator's
# /api/v1/health shows client 3 anomalous and client 5 silent (a client
# that sends nothing has an entry for its new verdict alone) with the
# edge's start times (since_ns) and scores > 0, every other client ok, the
# same states as the edge's own /api/v1/health; /api/v1/health/3 on the
# aggregator answers the same; counts match. After the edge stopped, a
# restarted aggregator serves the same verdicts from its checkpoint. The
# stream's duplicate window is 5 s: the applied messages are in the edge
# run's ranges (one, or one more per hole the edge made), none pruned.
# About 30 s. usage: test_scaleout_health.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_scaleout_health.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
# shellcheck source=../netns/test_collector_lib.sh
. "$top/tests/netns/test_collector_lib.sh"
# shellcheck source=../lib/nats_cluster.sh
. "$top/tests/lib/nats_cluster.sh"
command -v nats-server >/dev/null || { echo "FAIL nats-server not installed: run scripts/deps.sh"; exit 1; }
command -v curl >/dev/null || { echo "FAIL curl not installed: run scripts/deps.sh"; exit 1; }

base=18100			# NATS 18100-18122 (lib), HTTP 18140-41, UDP 18150
agg_http=127.0.0.1:18140
edge_http=127.0.0.1:18141
port=18150
declare -A pid=()
lg_pid=

sh_cleanup() {
	local p
	for p in $lg_pid "${pid[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	nats_down
	lib_cleanup
}
trap sh_cleanup EXIT

wait_line() { # FILE TEXT: until a line of FILE has TEXT (10 s at most)
	for _ in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
get() { ip netns exec "$XTEL_NS_COL" curl -sf "http://$1$2"; }

cat >"$work/scenario" <<'SC'
# ids from to  fault    args
3     10   end latency  50               # anomalous: queueing +50 ms
5     10   end stop                      # silent: no entry but its verdict's
SC

testbed_up
nats_up "$work/nats" "$base" ip netns exec "$XTEL_NS_COL" || exit 1
urls=$(nats_urls)
agg_start() { # NAME: the aggregator on $work/agg.db, output in $work/NAME.{out,err}
	ip netns exec "$XTEL_NS_COL" "$collector" --aggregate "$urls" --agg-db "$work/agg.db" \
		--agg-durable aggH --agg-filter 'xtel.rollup.siteH.>' --agg-replicas 3 \
		--agg-ack-wait 2 --agg-batch 16 --http "$agg_http" --http-rate 0 \
		--interval 0.25 --stale-after 30 --agg-dup-window 5 \
		>"$work/$1.out" 2>"$work/$1.err" &
	pid[agg]=$!
}
agg_start agg
wait_line "$work/agg.err" "aggregate: consumer aggH" ||
	{ echo "FAIL the aggregator did not bind its consumer"; cat "$work/agg.err"; exit 1; }
ip netns exec "$XTEL_NS_COL" "$collector" --mode plain --no-xdp --bind "$XTEL_COL_IP4" \
	--port "$port" --workers 1 --quiet --interval 0.5 --stale-after 30 \
	--export "$urls" --site siteH --edge eh --export-max-wait 2000 \
	--http "$edge_http" --http-rate 0 --summary-json "$work/edge.summary.json" \
	>"$work/edge.out" 2>"$work/edge.err" &
pid[edge]=$!
wait_line "$work/edge.err" "plain mode, " ||
	{ echo "FAIL the edge did not start"; cat "$work/edge.err"; exit 1; }
ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain \
	--clients 6 --rate 600 --duration 20 --heartbeat 0.1 --quiet \
	--scenario "$work/scenario" --report-json "$work/lg.json" >"$work/lg.out" 2>&1 &
lg_pid=$!

# until the aggregator shows client 3 anomalous and 5 silent since the
# edge's start of those states (30 s at most)
for _ in $(seq 300); do
	get "$edge_http" /api/v1/health >"$work/edge.json" 2>/dev/null &&
	get "$agg_http" /api/v1/health >"$work/agg.json" 2>/dev/null &&
	python3 - "$work/edge.json" "$work/agg.json" <<'PY' && break
import json, sys
e = {c["client_id"]: c for c in json.load(open(sys.argv[1]))["clients"]}
a = {c["client_id"]: c for c in json.load(open(sys.argv[2]))["clients"]}
ok = all(e.get(i, {}).get("state") == want and
         a.get(i, {}).get("state") == want and
         a[i]["since_ns"] == e[i]["since_ns"]
         for i, want in ((3, "anomalous"), (5, "silent")))
sys.exit(0 if ok else 1)
PY
	sleep 0.1
done
get "$agg_http" /api/v1/health/3 >"$work/agg3.json"
python3 - "$work/edge.json" "$work/agg.json" "$work/agg3.json" >"$work/check" <<'PY'
import json, sys
ej, aj = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
a3 = json.load(open(sys.argv[3]))["client"]
e = {c["client_id"]: c for c in ej["clients"]}
a = {c["client_id"]: c for c in aj["clients"]}
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
want = {i: {3: "anomalous", 5: "silent"}.get(i, "ok") for i in range(1, 7)}
check("edge: verdicts", want, {i: c["state"] for i, c in e.items()})
check("aggregator: the edge's verdicts", want, {i: c["state"] for i, c in a.items()})
for i in (3, 5):
    check(f"aggregator: client {i} since the edge's start of the state",
          e.get(i, {}).get("since_ns"), a.get(i, {}).get("since_ns"))
    check(f"aggregator: client {i} has a score (> 0)", True,
          a.get(i, {}).get("score", 0) > 0)
check("aggregator: counts", {"anomalous": 1, "silent": 1, "ok": 4},
      {k: v for k, v in aj["counts"].items() if v})
check("aggregator: /api/v1/health/3", ("anomalous", a.get(3, {}).get("since_ns")),
      (a3["state"], a3["since_ns"]))
PY
tally "$work/check"
wait "$lg_pid"
check_eq "loadgen exit code" 0 $?
lg_pid=
stop() { # NAME: SIGTERM, exit code 0
	kill -TERM "${pid[$1]}" 2>/dev/null
	wait "${pid[$1]}"
	check_eq "$1 exit code after SIGTERM" 0 $?
	unset "pid[$1]"
}
stop edge

# The verdicts are in the checkpoint: once the aggregator applied the
# edge's last messages (its applied count holds for 1 s), a restarted
# aggregator serves the same verdicts from its SQLite file at once,
# before (and without) any new entry from an edge.
applied() {
	get "$agg_http" /api/v1/stats |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["aggregate"]["applied"])'
}
prev=-1
for _ in $(seq 20); do
	now=$(applied)
	[ "$now" = "$prev" ] && break
	prev=$now
	sleep 1
done
get "$agg_http" /api/v1/health >"$work/agg.before.json"
# The applied set (a 5 s duplicate window): every message of the edge is
# in its run's ranges, none in the pruned per-id table; one range, and
# one more per hole the edge made (views it dropped, messages it lost).
get "$agg_http" /api/v1/stats >"$work/agg.stats.json"
python3 - "$work/agg.stats.json" "$work/edge.summary.json" >"$work/check3" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["aggregate"]
x = json.load(open(sys.argv[2]))["export"]
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
check("aggregator: no id in the per-id table (all in ranges), none pruned",
      (0, 0), (a["applied_ids"], a["ids_pruned"]))
holes = x["views_dropped"] + x["backlog_dropped"]
check(f"aggregator: one edge run, its ranges 1 (+ up to {holes} holes)", True,
      a["applied_ranges"] == 1 if not holes else 1 <= a["applied_ranges"] <= 1 + holes)
check("aggregator: no pruning step failed", 0, a["prune_errors"])
PY
tally "$work/check3"
stop agg
agg_start agg2
wait_line "$work/agg2.err" "aggregate mode, " ||
	{ echo "FAIL the restarted aggregator did not start"; cat "$work/agg2.err"; exit 1; }
get "$agg_http" /api/v1/health >"$work/agg.after.json"
python3 - "$work/agg.before.json" "$work/agg.after.json" >"$work/check2" <<'PY'
import json, sys
def verdicts(f):
    return {c["client_id"]: (c["state"], c["since_ns"], c["score"])
            for c in json.load(open(f))["clients"]}
b, a = verdicts(sys.argv[1]), verdicts(sys.argv[2])
print(("ok   " if b == a and len(b) == 6 else "FAIL ") +
      f"restarted aggregator: the 6 verdicts of before the restart: expected {b}, got {a}")
PY
tally "$work/check2"
stop agg
finish
