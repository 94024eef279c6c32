#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: the device inventory (--db, docs/DEVICES.md) on the testbed,
# with exact counts from the load generator's reports.
#  0. --inventory-only without --db, a --db that is not a database or
#     cannot be created: exit code 2 with a message.
#  1. Plain mode with XDP: every "curl ... # devices -> STATUS" example of
#     docs/API.md answers its status, in order. Devices 1..3 are created
#     through the API; a first run of clients 1..4 (4 unknown) is accepted
#     whole. Device 2 is disabled (PATCH); a second bounded run: exactly
#     client 2's sent datagrams are XDP drop_device_disabled, the others
#     are accounted in full and client 2's count does not move. Re-enabled:
#     a third run of client 2 is accounted in full, the drop count stays.
#  2. Stale: clients 10 (device, heartbeat_s 1) and 11 (unknown) stop
#     without BYE: once silent for over 1 s client 10 is stale with silent_s in
#     /api/v1/devices/10 and /api/v1/clients/10, client 11 still live
#     (--stale-after 30); a device never seen is never_seen and stale; the
#     interval table shows "stale:Ns" and the name, /metrics the name and
#     labels on per-client series and xtel_client_stale. Paging the five
#     devices: limit and offset, the cursor after=<id> (next_after of a
#     page), total, count; after with offset, limit 0 or over 10000 are 400.
#  3. SIGHUP reloads a row another connection wrote; a restart on the same
#     file has every device (persisted), now with --inventory-only: client
#     4's datagrams are exactly drop_device_unknown in XDP.
#  4. Without XDP (--no-xdp) and --inventory-only: clients 4 and 5
#     (unknown) are refused as device_unknown and client 2, disabled before
#     the second run, as device_disabled, both exactly their sent counts.
#  5. DTLS: device 2 disabled: its handshake is refused as
#     dtls_failed_device (loadgen exit 4; the recent failure names the
#     reason and id); device 3 disabled while its session sends: every
#     record after that is device_disabled, received + device_disabled =
#     sent exactly, both > 0.
#
# usage: test_devices.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_devices.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"
port=7700
http=127.0.0.1:9477
ADMIN=devices-admin-token
READ=devices-read-token
lg_pid=

command -v curl >/dev/null || { echo "FAIL curl not installed: run scripts/deps.sh"; exit 1; }

dv_cleanup() {
	[ -n "$lg_pid" ] && kill -KILL "$lg_pid" 2>/dev/null
	lib_cleanup
}
trap dv_cleanup EXIT

printf 'admin sha256:%s ops\nread sha256:%s ro\n' \
	"$(printf %s "$ADMIN" | sha256sum | cut -d' ' -f1)" \
	"$(printf %s "$READ" | sha256sum | cut -d' ' -f1)" >"$work/tokens"
db=$work/xtel.db

