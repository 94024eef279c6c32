# SPDX-License-Identifier: MIT
#
# Shared by the loadgen capture tests (tests/unit/test_loadgen_capture.sh on
# loopback, tests/netns/test_loadgen_netns.sh on the testbed): start the
# capture tool in the background and wait for it. Source it after setting
# CAPTURE (the tool), work (a scratch directory) and, optionally,
# CAPTURE_IN (a command prefix such as `ip netns exec xtel-col`).

# start_capture BIND_ADDR NAME [capture options]: sets $port and $cap_pid.
start_capture() {
	local addr=$1 name=$2
	shift 2
	rm -f "$work/$name.port"
	${CAPTURE_IN:-} "$CAPTURE" --bind "$addr" --port-file "$work/$name.port" \
		--out "$work/$name.cap" --timeout 60 "$@" &
	cap_pid=$!
	for _ in $(seq 100); do
		[ -s "$work/$name.port" ] && break
		sleep 0.05
	done
	port=$(cat "$work/$name.port" 2>/dev/null)
	[ -n "$port" ] || { echo "capture did not start" >&2; exit 1; }
}

# wait_capture: the capture's exit status; clears $cap_pid.
wait_capture() {
	wait "$cap_pid"
	local rc=$?
	cap_pid=
	return $rc
}
