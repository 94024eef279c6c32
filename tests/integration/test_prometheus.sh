#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# integration tier: a real Prometheus server (Debian's prometheus 2.42)
# scrapes the collector's /metrics every second on the testbed, and its
# HTTP query API must give the load generator's exact counts:
#  1. the collector runs with XDP in the collector namespace, the API on
#     that namespace's loopback, --metrics-client-ids 2,4-9 selecting 6 of
#     the 8 clients and --metrics-clients 5 capping them at ids 2,4,5,6,7;
#     Prometheus runs there too, on 127.0.0.1:9090, with a temporary
#     configuration and data directory, and is killed by the trap;
#  2. after a loadgen run with injected faults: xtel_*_total counters
#     (received, bytes, lost, duplicates, reordered, XDP passed, drops),
#     client gauges and the per-client series of the 5 selected clients
#     equal loadgen's report; the sixth selected client is counted as
#     omitted;
#  3. promtool check metrics passes on the exposition (it exits 3 on any
#     lint finding).
#
# usage: test_prometheus.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_prometheus.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../netns/test_collector_lib.sh
. "$top/tests/netns/test_collector_lib.sh"
port=7700
http=127.0.0.1:9477
prom=127.0.0.1:9090
prom_pid=

for p in prometheus promtool curl; do
	command -v $p >/dev/null || { echo "FAIL $p not installed: run scripts/deps.sh"; exit 1; }
done

prom_cleanup() {
	if [ -n "$prom_pid" ]; then
		kill -TERM "$prom_pid" 2>/dev/null
		wait "$prom_pid" 2>/dev/null
	fi
	lib_cleanup
}
trap prom_cleanup EXIT

testbed_up
start_collector prom --mode plain --iface "$XTEL_COL_IF" \
	--pin-dir "$XTEL_BPFFS/prom" --workers 2 --quiet --interval 0.5 \
	--http "$http" --http-rate 0 --metrics-clients 5 \
	--metrics-client-ids 2,4-9 || exit 1

mkdir -p "$work/prom/data"
cat >"$work/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xtel
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ['$http']
YML
# ip netns exec execs prometheus: $! is the server itself.
ip netns exec "$XTEL_NS_COL" prometheus --config.file="$work/prom/prometheus.yml" \
	--storage.tsdb.path="$work/prom/data" --web.listen-address="$prom" \
	--log.level=warn >"$work/prom/out" 2>&1 &
prom_pid=$!
for _ in $(seq 50); do
	in_col curl -sf "http://$prom/-/ready" >/dev/null 2>&1 && break
	sleep 0.1
done
check "Prometheus ready on $prom" in_col curl -sf "http://$prom/-/ready"

# 20,000/s: the veth ring (256 frames a queue once XDP is attached) then
# holds ~13 ms of load while Prometheus, starting beside it, holds the CPU;
# at 60,000/s a CI run lost 146 datagrams there, before any XDP program.
veth0=$(veth_drops)
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 8 \
	--threads 2 --count 3000 --rate 20000 --loss 0.02 --dup 0.01 \
	--reorder 0.02 --seed 9 --payload 'id={client};seq={seq}' --quiet \
	--report-json "$work/lg.json" >"$work/lg.out" 2>&1
check_eq "loadgen: exit code" 0 "$?"
check_veth_clean "$veth0"
sent=$(json_get "$work/lg.json" 'd["totals"]["sent"]')
# The first sample comes ~5 s after Prometheus starts (scrape alignment).
in_col python3 "$here/prom_checks.py" wait "http://$prom" "$sent" 25 >"$work/wait.check" 2>&1
tally "$work/wait.check"
sleep 2		# a few more scrapes, for the scrape counters
in_col python3 "$here/prom_checks.py" check "http://$prom" "$work/lg.json" 2,4,5,6,7 1 \
	>"$work/prom.check" 2>&1 || fail "prom_checks.py exited $? (see above)"
tally "$work/prom.check"

in_col curl -sf "http://$http/metrics" >"$work/metrics.txt"
check_eq "/metrics: fetched" 0 "$?"
promtool check metrics <"$work/metrics.txt" >"$work/promtool.out" 2>&1
rc=$?
check_eq "promtool check metrics: exit code (3 = lint findings)" 0 "$rc"
[ $rc -eq 0 ] || cat "$work/promtool.out"
check "/metrics: HELP and TYPE for every family" python3 - "$work/metrics.txt" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
helps = {l.split()[2] for l in lines if l.startswith("# HELP ")}
types = {l.split()[2] for l in lines if l.startswith("# TYPE ")}
names = set()
for l in lines:
    if l and not l.startswith("#"):
        n = l.split("{")[0].split()[0]
        for suf in ("_sum", "_count"):
            if n.endswith(suf) and n[: -len(suf)] in types:
                n = n[: -len(suf)]
        names.add(n)
sys.exit(0 if names <= helps == types else 1)
PY
# HELP lines come from the counter tables (a row's help, or every row's).
for help in \
	"xtel_dropped_datagrams_total Datagrams refused before accounting, by reason: truncated (shorter than the 28-byte header);" \
	"xtel_dtls_cookie_sent_total HelloVerifyRequest sent" \
	"xtel_enobufs_events_total multishot receive ended: buffer ring ran dry" \
	"xtel_xdp_packets_total Packets the XDP program saw, each in exactly one outcome (frame bytes for bytes): not_ours (not IP/UDP, or another port);"; do
	check "/metrics: # HELP ${help%% *} from its table" grep -qF "# HELP $help" "$work/metrics.txt"
done
check "/metrics: content type 0.0.4" bash -c \
	"ip netns exec $XTEL_NS_COL curl -sI http://$http/metrics | grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8'"
stop_collector TERM
check_eq "collector exit code" 0 "$col_rc"
finish