# api METHOD PATH [BODY]: the reply in $work/r.json, prints the status.
api() {
	local body=()
	[ $# -ge 3 ] && body=(-d "$3")
	in_col curl -s -o "$work/r.json" -w '%{http_code}' \
		-H "Authorization: Bearer $ADMIN" -X "$1" "${body[@]}" "http://$http$2"
}
# r EXPR: a python expression on the last reply (d).
r() { json_get "$work/r.json" "$1"; }
# sent LG_JSON ID: what the load generator sent for client ID.
sent() {
	python3 -c 'import json,sys; print(sum(c["sent"] for c in json.load(open(sys.argv[1]))["clients"] if c["client_id"] == int(sys.argv[2])))' "$1" "$2"
}
# totals EXPR: a python expression on /api/v1/totals (d).
totals() { api GET /api/v1/totals >/dev/null; r "$1"; }
# received ID: the client's received count in the latest view (0: absent).
received() {
	if [ "$(api GET "/api/v1/clients/$1")" = 200 ]; then r 'd["client"]["received"]'; else echo 0; fi
}
# wait_received ID N: until the view counts N for client ID (5 s at most).
wait_received() {
	for _ in $(seq 50); do
		[ "$(received "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_for EXPECTED CMD...: until CMD prints EXPECTED (5 s at most).
wait_for() {
	local want=$1; shift
	for _ in $(seq 50); do
		[ "$("$@")" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}
# lg NAME ARGS...: one bounded plain loadgen run, report in $work/NAME.json.
lg() {
	local name=$1; shift
	in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --quiet \
		--report-json "$work/$name.json" "$@" >"$work/$name.out" 2>&1
}
new_device() { # id name site rack role heartbeat
	check_eq "POST device $1" 201 "$(api POST /api/v1/devices \
		"{\"id\": $1, \"name\": \"$2\", \"labels\": {\"site\": \"$3\", \"rack\": \"$4\", \"role\": \"$5\"}, \"heartbeat_s\": $6}")"
}
xdrop() { totals "d['xdp']['stats']['$1']['packets']"; }
drop() { totals "d['drops']['$1']"; }

testbed_up

# ---- 0. the options' exit codes ----
# exit_code ARGS...: the collector's exit code for ARGS (it stops at once).
exit_code() {
	in_col timeout 10 "$collector" --mode plain --no-xdp --duration 0.1 "$@" \
		>"$work/exit.out" 2>"$work/exit.err"
	echo $?
}
check_eq "--inventory-only without --db: exit 2" 2 "$(exit_code --inventory-only)"
check "  and the message says what to add" grep -q "add --db FILE" "$work/exit.err"
echo "not an SQLite database, just some text that is long enough......" >"$work/junk.db"
check_eq "--db on a file that is not a database: exit 2" 2 "$(exit_code --db "$work/junk.db")"
check "  and the message names the file" grep -q "junk.db" "$work/exit.err"
check_eq "--db in a directory that does not exist: exit 2" 2 \
	"$(exit_code --db "$work/nowhere/xtel.db")"

# ---- 1. plain, XDP: CRUD examples, then disable mid-run ----
start_collector xdp --mode plain --iface "$XTEL_COL_IF" \
	--pin-dir "$XTEL_BPFFS/devices" --workers 2 --interval 0.5 \
	--stale-after 30 --db "$db" --http "$http" --http-rate 0 \
	--http-tokens "$work/tokens" || exit 1

n=0
wfmt='%{http_code}'
while IFS= read -r line; do
	cmd=${line%%# devices -> *}
	want=${line##*# devices -> }
	cmd="curl -s -o /dev/null -w $wfmt ${cmd#curl -s }"
	n=$((n + 1))
	got=$(in_col env ADMIN="$ADMIN" READ="$READ" bash -c "$cmd")
	check_eq "docs/API.md devices example $n: ${cmd:0:90}" "$want" "$got"
done < <(grep -E '^curl .*# devices -> [0-9]{3}$' "$top/docs/API.md")
check "docs/API.md has device examples" test "$n" -ge 10
api DELETE /api/v1/devices/7 >/dev/null

new_device 1 alpha fra1 r1 edge 0
new_device 2 beta fra1 r2 core 0
new_device 3 gamma fra1 r3 edge 1
new_device 6 never ams2 r9 spare 1

lg run1 --mode plain --clients 4 --count 400 --rate 4000 --seed 1
check_eq "run 1: loadgen exit code" 0 "$?"
for id in 1 2 3 4; do
	check "run 1: client $id accounted in full" wait_received $id "$(sent "$work/run1.json" $id)"
done
x0=$(xdrop drop_device_disabled)
check_eq "disable device 2 (PATCH)" 200 "$(api PATCH /api/v1/devices/2 '{"enabled": false}')"
check_eq "PATCH answers the stored device" False "$(r 'd["device"]["enabled"]')"
c2=$(received 2)
lg run2 --mode plain --clients 4 --count 300 --rate 3000 --seed 2
check_eq "run 2: loadgen exit code" 0 "$?"
for id in 1 3 4; do
	check "run 2: client $id accounted in full" wait_received $id \
		$(( $(sent "$work/run1.json" $id) + $(sent "$work/run2.json" $id) ))
done
check_eq "run 2: client 2 not accounted" "$c2" "$(received 2)"
x1=$(xdrop drop_device_disabled)
check_eq "run 2: XDP drop_device_disabled = client 2's sent" \
	"$(sent "$work/run2.json" 2)" $((x1 - x0))
check_eq "run 2: nothing reached userspace as device_disabled" 0 "$(drop device_disabled)"
check_eq "re-enable device 2" 200 "$(api PATCH /api/v1/devices/2 '{"enabled": true}')"
lg run3 --mode plain --first-id 2 --clients 1 --count 200 --rate 2000 --seed 3
check "run 3: re-enabled client 2 accounted in full" wait_received 2 \
	$((c2 + $(sent "$work/run3.json" 2)))
check_eq "run 3: drop_device_disabled unchanged" "$x1" "$(xdrop drop_device_disabled)"
check_eq "clients object: name of device 1" alpha \
	"$(api GET /api/v1/clients/1 >/dev/null; r 'd["client"]["device"]["name"]')"
check_eq "clients object: client 4 is unknown" None \
	"$(api GET /api/v1/clients/4 >/dev/null; r 'd["client"]["device"]')"

# ---- 2. stale: clients 10 and 11 stop without BYE ----
new_device 10 gamma fra1 r3 edge 1
# Not through in_gen: $! must be loadgen itself (ip netns exec execs it),
# to kill it without a BYE; --duration bounds it.
ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:$port" \
	--mode plain --first-id 10 --clients 2 --rate 40 --duration 20 --seed 4 \
	--quiet >/dev/null 2>&1 &
lg_pid=$!
sleep 1
kill -KILL "$lg_pid" 2>/dev/null
wait "$lg_pid" 2>/dev/null
lg_pid=
# The view after more than the heartbeat of silence (one interval or two).
dev10_stale() { api GET /api/v1/devices/10 >/dev/null; r 'd["device"]["status"]["stale"]'; }
wait_for True dev10_stale
api GET /api/v1/devices/10 >/dev/null
check_eq "device 10 (heartbeat 1 s, silent): status.stale" True "$(r 'd["device"]["status"]["stale"]')"
check "device 10: silent_s over the heartbeat" python3 -c "import sys; sys.exit(not 1.0 < $(r 'd["device"]["status"]["silent_s"]') < 10)"
check_eq "client 10: state stale" stale "$(api GET /api/v1/clients/10 >/dev/null; r 'd["client"]["state"]')"
check_eq "client 11 (unknown, --stale-after 30): state live" live \
	"$(api GET /api/v1/clients/11 >/dev/null; r 'd["client"]["state"]')"
api GET /api/v1/devices/6 >/dev/null
check_eq "device 6: never seen" "never_seen True False" \
	"$(r 'd["device"]["status"]["state"]') $(r 'd["device"]["status"]["stale"]') $(r 'd["device"]["status"]["seen"]')"
api GET /api/v1/devices >/dev/null
check_eq "list: count, enabled, by id" "5 5 [1, 2, 3, 6, 10]" \
	"$(r 'd["count"]') $(r 'd["enabled"]') $(r '[x["id"] for x in d["devices"]]')"
# page PARAMS: status total count limit offset-or-after next_after [ids].
page() {
	printf '%s ' "$(api GET "/api/v1/devices${1:+?$1}")"
	r '"%s %s %s %s %s %s" % (d["total"], d["count"], d["limit"], d.get("offset", d.get("after")), d["next_after"], [x["id"] for x in d["devices"]])'
}
check_eq "list: default limit 1000, offset 0, no next page" \
	"200 5 5 1000 0 None [1, 2, 3, 6, 10]" "$(page '')"
check_eq "list?limit=2: the first two, next_after 2" "200 5 2 2 0 2 [1, 2]" "$(page limit=2)"
check_eq "list?limit=2&after=2: the next two" "200 5 2 2 2 6 [3, 6]" "$(page 'limit=2&after=2')"
check_eq "list?limit=2&after=6: the last one, no next page" "200 5 1 2 6 None [10]" \
	"$(page 'limit=2&after=6')"
check_eq "list?after=4 (no such device): those above it" "200 5 2 1000 4 None [6, 10]" \
	"$(page after=4)"
check_eq "list?after=4294967295: none" "200 5 0 1000 4294967295 None []" \
	"$(page after=4294967295)"
check_eq "list?offset=3&limit=10: the fourth and fifth" "200 5 2 10 3 None [6, 10]" \
	"$(page 'offset=3&limit=10')"
check_eq "list?offset=9: past the end, empty" "200 5 0 1000 9 None []" "$(page offset=9)"
for bad in 'after=1&offset=1 offset' 'limit=0 limit' 'limit=10001 limit' 'after=x after'; do
	check_eq "list?${bad% *}: 400 bad_parameter naming ${bad#* }" "400 bad_parameter ${bad#* }" \
		"$(api GET "/api/v1/devices?${bad% *}") $(r 'd["error"]["code"]') $(r 'd["error"]["param"]')"
done
in_col curl -s -H "Authorization: Bearer $READ" "http://$http/metrics" >"$work/metrics.txt"
check "metrics: client 10 stale with name and labels" grep -qx \
	'xtel_client_stale{client_id="10",name="gamma",site="fra1",rack="r3",role="edge"} 1' "$work/metrics.txt"
check "metrics: unknown client 11 without device labels" grep -qx \
	'xtel_client_stale{client_id="11"} 0' "$work/metrics.txt"
check "metrics: received series labelled" grep -q \
	'^xtel_client_received_datagrams_total{client_id="1",name="alpha",site="fra1",rack="r1",role="edge"} ' "$work/metrics.txt"
check_eq "totals: devices (6 and 10 stale, 6 never seen, 11 unknown)" \
	"{'all': 5, 'enabled': 5, 'stale': 2, 'never_seen': 1, 'unknown_clients': 2}" \
	"$(totals '{k: v for k, v in d["devices"].items() if k != "version"}')"
check "metrics: xtel_devices stale counts devices 10 and 6" grep -qx \
	'xtel_devices{state="stale"} 2' "$work/metrics.txt"
check "table: client 10 stale with how long, and its name" grep -qE \
	'^ +10 .* stale:[0-9]+s +gamma$' "$work/xdp.out"
check "table: unknown client 11" grep -qE '^ +11 .* \(unknown\)$' "$work/xdp.out"

# ---- 3. SIGHUP reload, restart, --inventory-only in XDP ----
python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO devices VALUES (9, 'added', '', '', '', 0, 1, 'by hand', 1, 1)")
c.commit()
PY
check_eq "row written by another connection: not yet in effect" 404 "$(api GET /api/v1/devices/9)"
kill -HUP "$col_pid"
sleep 0.3
check_eq "SIGHUP: the row is in the inventory" "200 added" "$(api GET /api/v1/devices/9) $(r 'd["device"]["name"]')"
stop_collector TERM
check_eq "collector exit code" 0 "$col_rc"

start_collector xdp2 --mode plain --iface "$XTEL_COL_IF" \
	--pin-dir "$XTEL_BPFFS/devices" --workers 2 --interval 0.5 \
	--db "$db" --inventory-only --http "$http" --http-rate 0 \
	--http-tokens "$work/tokens" || exit 1
wait_for 200 api GET /api/v1/totals
check "restart: 6 devices loaded" grep -q "devices: 6 in .*, others refused (--inventory-only)" "$work/xdp2.err"
api GET /api/v1/devices/3 >/dev/null
check_eq "restart: device 3 as stored" "gamma r3 1.0" \
	"$(r 'd["device"]["name"]') $(r 'd["device"]["labels"]["rack"]') $(r 'd["device"]["heartbeat_s"]')"
u0=$(xdrop drop_device_unknown)
lg run4 --mode plain --clients 4 --count 200 --rate 2000 --seed 5
check "run 4: client 1 accounted in full" wait_received 1 "$(sent "$work/run4.json" 1)"
check_eq "run 4: XDP drop_device_unknown = client 4's sent" \
	"$(sent "$work/run4.json" 4)" $(( $(xdrop drop_device_unknown) - u0 ))
check_eq "run 4: client 4 not accounted" 0 "$(received 4)"
stop_collector TERM
check_eq "collector exit code" 0 "$col_rc"

# ---- 4. no XDP: the receive path refuses ----
start_collector noxdp --mode plain --no-xdp --workers 2 --interval 0.5 \
	--db "$db" --inventory-only --http "$http" --http-rate 0 \
	--http-tokens "$work/tokens" --summary-json "$work/noxdp.json" || exit 1
lg run5 --mode plain --clients 5 --count 300 --rate 3000 --seed 6
check "run 5: client 2 accounted in full" wait_received 2 "$(sent "$work/run5.json" 2)"
check_eq "disable device 2" 200 "$(api PATCH /api/v1/devices/2 '{"enabled": false}')"
lg run6 --mode plain --clients 5 --count 300 --rate 3000 --seed 7
check "run 6: client 1 accounted in full" wait_received 1 \
	$(( $(sent "$work/run5.json" 1) + $(sent "$work/run6.json" 1) ))
want=$(sent "$work/run6.json" 2)
wait_for "$want" drop device_disabled
check_eq "run 6: device_disabled = client 2's sent in run 6" "$want" "$(drop device_disabled)"
want=$(( $(sent "$work/run5.json" 4) + $(sent "$work/run6.json" 4) + \
	 $(sent "$work/run5.json" 5) + $(sent "$work/run6.json" 5) ))
wait_for "$want" drop device_unknown
check_eq "run 5+6: device_unknown = clients 4 and 5's sent" "$want" "$(drop device_unknown)"
stop_collector TERM
check_eq "collector exit code" 0 "$col_rc"
check_eq "summary JSON: device_disabled" "$(sent "$work/run6.json" 2)" \
	"$(json_get "$work/noxdp.json" 'd["drops"]["device_disabled"]')"

# ---- 5. DTLS: refused at the handshake, and records after a disable ----
if command -v openssl >/dev/null; then
	certs=$work/certs
	"$top/certs/gen.sh" "$certs" 3 >/dev/null 2>&1 || fail "certs/gen.sh"
	start_collector dtls --no-xdp --workers 1 --interval 0.5 \
		--cert "$certs/server.crt" --key "$certs/server.key" --ca "$certs/ca.crt" \
		--db "$db" --http "$http" --http-rate 0 --http-tokens "$work/tokens" \
		--summary-json "$work/dtls.json" || exit 1
	check_eq "device 3 enabled" 200 "$(api PATCH /api/v1/devices/3 '{"enabled": true}')"
	in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
		--first-id 2 --clients 1 --count 50 --handshake-timeout 3 --quiet \
		>"$work/dtls2.out" 2>&1
	check_eq "disabled device 2: loadgen reports a failed handshake" 4 "$?"
	wait_for 1 drop dtls_failed_device
	check_eq "dtls_failed_device" 1 "$(drop dtls_failed_device)"
	in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
		--first-id 3 --clients 1 --rate 200 --duration 2 --quiet \
		--report-json "$work/dtls3.json" >"$work/dtls3.out" 2>&1 &
	lg_pid=$!
	sleep 1.2
	check_eq "disable device 3 during its session" 200 \
		"$(api PATCH /api/v1/devices/3 '{"enabled": false}')"
	wait "$lg_pid"
	check_eq "device 3: loadgen exit code" 0 "$?"
	lg_pid=
	sleep 1
	stop_collector TERM
	check_eq "collector exit code" 0 "$col_rc"
	python3 - "$work/dtls.json" "$work/dtls3.json" >"$work/dtls.check" <<'PY'
import json, sys
s, g = (json.load(open(p)) for p in sys.argv[1:3])
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
sent = g["clients"][0]["sent"]
recv = sum(c["received"] for c in s["clients"] if c["client_id"] == 3)
dis = s["drops"]["device_disabled"]
check("device 3: received + device_disabled = sent", sent, recv + dis)
check("device 3: some records before, some refused after", True, recv > 0 and dis > 0)
check("handshake failures: only device 2's, as dtls_failed_device", 1,
      s["drops"]["dtls_failed_device"])
check("recent failure: reason and claimed id", [("device", 2)],
      [(f["reason"], f["client_id"]) for f in s["dtls_recent_failures"]])
PY
	tally "$work/dtls.check"
else
	echo "skip DTLS part: openssl not installed"
fi

finish
