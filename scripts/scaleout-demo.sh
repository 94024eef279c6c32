#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The scale-out demo (docs/SCALE-OUT.md): on the testbed, a 3-node NATS
# JetStream cluster, two edge collectors (sites "north" and "south") with a
# load generator each, and one aggregator; prints the fleet view from the
# aggregator's API (totals per site, a few clients, Prometheus lines), then
# removes everything. Every load is bounded (10 s); the trap cleans up on
# ^C or failure too.
#
# usage: scripts/scaleout-demo.sh [BUILD_DIR]     (as root; default build)
# environment: XTEL_NS_SUFFIX as scripts/testbed.sh (e.g. -demo)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
collector=$build/userspace/collector/collector
loadgen=$build/loadgen/loadgen
[ "$(id -u)" -eq 0 ] || { echo "scaleout-demo.sh: needs root (network namespaces)" >&2; exit 1; }
[ -x "$collector" ] && [ -x "$loadgen" ] || {
	echo "scaleout-demo.sh: build first: meson setup build && ninja -C build" >&2; exit 1; }
command -v nats-server >/dev/null || { echo "scaleout-demo.sh: run scripts/deps.sh (nats-server)" >&2; exit 1; }

# shellcheck source=../tests/lib/nats_cluster.sh
. "$top/tests/lib/nats_cluster.sh"
eval "$("$top/scripts/testbed.sh" env)"
work=$(mktemp -d /tmp/xtel-scaleout-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	nats_down
	"$top/scripts/testbed.sh" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
col() { ip netns exec "$XTEL_NS_COL" "$@"; }
api=http://127.0.0.1:19540

say "testbed and a 3-node JetStream cluster (127.0.0.1:19500-19502 in $XTEL_NS_COL)"
"$top/scripts/testbed.sh" up >/dev/null
nats_up "$work/nats" 19500 ip netns exec "$XTEL_NS_COL"
urls=$(nats_urls)

say "aggregator: collector --aggregate $urls --http 127.0.0.1:19540"
ip netns exec "$XTEL_NS_COL" "$collector" --aggregate "$urls" --agg-db "$work/agg.db" \
	--agg-replicas 3 --http 127.0.0.1:19540 --interval 0.5 >"$work/agg.out" 2>"$work/agg.err" &
pids+=($!)
for _ in $(seq 100); do grep -q "aggregate: consumer" "$work/agg.err" && break; sleep 0.1; done

say "edges: collector --export $urls --site north|south"
for s in north:7701 south:7702; do
	ip netns exec "$XTEL_NS_COL" "$collector" --mode plain --no-xdp --bind "$XTEL_COL_IP4" \
		--port "${s#*:}" --quiet --interval 1 --export "$urls" --site "${s%:*}" \
		--edge "edge-${s%:*}" >"$work/${s%:*}.out" 2>"$work/${s%:*}.err" &
	pids+=($!)
done
sleep 1

say "load: 20 clients per site, 2,000 datagrams/s each site, 10 s, 1% loss injected"
ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:7701" --mode plain \
	--clients 20 --rate 2000 --duration 10 --loss 0.01 --quiet >/dev/null &
l1=$!
ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:7702" --mode plain \
	--clients 20 --first-id 1001 --rate 2000 --duration 10 --loss 0.01 --quiet >/dev/null &
l2=$!
sleep 5
say "mid-run, the fleet as the aggregator sees it: /api/v1/totals (per site)"
col curl -s "$api/api/v1/totals" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("fleet: %d clients, %d received, %d lost" % (d["clients"], d["totals"]["received"], d["totals"]["lost"]))
for s in d.get("sites", []):
    t = s["totals"]
    print("  site %-6s %3d clients (%d live) %8d received %5d lost  p99 latency %s us" % (
        s["site"], s["clients"], s["live"], t["received"], t["lost"], t["latency_us"]["p99"]))'
wait "$l1" "$l2"
sleep 2.5

say "after the run: three clients of site south (/api/v1/clients?site=south&sort=loss)"
col curl -s "$api/api/v1/clients?site=south&sort=loss&limit=3" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["clients"]:
    print("  site %s client %d: %d received, %d lost (%.2f%%), state %s" % (
        c["site"], c["client_id"], c["received"], c["lost"], c["loss_pct"], c["state"]))'
say "Prometheus /metrics: site totals and one client"
col curl -s "$api/metrics" | grep -E '^xtel_site_(received|lost)_datagrams_total|^xtel_client_received_datagrams_total\{site="north",client_id="1"\}'
say "the aggregator's own counters (/api/v1/stats .aggregate)"
col curl -s "$api/api/v1/stats" | python3 -c '
import json, sys
a = json.load(sys.stdin)["aggregate"]
print("  " + ", ".join("%s %s" % (k, a[k]) for k in ("messages", "applied", "duplicates", "client_rollups", "checkpoints", "clients", "sites")))'
say "done: stopping everything"
