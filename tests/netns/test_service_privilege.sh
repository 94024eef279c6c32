#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: the collector runs as an unprivileged user (nobody) holding
# only the capabilities xtel-collector.service grants (setpriv: the same
# ambient set, bounding set and no_new_privs the unit sets; no root):
#   1. with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN: XDP attached on the testbed's veth,
#      maps pinned in a bpffs directory owned by the user, the receive
#      buffer forced, DTLS served (the loadgen's datagrams all accounted),
#      and the process really is that user with exactly those capabilities;
#      it stops cleanly (XDP detached), restarts on its pins, and after a
#      SIGKILL the next start replaces the program left attached;
#   2. each missing capability is exit code 7 with the capability named:
#      CAP_NET_ADMIN, CAP_BPF and CAP_PERFMON for XDP, CAP_NET_BIND_SERVICE for a port
#      below 1024 (which works once it is granted); the receive buffer
#      without CAP_NET_ADMIN only warns, as documented.
#
# usage: test_service_privilege.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_service_privilege.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"

command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) missing"; exit 77; }
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+bpf \
	--ambient-caps=-all,+bpf true 2>/dev/null ||
	{ echo "SKIP: setpriv cannot keep CAP_BPF as ambient here"; exit 77; }
certs=$work/certs
"$top/certs/gen.sh" "$certs" 2 >/dev/null 2>&1 || { echo "FAIL certs/gen.sh"; exit 1; }
testbed_up
# The user must reach the binary, the certificates and its output.
chmod -R a+rX "$work"
chown 65534 "$certs/server.key"
mkdir -m 0777 "$work/out"
pins=$XTEL_BPFFS/priv
mkdir -p "$pins"
chown 65534:65534 "$pins"

# as_user CAPS CMD...: CMD in the collector namespace as nobody with only
# CAPS (",+bpf,+net_admin" or ""): inheritable, ambient and bounding set.
as_user() {
	local caps=$1; shift
	ip netns exec "$XTEL_NS_COL" setpriv --reuid=65534 --regid=65534 \
		--clear-groups --no-new-privs --inh-caps="-all$caps" \
		--ambient-caps="-all$caps" --bounding-set="-all$caps" "$@"
}
# expect NAME CODE PATTERN CAPS ARGS...: the collector as nobody with CAPS.
expect() {
	local name=$1 code=$2 pattern=$3 caps=$4; shift 4
	timeout 10 bash -c 'as_user "$@"' _ "$caps" "$collector" "$@" \
		>"$work/out/x.out" 2>"$work/out/x.err"
	local rc=$?
	if [ "$rc" = "$code" ] && grep -q -- "$pattern" "$work/out/x.err"; then
		ok "$name: exit $rc, '$pattern'"
	else
		fail "$name: expected exit $code and '$pattern', got exit $rc:"
		sed 's/^/     /' "$work/out/x.err" | head -5
	fi
}
export -f as_user
export XTEL_NS_COL

K=(--cert "$certs/server.crt" --key "$certs/server.key" --ca "$certs/ca.crt")
X=(--iface "$XTEL_COL_IF" --pin-dir "$pins" --workers 1)

# ---- 1. the unit's capabilities: everything works ----
caps=",+bpf,+perfmon,+net_admin"
# Not through as_user: $! must be the collector itself (ip netns exec and
# setpriv exec it).
ip netns exec "$XTEL_NS_COL" setpriv --reuid=65534 --regid=65534 \
	--clear-groups --no-new-privs --inh-caps="-all$caps" \
	--ambient-caps="-all$caps" --bounding-set="-all$caps" \
	"$collector" "${X[@]}" "${K[@]}" --quiet \
	--summary-json "$work/out/priv.json" >"$work/out/priv.out" 2>"$work/out/priv.err" &
col_pid=$!
for _ in $(seq 100); do
	grep -q "^collector: .* mode, " "$work/out/priv.err" 2>/dev/null && break
	kill -0 "$col_pid" 2>/dev/null || break
	sleep 0.05
done
check "started as nobody" grep -q "^collector: dtls mode, 1 worker" "$work/out/priv.err"
check "XDP attached" grep -q "^collector: XDP .* on $XTEL_COL_IF, maps in $pins" "$work/out/priv.err"
check "receive buffer forced (CAP_NET_ADMIN)" grep -q "rcvbuf [0-9]* bytes (forced)" "$work/out/priv.err"
check_eq "maps pinned, owned by the user" 65534 \
	"$(stat -c %u "$(find "$pins" -type f | head -1)" 2>/dev/null)"
