#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: health verdicts end to end (docs/HEALTH.md). The collector
# (plain, --interval 0.5) receives 20 load generator clients at 100
# datagrams/s each; a scenario file makes 9 of them go bad 10 s into the
# DATA phase, each in a known way, and leaves 11 steady. Asserted from
# /api/v1/events and /api/v1/health:
#   - every faulty client has its first verdict within 4 interval ends of
#     the fault's start (the fault starts inside an interval: 3 whole ones
#     after it) and holds exactly the expected verdict 6 intervals after;
#   - the steady clients never had any verdict (no event at all);
#   - the inventory (--db) puts clients 1-10 at site-a, 11-20 at site-b:
#     two groups, each client in its site's, both ok (no state holds half);
#   - with --db every transition is a row of health_events, field for field;
#   - restarted on the same --db file (no load), the collector serves the
#     first run's transitions from the DB (/api/v1/events?from=...): the
#     same rows in (ts, seq) order, the ring's snapshot their first ones,
#     paged (limit, offset), by client_id, by time range; its ring is empty.
# About 20 s. usage: test_health.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_health.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"
command -v curl >/dev/null || { echo "FAIL curl not installed: run scripts/deps.sh"; exit 1; }
port=7700
http=127.0.0.1:9490
fault_at=10

cat >"$work/scenario" <<'SC'
# ids from to  fault    args             expected verdict
3     10   end latency  50               # anomalous: queueing +50 ms
4     10   end latency  30               # congested: queueing and loss together
4     10   end loss     0.1
5     10   end loss     0.2              # degraded: loss over the 2% SLO
6     10   end stop                      # silent
7     10   end metric   temp +40         # anomalous: a device metric
8     10   end rate     0.2              # congested: rate down, latency up
8     10   end latency  40
9     10   end latency  300              # degraded: p99 over the 250 ms SLO
10    10   end rate     0.1              # anomalous: rate down alone
11    10   end latency  0 40             # anomalous: jitter (uniform 0..40 ms)
SC

# the inventory puts clients 1-10 at site-a, 11-20 at site-b: the groups
ADMIN=health-admin-token
READ=health-read-token
printf 'admin sha256:%s ops\nread sha256:%s ro\n' \
	"$(printf %s "$ADMIN" | sha256sum | cut -d' ' -f1)" \
	"$(printf %s "$READ" | sha256sum | cut -d' ' -f1)" >"$work/tokens"
get() { in_col curl -sf -H "Authorization: Bearer $READ" "http://$http$1"; }

testbed_up
start_collector health --mode plain --no-xdp --workers 1 --quiet \
	--interval 0.5 --duration 40 --http "$http" --db "$work/health.db" \
	--http-tokens "$work/tokens" --http-rate 0 || exit 1
for id in $(seq 1 20); do
	site=site-a; [ "$id" -gt 10 ] && site=site-b
	in_col curl -sf -o /dev/null -H "Authorization: Bearer $ADMIN" -X POST \
		-d "{\"id\": $id, \"name\": \"dev-$id\", \"labels\": {\"site\": \"$site\"}}" \
		"http://$http/api/v1/devices" || { echo "FAIL POST device $id"; exit 1; }
done
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 20 \
	--rate 2000 --duration 14 --heartbeat 0.1 --quiet \
	--scenario "$work/scenario" --report-json "$work/lg.json" \
	>"$work/lg.out" 2>&1 &
lg_pid=$!
# The DATA phase starts right after the INITs (plain mode): the first
# arrival of client 1 is its start, whatever loadgen's start-up took.
t_start=
for _ in $(seq 100); do
	t_start=$(get /api/v1/clients/1 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["client"]["first_seen_ns"])' \
		2>/dev/null) && break
	sleep 0.05
done
[ -n "$t_start" ] || { echo "FAIL client 1 never arrived"; exit 1; }
# the fault's start plus 6 intervals, then read what the collector says
python3 -c 'import sys, time; time.sleep(max(0, int(sys.argv[1]) / 1e9 + float(sys.argv[2]) - time.time()))' \
	"$t_start" "$((fault_at + 3)).2"
get /api/v1/health >"$work/health.json"
get /api/v1/events >"$work/events.json"
wait "$lg_pid"
check_eq "loadgen exit code" 0 $?
stop_collector TERM
check_eq "collector exit code after SIGTERM" 0 "$col_rc"
[ "$col_rc" = 0 ] || tail -20 "$work/health.err"

# the second run on the same file: the first run's events from the DB
start_collector health2 --mode plain --no-xdp --workers 1 --quiet \
	--interval 0.5 --duration 30 --http "$http" --db "$work/health.db" \
	--http-tokens "$work/tokens" --http-rate 0 || exit 1
for _ in $(seq 100); do
	get /api/v1/events >"$work/ring2.json" 2>/dev/null && break
	sleep 0.1
