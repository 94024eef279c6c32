#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: bad input and bad environment make the collector fail fast,
# with a message that names the problem and the exit code documented in
# --help and docs/COLLECTOR.md:
#   2 invalid flag/value, 3 cert/key/CA/CRL/deny list missing or invalid
#   (or a --pin-ca not in --ca), 4 key does not
#   match cert, 5 port in use, 6 interface not found, 7 missing capability,
#   8 io_uring disabled.
# The privilege cases drop capabilities with setpriv; "io_uring disabled" is
# simulated with a seccomp filter that makes io_uring_setup fail with EPERM,
# exactly what kernel.io_uring_disabled=2 does, without touching the
# machine-wide sysctl. Runs in the collector namespace so the port-in-use
# case cannot collide with anything on the host.
#
# usage: test_collector_config.sh SOURCE_ROOT COLLECTOR
set -uo pipefail
top=${1:?usage: test_collector_config.sh SOURCE_ROOT COLLECTOR}
collector=${2:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"

testbed_up

# expect NAME CODE PATTERN ARGS...: exit code CODE and PATTERN on stderr.
expect() {
	local name=$1 code=$2 pattern=$3; shift 3
	timeout 10 ip netns exec "$XTEL_NS_COL" "$@" >"$work/out" 2>"$work/err"
	local rc=$?
	if [ "$rc" = "$code" ] && grep -q -- "$pattern" "$work/err" "$work/out"; then
		ok "$name: exit $rc, '$pattern'"
	else
		fail "$name: expected exit $code and '$pattern', got exit $rc:"
		sed 's/^/     /' "$work/err" | head -5
	fi
}

C=$collector
P=(--mode plain --no-xdp)

# ---- usage errors (2) ----
expect "help" 0 "--summary-json FILE" $C --help
expect "help lists exit codes" 0 "8 io_uring disabled" $C --help
expect "port out of range" 2 "for --port (valid: 1..65535)" $C "${P[@]}" --port 70000
expect "health window over 32" 2 "invalid value '64' for --health-window (valid: 4..32 intervals)" \
	$C "${P[@]}" --health-window 64
expect "health SLO without a label" 2 "invalid value 'p99=5' for --health-slo (valid: LABEL:" \
	$C "${P[@]}" --health-slo p99=5
expect "port not a number" 2 "for --port" $C "${P[@]}" --port 77x
expect "workers with a leading space" 2 "invalid value ' 4' for --workers (valid: 1..256)" \
	$C "${P[@]}" --workers " 4"
expect "duration in hex" 2 "invalid value '0x10' for --duration (valid: 0..31536000 seconds)" \
	$C "${P[@]}" --duration 0x10
expect "interval with a plus sign" 2 "for --interval" $C "${P[@]}" --interval +1
expect "workers 0" 2 "for --workers (valid: 1..256)" $C "${P[@]}" --workers 0
expect "interval 0" 2 "for --interval (valid: 0.1..3600" $C "${P[@]}" --interval 0
expect "rcvbuf too small" 2 "for --rcvbuf" $C "${P[@]}" --rcvbuf 100
expect "rx-buffers not a power of two" 2 "for --rx-buffers" $C "${P[@]}" --rx-buffers 1000
expect "rx-wait too long" 2 "for --rx-wait (valid: 0..100000 microseconds)" $C "${P[@]}" --rx-wait 100001
expect "afxdp-frames not a power of two" 2 "for --afxdp-frames (valid: 0 or a power of two, 2048..262144)" \
	$C "${P[@]}" --afxdp-frames 3000
expect "bad mode" 2 "for --mode (valid: dtls or plain)" $C --mode tcp --no-xdp
expect "bad bind address" 2 "for --bind" $C "${P[@]}" --bind 300.1.1.1
expect "unknown option" 2 "unknown option '--frobnicate'" $C "${P[@]}" --frobnicate
expect "missing value" 2 "needs a value" $C "${P[@]}" --port
expect "no --iface and no --no-xdp" 2 "--iface IFNAME is required" $C --mode plain
expect "dtls without credentials" 2 "needs --cert, --key and --ca" $C --no-xdp
expect "allow: prefix too long" 2 "for --allow (valid: an IPv4 or IPv6" \
	$C --mode plain --iface veth-col --allow 198.18.0.0/33
expect "allow: not an address" 2 "for --allow" \
	$C --mode plain --iface veth-col --allow 2001:2::zz/64
expect "allow: prefix with a sign" 2 "invalid value '198.18.0.0/+24' for --allow" \
	$C --mode plain --iface veth-col --allow 198.18.0.0/+24
expect "allow without XDP" 2 "--allow needs the XDP program" $C "${P[@]}" --allow 198.18.0.0/24
expect "afxdp without XDP" 2 "--afxdp needs the XDP program" $C "${P[@]}" --afxdp
expect "iface with --no-xdp" 2 "--iface needs the XDP program" $C "${P[@]}" --iface veth-col
expect "pin-dir without XDP" 2 "--pin-dir needs the XDP program" $C "${P[@]}" --pin-dir /run/x
expect "handshake-burst without XDP" 2 "--handshake-burst needs the XDP program" \
	$C "${P[@]}" --handshake-burst 8
expect "handshake-rate out of range" 2 "for --handshake-rate (valid: 0..10000000" \
	$C --mode plain --iface veth-col --handshake-rate 20000000
expect "pin-dir relative" 2 "for --pin-dir" $C --mode plain --iface veth-col --pin-dir xtel
expect "pin-dir not on a bpffs" 1 "no usable bpffs for --pin-dir $work" \
	$C --mode plain --iface veth-col --pin-dir "$work/pins" --duration 0.2
expect "summary-json unwritable" 2 "--summary-json /nonexistent/s.json" \
	$C "${P[@]}" --summary-json /nonexistent/s.json
expect "csv unwritable" 2 "--csv /nonexistent/c.csv" \
	$C "${P[@]}" --csv /nonexistent/c.csv

# ---- interface (6) ----
expect "iface not found" 6 "interface nosuch0 not found" $C --mode plain --iface nosuch0

# ---- credentials (3, 4) ----
openssl ecparam -name prime256v1 -genkey -noout -out "$work/a.key" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$work/b.key" 2>/dev/null
openssl req -new -x509 -key "$work/a.key" -subj /CN=xtel-collector -days 2 \
	-out "$work/a.crt" 2>/dev/null
echo "not a certificate" >"$work/junk.pem"
D=(--no-xdp --duration 0.2)
expect "cert missing" 3 "--cert $work/none.crt: file not found" \
	$C "${D[@]}" --cert "$work/none.crt" --key "$work/a.key" --ca "$work/a.crt"
expect "cert not PEM" 3 "not a PEM certificate" \
	$C "${D[@]}" --cert "$work/junk.pem" --key "$work/a.key" --ca "$work/a.crt"
expect "key missing" 3 "--key $work/none.key: file not found" \
	$C "${D[@]}" --cert "$work/a.crt" --key "$work/none.key" --ca "$work/a.crt"
expect "key not PEM" 3 "not a PEM private key" \
	$C "${D[@]}" --cert "$work/a.crt" --key "$work/junk.pem" --ca "$work/a.crt"
expect "ca missing" 3 "--ca $work/none.crt: file not found" \
	$C "${D[@]}" --cert "$work/a.crt" --key "$work/a.key" --ca "$work/none.crt"
chmod 000 "$work/a.key"
if setpriv --bounding-set -dac_override,-dac_read_search true 2>/dev/null; then
	expect "key unreadable" 3 "not readable" setpriv --bounding-set \
		-dac_override,-dac_read_search $C "${D[@]}" --cert "$work/a.crt" \
		--key "$work/a.key" --ca "$work/a.crt"
fi
chmod 600 "$work/a.key"
expect "key does not match cert" 4 "does not match the certificate" \
	$C "${D[@]}" --cert "$work/a.crt" --key "$work/b.key" --ca "$work/a.crt"

# ---- DTLS admission policy: --pin-ca, --ciphers (2), --crl, --deny-list (3) ----
"$top/certs/gen.sh" "$work/certs" 1 >/dev/null 2>&1 &&
	"$top/certs/gen.sh" crl "$work/certs" >/dev/null 2>&1 ||
	fail "certs/gen.sh for the policy cases"
K=(--cert "$work/certs/server.crt" --key "$work/certs/server.key" --ca "$work/certs/ca.crt")
pin=$(openssl x509 -in "$work/certs/ca.crt" -noout -fingerprint -sha256 | sed 's/^.*=//')
rogue_pin=$(openssl x509 -in "$work/certs/bad/rogue-ca.crt" -noout -fingerprint -sha256 | sed 's/^.*=//')
printf '# refused\n7\n' >"$work/deny.txt"
printf '7\nseven\n' >"$work/deny-bad.txt"
expect "pin-ca not a fingerprint" 2 \
	"invalid value 'abc' for --pin-ca (valid: a SHA-256 fingerprint: 64 hex digits, colons allowed)" \
	$C "${D[@]}" "${K[@]}" --pin-ca abc
nine=(); for _ in $(seq 9); do nine+=(--pin-ca "$pin"); done
expect "pin-ca 9 times" 2 "at most 8 fingerprints" $C "${D[@]}" "${K[@]}" "${nine[@]}"
expect "ciphers: a CBC suite" 2 \
	"cipher list 'ECDHE-ECDSA-AES128-SHA256' enables ECDHE-ECDSA-AES128-SHA256: only" \
	$C "${D[@]}" "${K[@]}" --ciphers ECDHE-ECDSA-AES128-SHA256
expect "ciphers: no suite at all" 2 "invalid value 'nope' for --ciphers" \
	$C "${D[@]}" "${K[@]}" --ciphers nope
expect "crl missing" 3 "cannot read CRL $work/none.pem: No such file or directory" \
	$C "${D[@]}" "${K[@]}" --crl "$work/none.pem"
expect "crl without a CRL" 3 "CRL $work/certs/ca.crt: no PEM CRL in it" \
	$C "${D[@]}" "${K[@]}" --crl "$work/certs/ca.crt"
expect "deny list missing" 3 "cannot read deny list $work/none.txt" \
	$C "${D[@]}" "${K[@]}" --deny-list "$work/none.txt"
expect "deny list with a bad line" 3 \
	"deny list $work/deny-bad.txt:2: 'seven' is not a client id (1..4294967295)" \
	$C "${D[@]}" "${K[@]}" --deny-list "$work/deny-bad.txt"
expect "pin-ca of a CA not in --ca" 3 \
	"pinned CA $rogue_pin matches no certificate of $work/certs/ca.crt" \
	$C "${D[@]}" "${K[@]}" --pin-ca "$rogue_pin"
expect "crl, deny list and pin load" 0 \
	"DTLS policy: 0 revoked (--crl), 1 client id denied (--deny-list), 1 pinned CA" \
	$C "${D[@]}" "${K[@]}" --crl "$work/certs/crl.pem" --deny-list "$work/deny.txt" \
	--pin-ca "$pin"
expect "ciphers: ChaCha20 only" 0 "DTLS policy: no CRL, no deny list, 0 pinned CAs" \
	$C "${D[@]}" "${K[@]}" --ciphers ECDHE-ECDSA-CHACHA20-POLY1305

# ---- port in use (5) ----
ip netns exec "$XTEL_NS_COL" python3 -c 'import socket,time
s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 7700)); time.sleep(8)' &
holder=$!
sleep 0.5
expect "port in use" 5 "UDP port 7700 on :: is already in use" $C "${P[@]}" --duration 0.2
expect "port in use (IPv4 bind)" 5 "UDP port 7700 on 198.18.0.1 is already in use" \
	$C "${P[@]}" --bind 198.18.0.1 --duration 0.2
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
expect "port free again" 0 "final summary" $C "${P[@]}" --duration 0.2
expect "smallest buffer ring works" 0 "final summary" \
	$C "${P[@]}" --duration 0.2 --workers 1 --rx-buffers 64
