#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# integration tier: the history in SQLite (--db, docs/STORAGE.md) and its
# API (docs/API.md, "GET /api/v1/history") with real SQLite files, the
# collector in the testbed's collector namespace (sockets, no XDP).
#  1. docs: a collector serves the file history_fixture writes; every
#     example of docs/API.md's "History examples" equals its reply.
#  2. exact and restart: loadgen with injected loss/dup/reorder, the
#     collector stopped (final partial buckets written), a second
#     collector on the same file serves it: every tier's sums, per client
#     and for the fleet, equal the summary JSON and loadgen's report.
#  3. crash: SIGKILL during heavy writes (3,000 clients), then
#     PRAGMA integrity_check is ok, the 1 s fleet rows and the 10 s rows of
#     a client have no gap up to the last committed one (committed during
#     the load), a restart on the file writes on and rebuilds what the
#     crash lost of the coarser tiers from the finer rows (every tier sums
#     to the same).
#  4. full disk (a 2 MiB tmpfs of our own, filled up): a clear message, at
#     most a burst of them (rate-limited), rows counted as dropped in the
#     summary JSON, and ingest unaffected (received = loadgen sent).
#  5. start-up refusals (exit code 2, message saying what to fix): a
#     read-only file system, a missing directory, a file that is not a
#     database, a schema newer than this collector; --retain without --db,
#     a bad --retain.
# About 45 s in all, most of it the crash test's 11 s of load.
#
# usage: test_history.sh SOURCE_ROOT COLLECTOR LOADGEN HISTORY_FIXTURE
set -uo pipefail
top=${1:?usage: test_history.sh SOURCE_ROOT COLLECTOR LOADGEN HISTORY_FIXTURE}
collector=${2:?}
loadgen=${3:?}
fixture=${4:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../netns/test_collector_lib.sh
. "$top/tests/netns/test_collector_lib.sh"
checks="$here/history_checks.py"
port=7700
http=127.0.0.1:9477
forever=1s=36500d,10s=36500d,1m=36500d,1h=36500d
mnt=

command -v sqlite3 >/dev/null || { echo "FAIL sqlite3 not installed: run scripts/deps.sh"; exit 1; }

hist_cleanup() {
	if [ -n "$mnt" ]; then
		[ -n "$col_pid" ] && kill -KILL "$col_pid" 2>/dev/null && wait "$col_pid" 2>/dev/null
		col_pid=
		umount "$mnt" 2>/dev/null
	fi
	lib_cleanup
}
trap hist_cleanup EXIT


sql() { sqlite3 -batch "$@" 2>&1; }

wait_http() {
	for _ in $(seq 100); do
		in_col curl -sf "http://$http/healthz" >/dev/null && return 0
		sleep 0.05
	done
	fail "the HTTP API did not come up"
	return 1
}

col_common=(--mode plain --no-xdp --workers 2 --quiet --port "$port")

testbed_up

# ---- 1. the documentation's examples ----
"$fixture" "$work/doc.db"
check_eq "history_fixture: exit code" 0 "$?"
start_collector docs "${col_common[@]}" --db "$work/doc.db" --retain "$forever" \
	--http "$http" || exit 1
wait_http
run_checks docs python3 "$checks" docs "http://$http" "$top/docs/API.md"
stop_collector TERM
check_eq "docs collector: exit code" 0 "$col_rc"

# ---- 2. exact values, across a restart ----
t_from=$(( $(date +%s) - 5 ))
start_collector run1 "${col_common[@]}" --interval 0.5 --db "$work/h.db" \
	--summary-json "$work/run1.json" || exit 1
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 6 \
	--threads 2 --count 1500 --rate 3000 --loss 0.02 --dup 0.01 \
	--reorder 0.02 --seed 7 --payload 'id={client};seq={seq}' --quiet \
	--report-json "$work/lg.json" >"$work/lg.out" 2>&1
check_eq "loadgen: exit code" 0 "$?"
sleep 1.2	# two views: every gap confirmed by the BYEs
stop_collector TERM
check_eq "run1: exit code" 0 "$col_rc"
check_eq "run1: no view dropped" 0 "$(json_get "$work/run1.json" 'd["db"]["dropped_views"]')"
check_eq "run1: every row written" "True 0" "$(json_get "$work/run1.json" \
	'str(d["db"]["written_rows"] > 0) + " " + str(d["db"]["dropped_rows"])')"
start_collector run2 "${col_common[@]}" --db "$work/h.db" --http "$http" || exit 1
wait_http
sleep 1.2	# its first view: /metrics and the writer's counters need one
run_checks exact python3 "$checks" exact "http://$http" "$work/run1.json" "$work/lg.json" \
	"$t_from" $(( $(date +%s) + 3600 ))
check_eq "a parameter out of range: 400" 400 "$(in_col curl -s -o /dev/null \
	-w '%{http_code}' "http://$http/api/v1/history?client_id=1&step=15")"
check_eq "an unknown metric: 404" 404 "$(in_col curl -s -o /dev/null \
	-w '%{http_code}' "http://$http/api/v1/history?client_id=1&metric=nope")"
stop_collector TERM
check_eq "run2: exit code" 0 "$col_rc"
check_eq "after two runs: integrity_check" ok "$(sql "$work/h.db" 'PRAGMA integrity_check')"
check_eq "the WAL is checkpointed at exit" 0 "$(stat -c %s "$work/h.db-wal" 2>/dev/null || echo 0)"

# ---- 3. SIGKILL during heavy writes ----
# 11 s of writes before the kill: at least one 10 s bucket closes.
secs=13
start_collector crash "${col_common[@]}" --interval 0.25 --db "$work/c.db" \
	--max-clients 8192 || exit 1
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 3000 \
	--threads 2 --rate 30000 --duration "$secs" --quiet >/dev/null 2>&1 &
lg_bg=$!
load_s=$(date +%s)
sleep $(( secs - 2 ))
kill_s=$(date +%s)
stop_collector KILL
wait "$lg_bg"
check_eq "after SIGKILL: integrity_check" ok "$(sql "$work/c.db" 'PRAGMA integrity_check')"
read -r lo hi n <<<"$(sql -separator ' ' "$work/c.db" 'SELECT min(ts), max(ts), count(*) FROM totals_1s')"
check_eq "after SIGKILL: 1 s fleet rows without a gap ($lo..$hi)" $(( hi - lo + 1 )) "$n"
# Not a timing check: only that rows were committed during the load (the
# lag behind the kill is printed, not judged).
if [ "$hi" -ge "$load_s" ]; then
	ok "after SIGKILL: rows committed during the load (the last $(( kill_s - hi )) s before the kill)"
else
	fail "after SIGKILL: the last 1 s row ($hi) is before the load started ($load_s)"
fi
read -r lo hi n <<<"$(sql -separator ' ' "$work/c.db" 'SELECT min(ts), max(ts), count(*) FROM acct_10s WHERE client = 1')"
check_eq "after SIGKILL: client 1's 10 s rows without a gap ($lo..$hi)" $(( (hi - lo) / 10 + 1 )) "$n"
rows_before=$(sql "$work/c.db" 'SELECT count(*) FROM totals_1s')
start_collector crash2 "${col_common[@]}" --db "$work/c.db" || exit 1
sleep 2
stop_collector TERM
check_eq "restart after SIGKILL: exit code" 0 "$col_rc"
rows_after=$(sql "$work/c.db" 'SELECT count(*) FROM totals_1s')
if [ "$rows_after" -gt "$rows_before" ]; then
	ok "restart after SIGKILL writes on ($rows_before -> $rows_after rows)"
else
	fail "restart after SIGKILL: no new rows ($rows_before -> $rows_after)"
fi
check_eq "after the restart: integrity_check" ok "$(sql "$work/c.db" 'PRAGMA integrity_check')"
check "the restart says it rebuilt the coarser tiers" grep -q "did not stop cleanly: .* rows of the coarser tiers rebuilt" "$work/crash2.err"
# What the crash lost of the coarser tiers came back from the finer rows.
tiers=$(sql -separator ' ' "$work/c.db" "SELECT (SELECT sum(received) FROM acct_10s WHERE client = 1), (SELECT sum(received) FROM acct_1m WHERE client = 1), (SELECT sum(received) FROM acct_1h WHERE client = 1)")
read -r a b c <<<"$tiers"
check_eq "after the restart: client 1's 1 min and 1 h rows sum to its 10 s rows" "$a $a $a" "$tiers"
tiers=$(sql -separator ' ' "$work/c.db" "SELECT (SELECT sum(received) FROM totals_1s), (SELECT sum(received) FROM totals_10s), (SELECT sum(received) FROM totals_1m), (SELECT sum(received) FROM totals_1h)")
read -r a b <<<"$tiers"
check_eq "after the restart: every fleet tier sums to the 1 s rows" "$a $a $a $a" "$tiers"

# ---- 4. a full file system ----
mnt="$work/full"
mkdir -p "$mnt"
if mount -t tmpfs -o size=2m xtel-history-test "$mnt"; then
	start_collector full "${col_common[@]}" --interval 0.25 --db "$mnt/h.db" \
		--summary-json "$work/full.json" || exit 1
	dd if=/dev/zero of="$mnt/filler" bs=4k >/dev/null 2>&1	# until ENOSPC
	in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain \
		--clients 2000 --threads 2 --rate 20000 --duration 3 --quiet \
		--report-json "$work/lg_full.json" >/dev/null 2>&1
	sleep 0.6
	stop_collector TERM
	check_eq "full disk: exit code" 0 "$col_rc"
	check_eq "full disk: ingest unaffected (received = loadgen sent)" \
		"$(json_get "$work/lg_full.json" 'd["totals"]["sent"]')" \
		"$(json_get "$work/full.json" 'd["totals"]["received"]')"
	n=$(json_get "$work/full.json" 'd["db"]["dropped_rows"]')
	if [ "$n" -gt 0 ]; then ok "full disk: dropped_rows counted ($n)"; else fail "full disk: dropped_rows is 0"; fi
	n=$(json_get "$work/full.json" 'd["db"]["failed_transactions"]')
	if [ "$n" -gt 0 ]; then ok "full disk: failed_transactions counted ($n)"; else fail "full disk: failed_transactions is 0"; fi
	check_eq "full disk: the last error" "'No space left on device'" \
		"$(json_get "$work/full.json" 'repr(d["db"]["error"])')"
	check "full disk: the message says what to do" \
		grep -q "the file system is full: free space there" "$work/full.err"
	n=$(grep -c "the file system is full" "$work/full.err")
	if [ "$n" -le 40 ]; then ok "full disk: messages rate-limited ($n)"; else fail "full disk: $n messages"; fi

	# ---- 5. start-up refusals ----
	rm -f "$mnt/filler"
	"$fixture" "$mnt/ro.db"
	mount -o remount,ro "$mnt"
	in_col "$collector" "${col_common[@]}" --db "$mnt/ro.db" --duration 1 \
		>/dev/null 2>"$work/ro.err"
	check_eq "read-only file system: exit code" 2 "$?"
	check "read-only file system: the message says so" grep -q "read-only\|not writable" "$work/ro.err"
	umount "$mnt"
	mnt=
else
	fail "cannot mount a tmpfs for the full-disk test"
fi
in_col "$collector" "${col_common[@]}" --db "$work/nodir/h.db" --duration 1 \
	>/dev/null 2>"$work/nodir.err"
check_eq "missing directory: exit code" 2 "$?"
check "missing directory: the message names it" grep -q "directory $work/nodir does not exist" "$work/nodir.err"
echo "not a database, just text, long enough to have a header" >"$work/text.db"
in_col "$collector" "${col_common[@]}" --db "$work/text.db" --duration 1 \
	>/dev/null 2>"$work/text.err"
check_eq "not a database: exit code" 2 "$?"
check "not a database: the message says so" grep -q "not an SQLite database" "$work/text.err"
"$fixture" "$work/new.db"
sql "$work/new.db" "UPDATE xtel_schema SET version = 99 WHERE component = 'history'" >/dev/null
in_col "$collector" "${col_common[@]}" --db "$work/new.db" --duration 1 \
	>/dev/null 2>"$work/new.err"
check_eq "newer schema: exit code" 2 "$?"
check "newer schema: refused with the versions" grep -q "history schema is version 99, newer than this program's 1" "$work/new.err"
check_eq "newer schema: the file is untouched" 99 "$(sql "$work/new.db" "SELECT version FROM xtel_schema WHERE component = 'history'")"
"$collector" "${col_common[@]}" --retain 10s=1d >/dev/null 2>"$work/r.err"
check_eq "--retain without --db: exit code" 2 "$?"
check "--retain without --db: says so" grep -q -- "--retain needs the history: add --db FILE" "$work/r.err"
"$collector" "${col_common[@]}" --db "$work/x.db" --retain 10s=5s >/dev/null 2>"$work/r2.err"
check_eq "--retain 10s=5s (shorter than the tier): exit code" 2 "$?"

finish