check_eq "runs as uid 65534" 65534 "$(awk '/^Uid:/ {print $2}' "/proc/$col_pid/status")"
# CAP_NET_ADMIN is bit 12, CAP_PERFMON 38, CAP_BPF 39.
check_eq "effective capabilities: exactly CAP_NET_ADMIN, CAP_PERFMON and CAP_BPF" \
	000000c000001000 "$(awk '/^CapEff:/ {print $2}' "/proc/$col_pid/status")"
check_eq "no_new_privs" 1 "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$col_pid/status")"
in_gen "$loadgen" --target "$XTEL_COL_IP4:7700" --mode dtls --certs "$certs" \
	--clients 2 --count 300 --rate 1000 --quiet --report-json "$work/lg.json" \
	>"$work/lg.out" 2>&1
check_eq "DTLS served: loadgen exit code" 0 "$?"
sleep 0.5
stop_collector TERM
check_eq "collector exit code" 0 "$col_rc"
check_eq "every datagram accounted" \
	"$(json_get "$work/lg.json" 'd["totals"]["sent"]')" \
	"$(json_get "$work/out/priv.json" 'd["totals"]["received"]')"
check_eq "XDP saw both clients" 2 \
	"$(json_get "$work/out/priv.json" 'len(d["clients"])')"

check_eq "the user's clean stop detached XDP" 0 \
	"$(in_col ip link show "$XTEL_COL_IF" | grep -c prog/xdp)"
# A restart as the user reuses its pins (no BTF read-back without
# CAP_SYS_ADMIN: type and sizes decide) and attaches again.
expect "restart as the user reuses the pins" 0 "maps in $pins" \
	"$caps" "${X[@]}" "${K[@]}" --duration 0.3 --quiet
check "... without replacing them" bash -c "! grep -q 'replacing stale' '$work/out/x.err'"

# Killed (Restart=on-failure's case): its program stays attached, and the
# next start as the user recognises it by its pin and replaces it.
ip netns exec "$XTEL_NS_COL" setpriv --reuid=65534 --regid=65534 \
	--clear-groups --no-new-privs --inh-caps="-all$caps" \
	--ambient-caps="-all$caps" --bounding-set="-all$caps" \
	"$collector" "${X[@]}" "${K[@]}" --quiet >/dev/null 2>"$work/out/kill.err" &
col_pid=$!
for _ in $(seq 100); do
	grep -q "^collector: .* mode, " "$work/out/kill.err" 2>/dev/null && break
	sleep 0.05
done
stop_collector KILL
check_eq "SIGKILL leaves the program attached" 1 \
	"$(in_col ip link show "$XTEL_COL_IF" | grep -c prog/xdp)"
expect "the next start as the user replaces it" 0 \
	"xdp: replacing the xtel XDP program (id [0-9]*) left attached to $XTEL_COL_IF" \
	"$caps" "${X[@]}" "${K[@]}" --duration 0.3 --quiet
check_eq "... and detaches at its clean stop" 0 \
	"$(in_col ip link show "$XTEL_COL_IF" | grep -c prog/xdp)"

# ---- 2. each missing capability: exit 7, named ----
expect "without CAP_NET_ADMIN" 7 "XDP on $XTEL_COL_IF needs CAP_NET_ADMIN" \
	",+bpf,+perfmon" "${X[@]}" "${K[@]}" --duration 0.2
expect "without CAP_BPF" 7 "XDP on $XTEL_COL_IF needs CAP_BPF" \
	",+net_admin,+perfmon" "${X[@]}" "${K[@]}" --duration 0.2
expect "without CAP_PERFMON" 7 "XDP on $XTEL_COL_IF needs CAP_PERFMON" \
	",+net_admin,+bpf" "${X[@]}" "${K[@]}" --duration 0.2
expect "port 700 without CAP_NET_BIND_SERVICE" 7 \
	"binding UDP port 700 needs CAP_NET_BIND_SERVICE" \
	"" --mode plain --no-xdp --port 700 --duration 0.2
expect "port 700 with CAP_NET_BIND_SERVICE" 0 "on \[::\]:700, io_uring" \
	",+net_bind_service" --mode plain --no-xdp --port 700 --duration 0.2
expect "no capability at all, no XDP: the buffer falls back and warns" 0 \
	"SO_RCVBUFFORCE needs CAP_NET_ADMIN; fell back to SO_RCVBUF" \
	"" --mode plain --no-xdp --duration 0.2

rm -rf "$pins"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