expect "largest buffer ring works" 0 "final summary" \
	$C "${P[@]}" --duration 0.2 --workers 1 --rx-buffers 32768

# ---- privileges (7) ----
if setpriv --bounding-set -bpf true 2>/dev/null; then
	expect "XDP without CAP_BPF" 7 "needs CAP_BPF" \
		setpriv --bounding-set -bpf,-sys_admin $C --mode plain --iface veth-col
else
	echo "note: setpriv cannot drop CAP_BPF here; case skipped"
fi
expect "XDP without CAP_NET_ADMIN" 7 "needs CAP_NET_ADMIN" \
	setpriv --bounding-set -net_admin $C --mode plain --iface veth-col
expect "SO_RCVBUFFORCE fallback warns and runs" 0 \
	"SO_RCVBUFFORCE needs CAP_NET_ADMIN; fell back to SO_RCVBUF" \
	setpriv --bounding-set -net_admin $C "${P[@]}" --duration 0.2

# ---- io_uring disabled (8) ----
if [ "$(uname -m)" = x86_64 ]; then
	expect "io_uring refused (EPERM, as with io_uring_disabled=2)" 8 \
		"io_uring is disabled" python3 - "$C" "${P[@]}" --duration 0.2 <<'PY'
import ctypes, os, struct, sys
# seccomp filter: io_uring_setup (425 on x86_64) fails with EPERM.
ins = [(0x20, 0, 0, 4), (0x15, 0, 3, 0xc000003e), (0x20, 0, 0, 0),
       (0x15, 0, 1, 425), (0x06, 0, 0, 0x00050000 | 1), (0x06, 0, 0, 0x7fff0000)]
buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in ins))
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
prog = Prog(len(ins), ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0              # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0  # SECCOMP_MODE_FILTER
os.execv(sys.argv[1], sys.argv[1:])
PY
else
	echo "note: seccomp case written for x86_64 only; skipped on $(uname -m)"
fi

# ---- SIGINT stops a collector started as a background job ----
# A non-interactive shell starts background jobs with SIGINT ignored; the
# collector must still stop on it through its signalfd, write its summary
# and exit 0. No `timeout` in front (it would change the disposition); a
# watchdog bounds the wait instead.
bash -c '"$@" & pid=$!; (sleep 10; kill -KILL "$pid") 2>/dev/null & dog=$!
	sleep 0.5; kill -INT "$pid"; wait "$pid"; rc=$?; kill "$dog" 2>/dev/null; exit $rc' _ \
	ip netns exec "$XTEL_NS_COL" $C "${P[@]}" --quiet \
	--summary-json "$work/sigint.json" >"$work/out" 2>"$work/err"
rc=$?
if [ $rc -eq 0 ] && python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["stop_reason"]' "$work/sigint.json" 2>/dev/null; then
	ok "SIGINT to a background collector: exit 0, summary written"
else
	fail "SIGINT to a background collector: exit $rc, summary $(ls "$work/sigint.json" 2>&1)"
fi

# ---- the summary's peak RSS is the collector's own ----
# ru_maxrss survives execve: started from a parent that touched 256 MiB,
# the collector must still report its own (few MiB) peak, not the parent's.
rss=$(ip netns exec "$XTEL_NS_COL" python3 - "$C" "${P[@]}" --quiet --duration 0.2 \
	--summary-json "$work/rss.json" <<'PY'
import json, subprocess, sys
ballast = bytearray(256 << 20)
for i in range(0, len(ballast), 4096):
    ballast[i] = 1
subprocess.run(sys.argv[1:], capture_output=True, check=True)
print(json.load(open(sys.argv[-1]))["rusage"]["max_rss_kb"])
PY
)
if [ -n "$rss" ] && [ "$rss" -gt 0 ] && [ "$rss" -lt 131072 ]; then
	ok "max_rss_kb is the collector's own peak ($rss kB, parent held 256 MiB)"
else
	fail "max_rss_kb reports the parent's peak: got '$rss' kB"
fi

finish
