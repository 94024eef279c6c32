#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# XDP program and AF_XDP path on the testbed, without the collector (the
# xdp_ctl driver attaches the program the way the collector does). Sends a
# known number of datagrams from the generator namespace and checks, through
# bpftool on the pinned maps, that the counters are exactly what was sent:
#   plain    per-client packets/bytes/highest seq/gaps over IPv4 and IPv6,
#            drops by reason, nothing counted twice
#   reload   counters survive detaching and attaching again, the program
#            is really detached in between
#   afxdp    every valid datagram arrives through the AF_XDP socket, with
#            its source address, none through the kernel
#   dtls     established peers are counted in full while a spoofed
#            ClientHello flood from 30 sources gets exactly its bucket each,
#            and a flood of 300 one-datagram sources exactly the global burst
#   robust   a program left by a killed process is replaced, a second
#            instance on the same interface is refused, generic mode works
#
#   loadgen  the load generator's plain clients with injected loss and
#            duplicates: per client, XDP's packets and bytes equal what
#            loadgen sent and its gaps equal the injected loss; over IPv6
#            through AF_XDP, every datagram and byte loadgen sent arrives
#
# usage: test_xdp.sh SRCROOT XDP_CTL LOADGEN
# Root and the testbed (scripts/testbed.sh, honours XTEL_NS_SUFFIX).
set -uo pipefail

src=${1:?usage: test_xdp.sh SRCROOT XDP_CTL LOADGEN}
ctl=${2:?usage: test_xdp.sh SRCROOT XDP_CTL LOADGEN}
loadgen=${3:?usage: test_xdp.sh SRCROOT XDP_CTL LOADGEN}
testbed=$src/scripts/testbed.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "test_xdp: needs root (namespaces, XDP)"; exit 77
fi
if ! ip netns add "xtel-probe-$$" 2>/dev/null; then
	echo "test_xdp: cannot create network namespaces here"; exit 77
fi
ip netns del "xtel-probe-$$"
command -v bpftool >/dev/null || PATH=$PATH:/usr/sbin

