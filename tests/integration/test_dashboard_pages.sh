#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# integration tier: the dashboard's health and probes pages
# (docs/DASHBOARD.md) on the testbed, with headless Chromium (Debian's,
# through playwright-core) in the collector's namespace as the user:
#  1. health: the collector (plain, --interval 0.5) receives 8 load
#     generator clients; a scenario file makes 2-5 lose 20% of their
#     datagrams (degraded: over the 2% loss SLO) and 6 stop (silent) 8 s
#     into the load, 1, 7 and 8 stay steady (the load runs until the
#     checks are done; they wait until /api/v1/health reports the
#     verdicts, then look at the page): 4 of 8 degraded is the
#     group's quorum, so the group "fleet" is degraded. The fleet page
#     shows exactly those verdicts, the group's, and an event timeline
#     equal to /api/v1/events with transitions of exactly the faulty
#     clients and the group; the client table's health column shows each
#     client's verdict (ok for the steady ones); client 2's page its
#     verdict and signals (tests/netns/test_health.sh tests the verdicts
#     themselves).
#  2. probes: probe-server and probe on the namespace's loopback, the
#     results to a DTLS collector with --db: devices 1-3 download 4 times
#     each (all ok), device 4 3 times from a throttled server with a
#     timeout too short (3 timeouts). The probes page shows exactly those
#     counts per device and of the fleet, the probe's mean speeds, the
#     speed over time and the hour-of-day profile, the busiest hour; one
#     device's page.
#  3. docs/PROBES.md's example history (test_probe_history FILE: two weeks
#     with a planted pattern) over the Custom range with the docs' analysis
#     parameters: the page names the busiest hours, the runner-up and the
#     one congestion episode docs/PROBES.md names, and the exact counts.
# No console error, failed request or HTTP error on any page. Screenshots
# go to BUILD/dashboard/ (docs/img/dashboard-health.png and
# dashboard-probes-history.png come from it). About 50 s.
#
# usage: test_dashboard_pages.sh SOURCE_ROOT COLLECTOR LOADGEN PROBE_SERVER PROBE BUILD_ROOT PROBE_HISTORY
set -uo pipefail
top=${1:?usage: test_dashboard_pages.sh SOURCE_ROOT COLLECTOR LOADGEN PROBE_SERVER PROBE BUILD_ROOT PROBE_HISTORY}
collector=${2:?}
loadgen=${3:?}
probe_server=${4:?}
probe=${5:?}
build=${6:?}
history=${7:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../netns/test_collector_lib.sh
. "$top/tests/netns/test_collector_lib.sh"
# shellcheck source=../lib/browser.sh
. "$top/tests/lib/browser.sh"
checks="$here/dashboard_pages_checks.cjs"
shots="$build/dashboard"
bg_pids=()
srv_pids=()

browser_setup "$top" "$build/browser" || { echo "FAIL the browser is not available"; exit 1; }
mkdir -p "$shots"

pages_cleanup() {
	for p in "${bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	lib_cleanup
}
trap pages_cleanup EXIT

testbed_up

# ---- 1. health ----
cat >"$work/scenario" <<'SC'
# ids from to  fault  args   expected verdict
2-5   8    end loss   0.2    # degraded: loss over the 2% SLO
6     8    end stop          # silent
SC
start_collector health --mode plain --no-xdp --workers 1 --quiet \
	--interval 0.5 --duration 150 --http 127.0.0.1:19920 --db "$work/health.db" || exit 1
# The load lasts until the checks are done, then SIGTERM (120 s at most; the
# collector runs 150 s, longer, or the loadgen's target would vanish under
# it). A fixed 30 s load ended, every client saying BYE, before a Chromium
# slow to start on a loaded machine looked: the page showed no verdicts.
# The checker also waits until /api/v1/health reports the verdicts before
# it looks at the page.
# (not through in_gen: $! of a backgrounded function is a subshell, which
# a signal does not stop; ip netns exec execs the loadgen itself)
ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:7700" --mode plain --clients 8 \
	--rate 800 --duration 120 --heartbeat 0.1 --quiet \
	--scenario "$work/scenario" --report-json "$work/lg.json" \
	>"$work/lg.out" 2>&1 &
lg_pid=$!
bg_pids+=("$lg_pid")
run_checks health node "$checks" health http://127.0.0.1:19920 "$shots" \
	'{"1":"ok","2":"degraded","3":"degraded","4":"degraded","5":"degraded","6":"silent","7":"ok","8":"ok"}' degraded
kill -TERM "$lg_pid" 2>/dev/null
wait "$lg_pid"
check_eq "loadgen: exit code (stopped by SIGTERM after the checks)" 0 "$?"
check_eq "loadgen: still running when the checks were done" True \
	"$(json_get "$work/lg.json" 'd["interrupted"]')"
stop_collector TERM
check_eq "collector (health): exit code" 0 "$col_rc"

# ---- 2. probes ----
certs=$work/certs
"$top/certs/gen.sh" "$certs" 4 >/dev/null 2>&1 || { fail "certs/gen.sh"; finish; exit 1; }
start_collector probes --no-xdp --bind 127.0.0.1 --port 7701 --workers 1 --quiet \
	--interval 0.5 --cert "$certs/server.crt" --key "$certs/server.key" --ca "$certs/ca.crt" \
	--db "$work/probes.db" --http 127.0.0.1:19921 || exit 1
# start_server NAME PORT ARGS...: probe-server in the namespace, until it listens
start_server() {
	local name=$1 port=$2; shift 2
	ip netns exec "$XTEL_NS_COL" "$probe_server" --listen "127.0.0.1:$port" --cert "$certs/server.crt" \
		--key "$certs/server.key" --ca "$certs/ca.crt" "$@" 2>"$work/$name.err" >/dev/null &
	bg_pids+=("$!")
	srv_pids+=("$!")
	for _ in $(seq 100); do
		grep -q "listening on" "$work/$name.err" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "$name did not start: $(cat "$work/$name.err")"
	return 1
}
start_server srv 19930 || { finish; exit 1; }
start_server slow 19931 --throttle 0.1 || { finish; exit 1; }
h0=$(date -u +%-H)
in_col "$probe" --server https://127.0.0.1:19930 --certs "$certs" --quiet \
	--devices 3 --interval 0.3 --count 4 --size 65536 --collector 127.0.0.1:7701 \
	--report-json "$work/good.json" >"$work/good.out" 2>&1
check_eq "probe (devices 1-3): exit code" 0 "$?"
in_col "$probe" --server https://127.0.0.1:19931 --certs "$certs" --quiet \
	--first-id 4 --count 3 --interval 0.8 --timeout 0.5 --size 1048576 \
	--collector 127.0.0.1:7701 --report-json "$work/slow.json" >"$work/slow.out" 2>&1
check_eq "probe (device 4, timeouts): exit code" 0 "$?"
h1=$(date -u +%-H)
check_eq "probe: kinds of devices 1-3" "{'ok': 12}" \
	"$(json_get "$work/good.json" '{k: v for k, v in d["kinds"].items() if v}')"
check_eq "probe: kinds of device 4" "{'timeout': 3}" \
	"$(json_get "$work/slow.json" '{k: v for k, v in d["kinds"].items() if v}')"
# the history writer commits once per interval: wait until all 15 are stored
for _ in $(seq 40); do
	n=$(in_col curl -s 'http://127.0.0.1:19921/api/v1/probes/summary?from=0' |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["fleet"]["downloads"])' 2>/dev/null)
	[ "$n" = 15 ] && break
	sleep 0.25
done
check_eq "collector: the 15 downloads stored" 15 "$n"
run_checks probes node "$checks" probes http://127.0.0.1:19921 "$shots" \
	'{"1":[4,4,0],"2":[4,4,0],"3":[4,4,0],"4":[3,0,3]}' "$work/good.json" "$h0,$h1"
stop_collector TERM
check_eq "collector (probes): exit code" 0 "$col_rc"
for p in "${srv_pids[@]}"; do kill -TERM "$p"; wait "$p"; check_eq "probe-server: exit code after SIGTERM" 0 "$?"; done

# ---- 3. the example history ----
"$history" "$work/example.db" >"$work/example.out" 2>&1 || { fail "test_probe_history: $(tail -3 "$work/example.out")"; finish; exit 1; }
start_collector example --mode plain --no-xdp --workers 1 --quiet --port 7702 \
	--db "$work/example.db" --http 127.0.0.1:19922 || exit 1
run_checks probes-history env TZ=UTC node "$checks" probes-history http://127.0.0.1:19922 "$shots"
stop_collector TERM
check_eq "collector (example history): exit code" 0 "$col_rc"

echo "screenshots: $shots"
finish
