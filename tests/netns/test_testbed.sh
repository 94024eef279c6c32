#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: scripts/testbed.sh builds exactly the documented testbed (names,
# addresses, flood ranges, bpffs), traffic crosses it both ways over IPv4 and
# IPv6, and `down` removes everything and is idempotent.
set -uo pipefail
top=${1:?usage: test_testbed.sh SOURCE_ROOT}
tb="$top/scripts/testbed.sh"
eval "$("$tb" env)"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root for network namespaces"
	exit 77
fi

fails=0
check() { # description command...
	local what=$1; shift
	if "$@" >/dev/null 2>&1; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		fails=$((fails + 1))
	fi
}
"$tb" up || { echo "FAIL testbed.sh up"; exit 1; }

addr_is() { # ns dev cidr
	# grep reads everything (no -q): with pipefail, an early exit would
	# SIGPIPE ip and fail the check at random.
	ip netns exec "$1" ip -o addr show dev "$2" | grep -w "$3" >/dev/null
}
check "namespace $XTEL_NS_COL exists" ip netns exec "$XTEL_NS_COL" true
check "namespace $XTEL_NS_GEN exists" ip netns exec "$XTEL_NS_GEN" true
check "veth-col has 198.18.0.1/24" addr_is "$XTEL_NS_COL" veth-col 198.18.0.1/24
check "veth-col has 2001:2::1/64" addr_is "$XTEL_NS_COL" veth-col 2001:2::1/64
check "veth-gen has 198.18.0.2/24" addr_is "$XTEL_NS_GEN" veth-gen 198.18.0.2/24
check "veth-gen has 2001:2::2/64" addr_is "$XTEL_NS_GEN" veth-gen 2001:2::2/64
check "bpffs mounted at $XTEL_BPFFS" test "$(stat -f -c %T "$XTEL_BPFFS")" = bpf_fs
check "bpffs visible inside ip netns exec" test "$(ip netns exec "$XTEL_NS_COL" stat -f -c %T "$XTEL_BPFFS")" = bpf_fs

# One datagram each way from every kind of source address; the echo side
# answers each, so both directions and the return routes are exercised.
echo_py='
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 9999)); s.settimeout(5)
print("ready", flush=True)
for _ in range(int(sys.argv[1])):
    d, peer = s.recvfrom(64); s.sendto(d, peer)
'
send_py='
import socket, sys
ok = 0
for src in sys.argv[1:]:
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    dst = "2001:2::1" if fam == socket.AF_INET6 else "198.18.0.1"
    s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((src, 0)); s.settimeout(3)
    s.sendto(src.encode(), (dst, 9999))
    if s.recvfrom(64)[0] == src.encode(): ok += 1
print(ok)
'
srcs=(198.18.0.2 198.18.1.9 2001:2::2 2001:2:0:1::55)
tmp=$(mktemp -d)
trap '"$tb" down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
ip netns exec "$XTEL_NS_COL" python3 -c "$echo_py" ${#srcs[@]} >"$tmp/echo.out" 2>&1 &
echo_pid=$!
for _ in $(seq 50); do
	grep -x ready "$tmp/echo.out" >/dev/null 2>&1 && break
	sleep 0.1
done
got=$(ip netns exec "$XTEL_NS_GEN" python3 -c "$send_py" "${srcs[@]}" 2>&1)
wait "$echo_pid"
check "echo side served all 4 and exited 0" test $? -eq 0
check "echo over IPv4/IPv6 and flood ranges: 4 of 4 (got $got)" test "$got" = 4

"$tb" down
ns_list=$(ip netns list | awk '{print $1}')
check "down removes $XTEL_NS_COL" test -z "$(grep -x -- "$XTEL_NS_COL" <<<"$ns_list")"
check "down removes $XTEL_NS_GEN" test -z "$(grep -x -- "$XTEL_NS_GEN" <<<"$ns_list")"
check "down unmounts bpffs" test ! -e "$XTEL_BPFFS"
check "down again succeeds" "$tb" down

echo "testbed: $fails failure(s)"
[ $fails -eq 0 ]