tmp=$(mktemp -d)
ctl_pid= sink_pid=
cleanup() {
	if [ -n "$ctl_pid" ]; then
		kill -TERM "$ctl_pid" 2>/dev/null
		wait "$ctl_pid" 2>/dev/null
	fi
	if [ -n "$sink_pid" ]; then
		kill -TERM "$sink_pid" 2>/dev/null
		wait "$sink_pid" 2>/dev/null
	fi
	"$testbed" down >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

"$testbed" up || { echo "test_xdp: testbed up failed"; exit 1; }
eval "$("$testbed" env)"
pins=$XTEL_BPFFS/xtel
col=(ip netns exec "$XTEL_NS_COL")
gen=(ip netns exec "$XTEL_NS_GEN")

passed=0 failed=0
check() { # description expected actual
	if [ "$2" == "$3" ]; then
		echo "ok   $1 ($3)"; passed=$((passed + 1))
	else
		echo "FAIL $1: expected $2, got $3"; failed=$((failed + 1))
	fi
}

# Like check, but polls for up to 3 s: a datagram may still be in flight
# (veth backlog, a neighbour resolution) when the sender returns.
expect() { # description expected command...
	local got
	for _ in $(seq 30); do
		got=$("${@:3}")
		[ "$got" == "$2" ] && break
		sleep 0.1
	done
	check "$1" "$2" "$got"
}

start_ctl() { # xdp_ctl options...
	: >"$tmp/ctl.err"
	"${col[@]}" "$ctl" --iface "$XTEL_COL_IF" --pin-dir "$pins" "$@" \
		>"$tmp/ctl.json" 2>"$tmp/ctl.err" &
	ctl_pid=$!
	for _ in $(seq 100); do
		grep -q '^ready$' "$tmp/ctl.err" && return 0
		kill -0 "$ctl_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "test_xdp: xdp_ctl did not start:"; cat "$tmp/ctl.err"
	exit 1
}

stop_ctl() {
	kill -TERM "$ctl_pid"
	wait "$ctl_pid"
	ctl_pid=
}

# Counter of one client from the pinned map: client_field ID FIELD
client_field() {
	bpftool -j map dump pinned "$pins/xtel_clients" | python3 -c '
import json, sys
want, field = int(sys.argv[1]), sys.argv[2]
for e in json.load(sys.stdin):
    if e["formatted"]["key"] == want:
        print(e["formatted"]["value"][field]); break
else:
    print("absent")' "$1" "$2"
}

# A stat summed over CPUs: stat INDEX
stat() {
	bpftool -j map lookup pinned "$pins/xtel_stats" key "$1" 0 0 0 | python3 -c '
import json, sys
print(sum(v["value"]["packets"] for v in json.load(sys.stdin)["formatted"]["values"]))'
}
# indices of enum xtel_xdp_stat (bpf/xtel_maps.h)
S_PASSED=4 S_REDIRECTED=5 S_XSK_MISS=6 D_SHORT=8 D_MAGIC=9 D_LENGTH=13 D_DTLS_TYPE=14
D_RATELIMIT=19 D_HS_GLOBAL=20 S_NO_SESSION=23

# The sender: runs in the generator namespace; one line per flow:
#   plain FAMILY DST CLIENT FIRST_SEQ COUNT BODY [SKIP_EVERY]
#   raw   FAMILY DST SRC_ADDR SRC_PORT COUNT HEXBYTES
#   dtls  FAMILY DST SRC_ADDR SRC_PORT COUNT TYPE VERSION EPOCH LEN
cat >"$tmp/send.py" <<'PY'
import socket, struct, sys
sent = 0
for line in sys.stdin:
    f = line.split()
    if not f:
        continue
    kind, fam = f[0], socket.AF_INET if f[1] == "4" else socket.AF_INET6
    dst = (f[2], 7700)
    if kind == "plain":
        client, first, count, body = map(int, f[3:7])
        skip = int(f[7]) if len(f) > 7 else 0
        s = socket.socket(fam, socket.SOCK_DGRAM)
        seq, n = first, 0
        while n < count:
            if skip and seq and seq % skip == 0:
                seq += 1          # a gap: this number is never sent
                continue
            typ = 1 if seq == 0 else 3
            s.sendto(struct.pack(">HBBHHIQQ", 0x5854, 1, typ, 0, body, client, seq, 0)
                     + b"x" * body, dst)
            seq += 1; n += 1
    elif kind == "raw":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((f[3], int(f[4])))
        for _ in range(int(f[5])):
            s.sendto(bytes.fromhex(f[6]), dst)
    elif kind == "dtls":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((f[3], int(f[4])))
        typ, ver, epoch, ln = int(f[6]), int(f[7], 16), int(f[8]), int(f[9])
        for i in range(int(f[5])):
            rec = struct.pack(">BHH", typ, ver, epoch) + struct.pack(">Q", i)[2:] \
                + struct.pack(">H", ln) + b"\x5a" * ln
            s.sendto(rec, dst)
    s.close()
PY
send() { "${gen[@]}" python3 "$tmp/send.py"; }

# Resolve neighbours first, so no datagram waits in (or is dropped from) a
# neighbour queue during the counted phases.
# (one datagram to the discard port each; ping may not be installed)
"${gen[@]}" python3 -c '
import socket, sys, time
for fam, addr in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
    socket.socket(fam, socket.SOCK_DGRAM).sendto(b"x", (addr, 9))
time.sleep(0.2)' "$XTEL_COL_IP4" "$XTEL_COL_IP6"

echo "== plain: IPv4 and IPv6 clients, drops by reason"
start_ctl
send <<EOF
plain 4 $XTEL_COL_IP4 1 0 1000 0
plain 4 $XTEL_COL_IP4 2 0 1000 40
plain 6 $XTEL_COL_IP6 3 0 500 10
plain 6 $XTEL_COL_IP6 4 0 500 1200
plain 4 $XTEL_COL_IP4 5 0 200 0 20
raw 4 $XTEL_COL_IP4 198.18.0.2 40001 50 58550103000000000000000100000000000000010000000000000000
raw 6 $XTEL_COL_IP6 2001:2::2 40002 20 585401030000
raw 4 $XTEL_COL_IP4 198.18.0.2 40003 7 58540103000000050000000100000000000000010000000000000000
EOF
expect "client 1 packets" 1000 client_field 1 packets
expect "client 1 bytes" 28000 client_field 1 bytes
expect "client 1 highest seq" 999 client_field 1 highest_seq
expect "client 1 gaps" 0 client_field 1 seq_gaps
expect "client 2 bytes (40-byte payloads)" 68000 client_field 2 bytes
expect "client 3 packets (IPv6)" 500 client_field 3 packets
expect "client 4 bytes (IPv6, 1200-byte payloads)" 614000 client_field 4 bytes
# client 5 skips every 20th number: 200 sent cover seqs 0..209, 10 skipped
expect "client 5 packets" 200 client_field 5 packets
expect "client 5 highest seq" 209 client_field 5 highest_seq
expect "client 5 gaps" 10 client_field 5 seq_gaps
expect "passed" 3200 stat $S_PASSED
expect "drop_bad_magic" 50 stat $D_MAGIC
expect "drop_short" 20 stat $D_SHORT
expect "drop_bad_length" 7 stat $D_LENGTH
stop_ctl
if "${col[@]}" ip link show "$XTEL_COL_IF" | grep -q 'prog/xdp'; then
	check "detached on exit" none attached
else
	check "detached on exit" none none
fi

echo "== reload: pinned counters survive"
start_ctl
send <<EOF
plain 4 $XTEL_COL_IP4 1 1000 100 0
EOF
expect "client 1 packets after reload" 1100 client_field 1 packets
expect "client 1 gaps after reload" 0 client_field 1 seq_gaps
expect "passed after reload" 3300 stat $S_PASSED
stop_ctl

echo "== afxdp: every valid datagram through the XSK"
start_ctl --afxdp
send <<EOF
plain 4 $XTEL_COL_IP4 6 0 2000 16
plain 6 $XTEL_COL_IP6 7 0 1000 16
raw 4 $XTEL_COL_IP4 198.18.0.2 40001 30 58550103000000000000000100000000000000010000000000000000
EOF
sleep 0.3
stop_ctl
read -r rx redirected src4 src6 unparsed no_meta <<<"$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
a, st = d["afxdp"], d["xdp"]["stats"]
v4 = sum(s["packets"] for k, s in a["sources"].items() if k.startswith("198.18.0.2:"))
v6 = sum(s["packets"] for k, s in a["sources"].items() if k.startswith("[2001:2::2]:"))
print(a["rx_packets"], st["redirected"]["packets"], v4, v6, a["unparsed"], a["no_meta"])' "$tmp/ctl.json")"
check "afxdp rx_packets" 3000 "$rx"
check "redirected" 3000 "$redirected"
check "afxdp IPv4 source" 2000 "$src4"
check "afxdp IPv6 source" 1000 "$src6"
check "afxdp unparsed" 0 "$unparsed"
check "afxdp frames without XDP timestamp" 0 "$no_meta"
expect "xsk_miss" 0 stat $S_XSK_MISS
expect "client 7 counted in XDP too" 1000 client_field 7 packets
expect "passed unchanged (nothing through the kernel)" 3300 stat $S_PASSED

echo "== dtls: handshake flood vs established peers"
# rate 1/s, burst 5: each spoofed source gets exactly 5 datagrams through
# as long as its 40 are sent within a second (they take milliseconds).
start_ctl --dtls --handshake-rate 1 --burst 5 \
	--peer "$XTEL_GEN_IP4:41000=42" --peer "[$XTEL_GEN_IP6]:41001=43"
{
	for i in $(seq 1 20); do
		echo "dtls 4 $XTEL_COL_IP4 198.18.1.$i 42000 40 22 feff 0 120"
		[ $((i % 4)) -eq 0 ] && echo "dtls 4 $XTEL_COL_IP4 $XTEL_GEN_IP4 41000 250 23 fefd 1 64"
	done
	for i in $(seq 1 10); do
		echo "dtls 6 $XTEL_COL_IP6 2001:2:0:1::$i 42000 40 22 feff 0 120"
		[ $((i % 2)) -eq 0 ] && echo "dtls 6 $XTEL_COL_IP6 $XTEL_GEN_IP6 41001 100 23 fefd 1 64"
	done
	echo "dtls 4 $XTEL_COL_IP4 198.18.1.99 42000 15 24 fefd 1 10"
} | send
expect "peer 42 (IPv4) packets" 1250 client_field 42 packets
expect "peer 42 bytes" $((1250 * 77)) client_field 42 bytes
expect "peer 43 (IPv6) packets" 500 client_field 43 packets
expect "flood: passed without session (30 sources x 5)" 150 stat $S_NO_SESSION
expect "flood: dropped by the bucket (30 x 35)" 1050 stat $D_RATELIMIT
expect "invalid content type" 15 stat $D_DTLS_TYPE
stop_ctl

echo "== dtls: a flood that never repeats a source meets the global limit"
# 300 IPv6 sources, one ClientHello each: every per-source bucket has room,
# the global limit (1/s, burst 50) lets exactly 50 through.
start_ctl --dtls --handshake-rate 1 --burst 5 --handshake-global-rate 1 --global-burst 50 \
	--peer "$XTEL_GEN_IP4:41000=42"
{
	for i in $(seq 1 300); do
		printf 'dtls 6 %s 2001:2:0:1::%x 42000 1 22 feff 0 120\n' "$XTEL_COL_IP6" "$((i + 4096))"
		[ $((i % 30)) -eq 0 ] && echo "dtls 4 $XTEL_COL_IP4 $XTEL_GEN_IP4 41000 10 23 fefd 1 64"
	done
} | send
expect "global: passed without session" $((150 + 50)) stat $S_NO_SESSION
expect "global: dropped by the global limit" 250 stat $D_HS_GLOBAL
expect "global: per-source buckets dropped nothing more" 1050 stat $D_RATELIMIT
expect "global: peer 42 lost nothing" $((1250 + 100)) client_field 42 packets
stop_ctl

echo "== loadgen: plain clients with injected loss and duplicates"
# A socket on the port (never read) keeps the kernel from answering with
# ICMP port unreachable, which loadgen treats as an unreachable target.
"${col[@]}" python3 -c '
import socket, time
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind(("0.0.0.0", 7700))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); s6.bind(("::", 7700))
time.sleep(120)' &
sink_pid=$!
for _ in $(seq 50); do
	[ "$("${col[@]}" ss -Hulnp 'sport = :7700' | grep -c python3)" -ge 2 ] && break
	sleep 0.1
