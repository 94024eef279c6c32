# SPDX-License-Identifier: MIT
# Shared helpers of the collector's netns tests (sourced, not run): testbed
# up/down with a trap, starting the collector inside the collector namespace
# and waiting until it listens, stopping it with a signal, and exact-value
# checks that print "ok"/"FAIL" lines and count failures.

tb="$top/scripts/testbed.sh"
eval "$("$tb" env)"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root for network namespaces"
	exit 77
fi

fails=0
passes=0
col_pid=
work=$(mktemp -d /tmp/xtel-collector-test.XXXXXX)

ok() { echo "ok   $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

check() { # description command...
	local what=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}

check_eq() { # description expected actual
	if [ "$2" = "$3" ]; then ok "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi
}

# tally FILE: prints a check script's ok/FAIL lines and adds them up.
tally() {
	cat "$1"
	passes=$((passes + $(grep -c '^ok' "$1")))
	fails=$((fails + $(grep -c '^FAIL' "$1")))
}

lib_cleanup() {
	if [ -n "$col_pid" ] && kill -0 "$col_pid" 2>/dev/null; then
		kill -KILL "$col_pid" 2>/dev/null
		wait "$col_pid" 2>/dev/null
	fi
	"$tb" down >/dev/null 2>&1
	rm -rf "$work"
}
trap lib_cleanup EXIT

testbed_up() {
	"$tb" up >/dev/null || { echo "FAIL testbed.sh up"; exit 1; }
}

# Datagrams the veth pair dropped before any XDP program saw them (the
# generator's TX and the collector's RX drop counters, summed). Under a
# flood the veth ring can overflow; an exact equation across the link
# must count these, as bench/ does for its "nic" loss.
veth_drops() {
	local tx rx
	tx=$(ip netns exec "$XTEL_NS_GEN" cat "/sys/class/net/$XTEL_GEN_IF/statistics/tx_dropped")
	rx=$(ip netns exec "$XTEL_NS_COL" cat "/sys/class/net/$XTEL_COL_IF/statistics/rx_dropped")
	echo $((tx + rx))
}

# check_veth_clean SINCE: a check that the veth pair dropped nothing since
# SINCE (an earlier veth_drops), for tests whose exact counts need every
# datagram of a load; a failure then names the link, not the collector.
check_veth_clean() {
	check_eq "the veth pair dropped nothing (the exact counts need every datagram)" \
		0 $(($(veth_drops) - $1))
}

in_col() { ip netns exec "$XTEL_NS_COL" "$@"; }
in_gen() { ip netns exec "$XTEL_NS_GEN" "$@"; }

# run_checks NAME CMD...: a checker (api_checks.py, dashboard_checks.cjs and
# the like) in the collector netns, its output in $work/NAME.check and its
# ok/FAIL lines tallied; a non-zero exit without a FAIL line is one.
run_checks() {
	local name=$1; shift
	in_col "$@" >"$work/$name.check" 2>&1
	local rc=$?
	tally "$work/$name.check"
	[ $rc -eq 0 ] || grep -q '^FAIL' "$work/$name.check" || fail "$name: exited $rc (see above)"
}

# wait_log PATTERN FILE PID [TRIES]: until FILE has a line matching
# PATTERN (grep), while PID lives, TRIES x 50 ms at most (100); 0 if found.
wait_log() {
	for _ in $(seq "${4:-100}"); do
		grep -q "$1" "$2" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.05
	done
	grep -q "$1" "$2" 2>/dev/null
}

# start_collector NAME ARGS...: runs the collector in the collector
# namespace with stdout/stderr in $work/NAME.{out,err}; waits (5 s at most)
# until it printed its start line, i.e. every worker is receiving.
start_collector() {
	local name=$1; shift
	ip netns exec "$XTEL_NS_COL" "$collector" "$@" \
		>"$work/$name.out" 2>"$work/$name.err" &
	col_pid=$!
	wait_log "^collector: .* mode, " "$work/$name.err" "$col_pid" && return 0
	echo "collector did not start:"; cat "$work/$name.err"
	return 1
}

# stop_collector [SIGNAL]: sends SIGNAL (TERM), waits, sets col_rc.
stop_collector() {
	kill "-${1:-TERM}" "$col_pid" 2>/dev/null
	wait "$col_pid"
	col_rc=$?
	col_pid=
}

# wait_collector: waits for a collector that stops by itself (--duration).
wait_collector() {
	wait "$col_pid"
	col_rc=$?
	col_pid=
}

# jq-like field read with python: json_get FILE EXPR (python expression on d)
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

finish() {
	echo "$passes passed, $fails failed"
	[ "$fails" -eq 0 ]
}