done
get '/api/v1/events?from=0' >"$work/db_all.json"
get '/api/v1/events?from=0&limit=2&offset=1' >"$work/db_page.json"
get '/api/v1/events?from=0&client_id=4' >"$work/db_c4.json"
mid=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["events"]; print(e[len(e)//2]["ts_ns"]//10**9 + 1 if e else 1)' "$work/db_all.json")
get "/api/v1/events?from=$mid&to=$((mid + 2))" >"$work/db_range.json"
get "/api/v1/events?source=db&to=$((t_start / 1000000000 + fault_at))" >"$work/db_before.json"
stop_collector TERM
check_eq "second collector exit code after SIGTERM" 0 "$col_rc"

python3 - "$work/health.json" "$work/events.json" "$work/lg.json" \
	"$t_start" "$fault_at" "$work/health.db" "$work" "$mid" \
	>"$work/health.check" <<'PY'
import json, math, sqlite3, sys
h = json.load(open(sys.argv[1]))
ev = json.load(open(sys.argv[2]))["events"]
lg = json.load(open(sys.argv[3]))
t_fault = int(sys.argv[4]) + int(sys.argv[5]) * 10**9
ivl = 0.5e9
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
want = {3: "anomalous", 4: "congested", 5: "degraded", 6: "silent",
        7: "anomalous", 8: "congested", 9: "degraded", 10: "anomalous",
        11: "anomalous"}
state = {c["client_id"]: c["state"] for c in h["clients"]}
check("20 clients", list(range(1, 21)), sorted(state))
check("verdicts 6 intervals after the fault",
      {i: want.get(i, "ok") for i in range(1, 21)}, state)
for c in h["clients"]:
    if c["client_id"] in want:
        print(("ok   " if c["why"] else "FAIL ") +
              f"client {c['client_id']} explained: {c['why']}")
first = {}
for e in ev:
    if e["scope"] == "client" and e["from"] == "ok":
        first.setdefault(e["client_id"], e)
check("clients with a verdict: exactly the faulty ones", sorted(want),
      sorted(first))
for cid, e in sorted(first.items()):
    if cid not in want:	# say why, for whoever reads a failure
        print(f"     unexpected: client {cid} {e['to']} at {e['ts_ns']}: {e['why']}")
for cid in sorted(want):
    if cid not in first:
        continue
    late = math.ceil((first[cid]["ts_ns"] - t_fault) / ivl)
    print(("ok   " if late <= 4 else "FAIL ") +
          f"client {cid} first verdict {first[cid]['to']} within 4 intervals "
          f"(interval ends after the fault: {late})")
check("no event before the faults (warm-up and steady phase)", [],
      [e["seq"] for e in ev if e["ts_ns"] < t_fault])
check("groups by site: members and verdicts (no state holds half of one)",
      [("site-a", 10, "ok"), ("site-b", 10, "ok")],
      [(g["label"], g["members"], g["state"]) for g in h["groups"]])
check("each client in its site's group",
      {i: "site-a" if i <= 10 else "site-b" for i in range(1, 21)},
      {c["client_id"]: c["group"] for c in h["clients"]})
# --db: every transition the API showed is a row, the same
db = sqlite3.connect(sys.argv[6])
rows = {r[0]: r[1:] for r in db.execute(
    "SELECT seq, ts, scope, client, grp, from_state, to_state, why "
    "FROM health_events")}
same = [rows.get(e["seq"]) == (e["ts_ns"], e["scope"], e.get("client_id"),
                               e["group"], e["from"], e["to"], e["why"])
        for e in ev]
check("--db: the API's transitions are rows, field for field",
      [True] * len(ev), same)
check("--db: schema component health_events version 1", [(1,)],
      db.execute("SELECT version FROM xtel_schema WHERE component = "
                 "'health_events'").fetchall())
# the second run: the first run's transitions from the DB, not the ring
def load(name):
    return json.load(open(f"{sys.argv[7]}/{name}.json"))
key = ("seq", "ts_ns", "scope", "client_id", "group", "from", "to", "score", "why")
def rowdict(r):
    d = dict(zip(key, r))
    if d["client_id"] is None:
        del d["client_id"]
    d["score"] = round(d["score"], 1)
    return d
stored = [rowdict(r) for r in db.execute(
    "SELECT seq, ts, scope, client, grp, from_state, to_state, score, why "
    "FROM health_events ORDER BY ts, seq")]
every = load("db_all")
check("restart: source db, total = the rows", ("db", len(stored)),
      (every["source"], every["total"]))
check("restart: every stored transition, in (ts, seq) order, field for field",
      stored, every["events"])
check("restart: the first run's ring snapshot is their start", ev,
      every["events"][:len(ev)])
page = load("db_page")
check("restart: limit=2 offset=1", (len(stored), 1, stored[1:3]),
      (page["total"], page["offset"], page["events"]))
c4 = [e for e in stored if e.get("client_id") == 4]
check("restart: client_id=4 (at least one)", (True, len(c4), c4),
      (len(c4) > 0, load("db_c4")["total"], load("db_c4")["events"]))
mid = int(sys.argv[8])
inr = [e for e in stored if mid * 10**9 <= e["ts_ns"] < (mid + 2) * 10**9]
rng = load("db_range")
check("restart: from/to: the rows in [from, to)",
      (mid, mid + 2, len(inr), inr),
      (rng["from"], rng["to"], rng["total"], rng["events"]))
check("restart: nothing stored before the faults", (0, []),
      (load("db_before")["total"], load("db_before")["events"]))
ring2 = load("ring2")
check("restart: the new run's ring is empty", ("ring", 0, []),
      (ring2["source"], ring2["total"], ring2["events"]))
check("loadgen: scenario losses are injected losses",
      True, 0 < lg["totals"]["scenario_loss"] <= lg["totals"]["injected_loss"])
PY
tally "$work/health.check"
finish