done
start_ctl
# 20 clients x 1000 DATA at 20k pps: well inside what veth carries without
# dropping, so every datagram loadgen sent reaches XDP.
"${gen[@]}" "$loadgen" --mode plain --target "$XTEL_COL_IP4:7700" --first-id 100 \
	--clients 20 --threads 2 --count 1000 --rate 20000 --loss 0.02 --dup 0.02 \
	--seed 7 --quiet --report-json "$tmp/lg.json" >/dev/null
check "loadgen exit code" 0 "$?"
lg_compare() {
	bpftool -j map dump pinned "$pins/xtel_clients" | python3 -c '
import json, sys
lg = json.load(open(sys.argv[1]))
x = {e["formatted"]["key"]: e["formatted"]["value"] for e in json.load(sys.stdin)}
bad = [c["client_id"] for c in lg["clients"]
       if c["client_id"] not in x
       or x[c["client_id"]]["packets"] != c["sent"]
       or x[c["client_id"]]["bytes"] != c["bytes"]
       or x[c["client_id"]]["seq_gaps"] != c["injected_loss"]]
t = lg["totals"]
print(len(lg["clients"]) - len(bad), "of", len(lg["clients"]),
      "loss>0" if t["injected_loss"] else "loss=0", "dup>0" if t["injected_dup"] else "dup=0")' "$tmp/lg.json"
}
expect "clients whose XDP packets/bytes/gaps equal loadgen's sent/bytes/loss" \
	"20 of 20 loss>0 dup>0" lg_compare
