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
trap '"$tb" down >/dev/null 2>&1' EXIT

"$tb" up || { echo "FAIL testbed.sh up"; exit 1; }

addr_is() { # ns dev cidr
	ip netns exec "$1" ip -o addr show dev "$2" | grep -qw "$3"
}
check "namespace $XTEL_NS_COL exists" ip netns exec "$XTEL_NS_COL" true
check "namespace $XTEL_NS_GEN exists" ip netns exec "$XTEL_NS_GEN" true
check "veth-col has 198.18.0.1/24" addr_is "$XTEL_NS_COL" veth-col 198.18.0.1/24
check "veth-col has 2001:2::1/64" addr_is "$XTEL_NS_COL" veth-col 2001:2::1/64
check "veth-gen has 198.18.0.2/24" addr_is "$XTEL_NS_GEN" veth-gen 198.18.0.2/24
check "veth-gen has 2001:2::2/64" addr_is "$XTEL_NS_GEN" veth-gen 2001:2::2/64
check "bpffs mounted at $XTEL_BPFFS" sh -c "stat -f -c %T '$XTEL_BPFFS' | grep -qx bpf_fs"
check "bpffs visible inside ip netns exec" ip netns exec "$XTEL_NS_COL" sh -c "stat -f -c %T '$XTEL_BPFFS' | grep -qx bpf_fs"

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
coproc ECHO { ip netns exec "$XTEL_NS_COL" python3 -c "$echo_py" ${#srcs[@]}; }
read -r -t 5 ready <&"${ECHO[0]}"
got=$(ip netns exec "$XTEL_NS_GEN" python3 -c "$send_py" "${srcs[@]}" 2>&1)
wait "$ECHO_PID" 2>/dev/null
check "echo over IPv4/IPv6 and flood ranges: 4 of 4 (got $got)" test "$got" = 4

"$tb" down
check "down removes $XTEL_NS_COL" sh -c "! ip netns list | grep -qw '$XTEL_NS_COL'"
check "down removes $XTEL_NS_GEN" sh -c "! ip netns list | grep -qw '$XTEL_NS_GEN'"
check "down unmounts bpffs" sh -c "! mountpoint -q '$XTEL_BPFFS'"
check "down again succeeds" "$tb" down

[ "$ready" = ready ] || { echo "FAIL echo side did not start"; fails=$((fails + 1)); }
echo "testbed: $fails failure(s)"
[ $fails -eq 0 ]
