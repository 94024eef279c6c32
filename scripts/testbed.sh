#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The XTel testbed: two network namespaces joined by a veth pair, on which the
# integration tests, the demo and the benchmarks run.
#
#   xtel-col  veth-col  198.18.0.1/24  2001:2::1/64   (collector side)
#   xtel-gen  veth-gen  198.18.0.2/24  2001:2::2/64   (load generator side)
#
# xtel-gen can also bind any address of the flood ranges 198.18.1.0/24 and
# 2001:2:0:1::/64 (AnyIP local routes), and xtel-col routes them back, so a
# load generator can speak from many source addresses. A bpffs is mounted at
# /run/xtel/bpffs: every `ip netns exec` mounts a fresh /sys, so maps pinned
# under /sys/fs/bpf inside one are gone for the next, while a bpffs under /run
# stays visible from all of them.
#
# XTEL_NS_SUFFIX=-x renames everything (xtel-col-x, /run/xtel-x/bpffs) so
# several testbeds can coexist; the names above are the default contract.
set -euo pipefail

suffix=${XTEL_NS_SUFFIX:-}
NS_COL=xtel-col$suffix
NS_GEN=xtel-gen$suffix
RUNDIR=/run/xtel$suffix
BPFFS=$RUNDIR/bpffs

usage() {
	cat <<USAGE
usage: $(basename "$0") up|down|status|env

  up      create the namespaces $NS_COL and $NS_GEN, the veth pair, the
          addresses and routes, and a bpffs at $BPFFS (recreated if present)
  down    remove all of it; succeeds when nothing is there
  status  show what exists
  env     print shell exports of the names and addresses:
            eval "\$($(basename "$0") env)"

environment: XTEL_NS_SUFFIX (default empty) is appended to every name.
USAGE
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "testbed.sh: creating namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN): run it as root" >&2
		exit 1
	fi
	command -v ip >/dev/null || { echo "testbed.sh: 'ip' not found: run scripts/deps.sh" >&2; exit 1; }
}

ns_exists() { ip netns list 2>/dev/null | awk -v n="$1" '$1 == n { f = 1 } END { exit !f }'; }

do_env() {
	cat <<ENV
export XTEL_NS_COL=$NS_COL
export XTEL_NS_GEN=$NS_GEN
export XTEL_BPFFS=$BPFFS
export XTEL_COL_IP4=198.18.0.1
export XTEL_GEN_IP4=198.18.0.2
export XTEL_COL_IP6=2001:2::1
export XTEL_GEN_IP6=2001:2::2
export XTEL_COL_IF=veth-col
export XTEL_GEN_IF=veth-gen
export XTEL_FLOOD_NET4=198.18.1.0/24
export XTEL_FLOOD_NET6=2001:2:0:1::/64
ENV
}

do_down() {
	local ns
	for ns in "$NS_COL" "$NS_GEN"; do
		if ns_exists "$ns"; then
			# Processes left in the namespace would keep it alive after
			# the name is gone: stop them first.
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
			ip netns del "$ns"
		fi
	done
	if mountpoint -q "$BPFFS" 2>/dev/null; then
		umount "$BPFFS"
	fi
	rmdir "$BPFFS" "$RUNDIR" 2>/dev/null || true
}

do_up() {
	do_down
	trap 'echo "testbed.sh: setup failed, removing what was created" >&2; do_down' ERR

	ip netns add "$NS_COL"
	ip netns add "$NS_GEN"
	ip link add veth-col netns "$NS_COL" type veth peer name veth-gen netns "$NS_GEN"

	local c=(ip netns exec "$NS_COL") g=(ip netns exec "$NS_GEN")
	"${c[@]}" ip link set lo up
	"${g[@]}" ip link set lo up
	"${c[@]}" ip addr add 198.18.0.1/24 dev veth-col
	"${g[@]}" ip addr add 198.18.0.2/24 dev veth-gen
	# nodad: the addresses are usable at once instead of after ~2 s of
	# duplicate address detection, which tests would otherwise race.
	"${c[@]}" ip -6 addr add 2001:2::1/64 dev veth-col nodad
	"${g[@]}" ip -6 addr add 2001:2::2/64 dev veth-gen nodad
	"${c[@]}" ip link set veth-col up
	"${g[@]}" ip link set veth-gen up

	# Flood ranges: bindable on the generator side, routed back from the
	# collector so handshake replies reach them.
	"${g[@]}" ip route add local 198.18.1.0/24 dev lo
	"${g[@]}" ip -6 route add local 2001:2:0:1::/64 dev lo
	# IPv6 bind() checks interface addresses, not local routes.
	"${g[@]}" sysctl -qw net.ipv6.ip_nonlocal_bind=1
	"${c[@]}" ip route add 198.18.1.0/24 via 198.18.0.2
	"${c[@]}" ip -6 route add 2001:2:0:1::/64 via 2001:2::2

	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS"
	trap - ERR
}

do_status() {
	local ns found=0
	for ns in "$NS_COL" "$NS_GEN"; do
		if ns_exists "$ns"; then
			found=1
			echo "== $ns"
			ip netns exec "$ns" ip -br addr show
		fi
	done
	if mountpoint -q "$BPFFS" 2>/dev/null; then
		found=1
		echo "== bpffs mounted at $BPFFS"
	fi
	[ $found -eq 1 ] || echo "testbed is down"
}

case "${1:-}" in
up) need_root; do_up ;;
down) need_root; do_down ;;
status) do_status ;;
env) do_env ;;
-h | --help | help) usage ;;
'') echo "testbed.sh: which action? up, down, status or env (try --help)" >&2; exit 2 ;;
*) echo "testbed.sh: unknown action '$1': use up, down, status or env (try --help)" >&2; exit 2 ;;
esac