stop_ctl
# the same load through AF_XDP: every datagram loadgen sent is delivered
start_ctl --afxdp
"${gen[@]}" "$loadgen" --mode plain --target "[$XTEL_COL_IP6]:7700" --first-id 200 \
	--clients 20 --threads 2 --count 1000 --rate 20000 --dup 0.01 \
	--seed 8 --quiet --report-json "$tmp/lg6.json" >/dev/null
check "loadgen exit code (IPv6)" 0 "$?"
sleep 0.3
stop_ctl
read -r lg_sent lg_bytes ax_rx ax_bytes <<<"$(python3 -c '
import json, sys
try:
    lg = json.load(open(sys.argv[1]))["totals"]
    a = json.load(open(sys.argv[2]))["afxdp"]
    print(lg["sent"], lg["bytes"], a["rx_packets"], a["rx_bytes"])
except Exception as e:
    print("no-report no-report missing missing")' "$tmp/lg6.json" "$tmp/ctl.json")"
check "AF_XDP delivered every datagram loadgen sent" "$lg_sent" "$ax_rx"
check "AF_XDP delivered every byte loadgen sent" "$lg_bytes" "$ax_bytes"
kill -TERM "$sink_pid"; wait "$sink_pid" 2>/dev/null; sink_pid=

echo "== afxdp: one socket per RX queue"
# A second veth pair with two queues each way: the generator's flows hash
# over both TX queues, which veth maps to the collector's RX queues.
ip link add veth-mqc netns "$XTEL_NS_COL" numtxqueues 2 numrxqueues 2 type veth \
	peer name veth-mqg netns "$XTEL_NS_GEN" numtxqueues 2 numrxqueues 2
