#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# integration tier: the web dashboard (docs/DASHBOARD.md) and its event
# stream GET /api/v1/stream (docs/API.md) on the testbed, with headless
# Chromium (Debian's, driven by playwright-core from npm) as the user.
# The collector runs in the collector namespace with XDP on its veth and
# the API on that namespace's loopback; the browser runs there too.
#  1. live, while 8 load generator clients send with injected loss,
#     duplicates and reordering: the page loads without a console error,
#     failed request or HTTP error; the fleet totals change between
#     intervals; the table lists the 8 clients; a client's page shows its
#     metrics. Screenshots of the overview, the table and a client page
#     go to BUILD/dashboard/ (test artifacts). Meanwhile stream_checks.py
#     reads the stream and rebuilds the client table from its events.
#  2. exact, after the load generator stopped: every row of the page's
#     table, the overview's tiles and the table rebuilt from the stream
#     equal the load generator's report; sorting and filtering work; the
#     15 min range, read from the history API (--db), holds every datagram
#     the load generator sent, and a client's page shows its history.
#  3. limits: --http-streams open streams, one more is 503 and counted;
#     a reader that never reads loses events (counted in /api/v1/stats
#     and /metrics) and then gets a full table again.
#  4. SIGTERM with streams open (suspended connections): exit code 0.
#  5. tokens: the stream takes ?token= (EventSource sends no header); the
#     page asks for the token, and without --db says it has no history.
#  6. devices, as a person manages them: with --db, --inventory-only and
#     tokens, the page asks for the admin token; its Devices page adds
#     devices 1 and 2, renames 1 and disables 2; then loadgen's clients
#     1..3 send: the page shows client 1 alone by its name with every
#     datagram, every datagram of 2 (disabled) and 3 (unknown) among the
#     XDP drops, and the collector counts them exactly under
#     drop_device_disabled and drop_device_unknown; Remove deletes 2.
#
# usage: test_dashboard.sh SOURCE_ROOT COLLECTOR LOADGEN BUILD_ROOT
set -uo pipefail
top=${1:?usage: test_dashboard.sh SOURCE_ROOT COLLECTOR LOADGEN BUILD_ROOT}
collector=${2:?}
loadgen=${3:?}
build=${4:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../netns/test_collector_lib.sh
. "$top/tests/netns/test_collector_lib.sh"
# shellcheck source=../lib/browser.sh
. "$top/tests/lib/browser.sh"
checks="$here/dashboard_checks.cjs"
streams="$here/stream_checks.py"
shots="$build/dashboard"
port=7700
http=127.0.0.1:19300
url=http://$http
bg_pids=()

browser_setup "$top" "$build/browser" || { echo "FAIL the browser is not available"; exit 1; }
mkdir -p "$shots"

dash_cleanup() {
	for p in "${bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	lib_cleanup
}
trap dash_cleanup EXIT

# run_checks NAME CMD...: a checker in the collector netns, its lines tallied.
run_checks() {
	local name=$1; shift
	in_col "$@" >"$work/$name.check" 2>&1
	local rc=$?
	tally "$work/$name.check"
	[ $rc -eq 0 ] || fail "$name: exited $rc (see above)"
}

testbed_up

# ---- 1. live ----
start_collector dash --mode plain --iface "$XTEL_COL_IF" --pin-dir "$XTEL_BPFFS/dash" \
	--workers 1 --quiet --interval 0.25 --stale-after 30 --http "$http" --http-rate 0 \
	--http-streams 4 --db "$work/dash.db" || exit 1
in_col python3 "$streams" table "$url" 10 "$work/table.json" >"$work/table.check" 2>&1 &
table_pid=$!
bg_pids+=("$table_pid")
sleep 0.3
ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain \
	--clients 8 --rate 2000 --duration 7 --loss 0.02 --dup 0.01 --reorder 0.02 --seed 5 \
	--payload 'temp={client};cpu_pct=20;mem_mb=512' --quiet \
	--report-json "$work/lg.json" >"$work/lg.out" 2>&1 &
lg_pid=$!
bg_pids+=("$lg_pid")
run_checks live node "$checks" live "$url" "$shots" 8
wait "$lg_pid"
check_eq "loadgen: exit code" 0 "$?"
wait "$table_pid"
tally "$work/table.check"

# ---- 2. exact ----
sleep 0.6	# two --interval views after the BYEs: every gap confirmed
run_checks exact node "$checks" exact "$url" "$shots" "$work/lg.json"
run_checks stream-exact python3 "$streams" exact "$url" "$work/table.json" "$work/lg.json"

# ---- 3. limits ----
sleep 0.6	# the browsers' streams are released at the next event
run_checks cap python3 "$streams" cap "$url" 4
# Small TCP buffers in this namespace, so that a reader that does not read
# fills them within a few events of 500 clients.
in_col sysctl -qw net.ipv4.tcp_wmem="4096 4096 8192"
ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain \
	--clients 500 --first-id 1000 --rate 5000 --duration 6 --quiet >/dev/null 2>&1 &
lg_pid=$!
bg_pids+=("$lg_pid")
sleep 0.5
run_checks slow python3 "$streams" slow "$url" 4
wait "$lg_pid"

# ---- 4. stop with streams open ----
in_col curl -sN "$url/api/v1/stream" >/dev/null 2>&1 &
bg_pids+=("$!")
in_col curl -sN "$url/api/v1/stream?rows=none" >/dev/null 2>&1 &
bg_pids+=("$!")
sleep 0.8	# both suspended between events
stop_collector TERM
check_eq "SIGTERM with two streams open: exit code" 0 "$col_rc"
check "... and no abort from libmicrohttpd in its log" bash -c "! grep -qi 'abort\|MHD_stop_daemon' '$work/dash.err'"

# ---- 5. tokens ----
tok=read-$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')
echo "read sha256:$(printf %s "$tok" | sha256sum | cut -d' ' -f1) dashboard" >"$work/tokens"
start_collector tok --mode plain --no-xdp --quiet --port 7701 --interval 0.5 \
	--http 127.0.0.1:19301 --http-tokens "$work/tokens" || exit 1
sleep 0.6
run_checks auth python3 "$streams" auth http://127.0.0.1:19301 "$tok"
run_checks nodb node "$checks" nodb http://127.0.0.1:19301 "$shots" "$tok"
stop_collector TERM
check_eq "collector with tokens: exit code" 0 "$col_rc"

# ---- 6. devices ----
adm=admin-$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')
echo "admin sha256:$(printf %s "$adm" | sha256sum | cut -d' ' -f1) dashboard" >"$work/tokens"
start_collector devices --mode plain --iface "$XTEL_COL_IF" --pin-dir "$XTEL_BPFFS/dash-dev" \
	--workers 1 --quiet --interval 0.25 --stale-after 30 --http 127.0.0.1:19302 \
	--http-rate 0 --http-tokens "$work/tokens" --db "$work/devices.db" --inventory-only || exit 1
run_checks devices-setup node "$checks" devices-setup http://127.0.0.1:19302 "$shots" "$adm"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 3 --count 300 \
	--rate 3000 --quiet --report-json "$work/lg-dev.json" >/dev/null 2>&1
check_eq "loadgen (devices): exit code" 0 "$?"
sleep 0.6
run_checks devices-check node "$checks" devices-check http://127.0.0.1:19302 "$shots" \
	"$work/lg-dev.json" "$adm"
in_col curl -s -H "Authorization: Bearer $adm" http://127.0.0.1:19302/api/v1/totals >"$work/dev-totals.json"
sent2=$(json_get "$work/lg-dev.json" '[c["sent"] for c in d["clients"] if c["client_id"] == 2][0]')
sent3=$(json_get "$work/lg-dev.json" '[c["sent"] for c in d["clients"] if c["client_id"] == 3][0]')
check_eq "collector: drop_device_disabled = client 2's datagrams" "$sent2" \
	"$(json_get "$work/dev-totals.json" 'd["xdp"]["stats"]["drop_device_disabled"]["packets"]')"
check_eq "collector: drop_device_unknown = client 3's datagrams" "$sent3" \
	"$(json_get "$work/dev-totals.json" 'd["xdp"]["stats"]["drop_device_unknown"]["packets"]')"
stop_collector TERM
check_eq "collector with devices: exit code" 0 "$col_rc"

echo "screenshots: $shots"
finish