"${col[@]}" ip addr add 198.18.2.1/24 dev veth-mqc
"${gen[@]}" ip addr add 198.18.2.2/24 dev veth-mqg
"${col[@]}" ip link set veth-mqc up
"${gen[@]}" ip link set veth-mqg up
"${gen[@]}" python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.18.2.1", 9))'
: >"$tmp/ctl.err"
"${col[@]}" "$ctl" --iface veth-mqc --pin-dir "$XTEL_BPFFS/xtel-mq" --afxdp \
	>"$tmp/ctl.json" 2>"$tmp/ctl.err" &
ctl_pid=$!
for _ in $(seq 100); do grep -q '^ready$' "$tmp/ctl.err" && break; sleep 0.1; done
{
	for c in $(seq 1 64); do echo "plain 4 198.18.2.1 $((500 + c)) 0 50 8"; done
} | send
sleep 0.3
stop_ctl
read -r socks q0 q1 rx <<<"$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["afxdp"]
q = a["per_queue"] + [0, 0]
print(a["sockets"], q[0], q[1], a["rx_packets"])' "$tmp/ctl.json")"
check "two RX queues, two sockets" 2 "$socks"
check "every datagram through AF_XDP" 3200 "$rx"
check "both queues delivered" "yes yes" "$([ "$q0" -gt 0 ] && echo yes || echo no) $([ "$q1" -gt 0 ] && echo yes || echo no)"
check "queues add up" 3200 $((q0 + q1))
"${col[@]}" ip link del veth-mqc

echo "== robustness: crash, second instance, generic mode"
start_ctl
kill -KILL "$ctl_pid"; wait "$ctl_pid" 2>/dev/null; ctl_pid=
attached=$("${col[@]}" ip link show "$XTEL_COL_IF" | grep -c 'prog/xdp')
check "program left attached by a killed process" 1 "$attached"
start_ctl --skb
grep -q "replacing the xtel XDP program" "$tmp/ctl.err"
check "stale program replaced" 0 "$?"
mode=$("${col[@]}" ip link show "$XTEL_COL_IF" | grep -o 'xdpgeneric' | head -1)
check "generic (skb) mode attach" xdpgeneric "$mode"
"${col[@]}" "$ctl" --iface "$XTEL_COL_IF" --pin-dir "$pins" --duration 0.1 >/dev/null 2>"$tmp/second.err"
rc=$?
grep -q 'another xtel process' "$tmp/second.err" && busy=busy || busy=no-message
check "second instance refused" "1 busy" "$rc $busy"
before=$(client_field 1 packets)
send <<EOF
plain 4 $XTEL_COL_IP4 1 1100 10 0
EOF
expect "client 1 counted in skb mode" $((before + 10)) client_field 1 packets
stop_ctl

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
