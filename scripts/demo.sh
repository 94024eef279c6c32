#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The XTel demo: installs packages, builds, makes certificates, brings up the
# namespace testbed (scripts/testbed.sh), runs the collector with its XDP
# pre-filter on veth-col in DTLS mode, and drives it with DTLS clients from
# the load generator, which injects a known amount of loss, duplication and
# reordering. The collector's live table shows every second; its query API
# and Prometheus /metrics answer on 127.0.0.1:9477 inside the collector
# namespace, and the demo queries both while the clients send. The web
# dashboard (docs/DASHBOARD.md) is served there too; with socat installed it
# is forwarded to this host's 127.0.0.1:9477 while the demo runs (--hold S
# keeps the collector up S seconds after the load, to look at it). At the end
# the injected faults are set against what the collector and XDP counted.
# Everything it creates is removed on exit.
#
# usage: scripts/demo.sh [--clients N] [--rate PPS] [--duration S] [--plain] [--hold S]
#   defaults: 20 clients, 5000 datagrams/s in total, 8 s, DTLS, hold 0 s
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

usage_error() { echo "demo.sh: $* (try --help)" >&2; exit 2; }

clients=20 rate=5000 duration=8 mode=dtls hold=0
while [ $# -gt 0 ]; do
	case "$1" in
	--clients | --rate | --duration | --hold)
		[ $# -ge 2 ] || usage_error "$1 needs a value"
		case "$2" in '' | *[!0-9]*) usage_error "$1 takes a whole number, got '$2'" ;; esac
		case "$1" in
		--clients) clients=$2 ;;
		--rate) rate=$2 ;;
		--duration) duration=$2 ;;
		--hold) hold=$2 ;;
		esac
		shift 2 ;;
	--plain) mode=plain; shift ;;
	-h | --help) awk 'NR > 3 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) usage_error "unknown option '$1'" ;;
	esac
done
[ "$clients" -ge 1 ] && [ "$clients" -le 1000 ] || usage_error "--clients must be 1..1000, got $clients"
[ "$rate" -ge 1 ] && [ "$rate" -le 500000 ] || usage_error "--rate must be 1..500000, got $rate"
[ "$duration" -ge 1 ] && [ "$duration" -le 600 ] || usage_error "--duration must be 1..600, got $duration"
[ "$hold" -le 3600 ] || usage_error "--hold must be 0..3600, got $hold"
if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: the testbed needs root (network namespaces, XDP): run it as root" >&2
	exit 1
fi

./scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

out=build/demo
certs=build/certs
mkdir -p "$out"
certs/gen.sh "$certs" "$clients" >/dev/null

eval "$(scripts/testbed.sh env)"
col_pid=
fwd_pid=
cleanup() {
	[ -n "$fwd_pid" ] && kill "$fwd_pid" 2>/dev/null && { wait "$fwd_pid" 2>/dev/null || true; }
	[ -n "$col_pid" ] && kill "$col_pid" 2>/dev/null && wait "$col_pid" 2>/dev/null
	scripts/testbed.sh down
}
trap cleanup EXIT
scripts/testbed.sh up

col=(ip netns exec "$XTEL_NS_COL")
gen=(ip netns exec "$XTEL_NS_GEN")

echo "== collector on $XTEL_COL_IF ($XTEL_COL_IP4, $XTEL_COL_IP6) port 7700, mode $mode"
"${col[@]}" build/userspace/collector/collector --iface "$XTEL_COL_IF" --mode "$mode" \
	--pin-dir "$XTEL_BPFFS/xtel" --workers 2 --interval 1 --top 5 \
	--cert "$certs/server.crt" --key "$certs/server.key" --ca "$certs/ca.crt" \
	--http 127.0.0.1:9477 \
	--duration $((duration + hold + 60)) --summary-json "$out/summary.json" &
col_pid=$!
# Wait until the collector's socket is bound before the clients start.
for _ in $(seq 50); do
	"${col[@]}" ss -Hlun "sport = :7700" | grep . >/dev/null && break
	kill -0 "$col_pid" 2>/dev/null || { echo "demo.sh: collector failed to start" >&2; exit 1; }
	sleep 0.1
done

# The dashboard listens inside the collector namespace; socat (if there)
# forwards this host's loopback port to it, one `ip netns exec` per
# connection, for as long as the demo runs.
dash_port=${XTEL_DEMO_DASHBOARD_PORT:-9477}
echo "== dashboard (docs/DASHBOARD.md): http://127.0.0.1:9477/ in namespace $XTEL_NS_COL"
if command -v socat >/dev/null 2>&1 &&
   ! ss -Hltn "sport = :$dash_port" 2>/dev/null | grep -q .; then
	socat "TCP-LISTEN:$dash_port,bind=127.0.0.1,reuseaddr,fork" \
		"EXEC:ip netns exec $XTEL_NS_COL socat STDIO TCP\:127.0.0.1\:9477" 2>/dev/null &
	fwd_pid=$!
	echo "   open http://127.0.0.1:$dash_port/ on this host while the demo runs (--hold S: S seconds more)"
else
	echo "   open it there: ip netns exec $XTEL_NS_COL chromium --no-sandbox http://127.0.0.1:9477/"
	echo "   (with socat installed the demo forwards it to this host's 127.0.0.1:$dash_port)"
fi

echo "== loadgen: $clients $mode clients, $rate datagrams/s for ${duration}s, 1% loss, 0.5% dup, 1% reorder injected"
"${gen[@]}" build/loadgen/loadgen --target "$XTEL_COL_IP4:7700" --mode "$mode" \
	--certs "$certs" --clients "$clients" --threads 2 --rate "$rate" \
	--duration "$duration" --loss 0.01 --dup 0.005 --reorder 0.01 --seed 7 \
	--heartbeat 1 --quiet --report-json "$out/loadgen.json" >/dev/null &
lg_pid=$!

# Halfway through the load, ask the live collector (views refresh every
# --interval, here 1 s).
sleep "$((duration / 2)).5"
api=http://127.0.0.1:9477
echo
echo "== query API while the clients send (docs/API.md), inside the collector namespace:"
echo "   ip netns exec $XTEL_NS_COL curl -s $api/api/v1/totals"
"${col[@]}" curl -s "$api/api/v1/totals" | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = d["totals"]
# pending: gaps the sequence window has not passed yet (lost once it has)
parts = ["%s %s" % (k, t[k]) for k in ("received", "lost", "pending", "duplicates", "reordered")]
print("   clients %d (live %d), %s, %.0f datagrams/s"
      % (d["clients"], d["live"], ", ".join(parts), t["pkt_s"]))' || echo "   (no answer)"
echo "   ip netns exec $XTEL_NS_COL curl -s '$api/api/v1/get?client_id=1&metric=temp'"
"${col[@]}" curl -s "$api/api/v1/get?client_id=1&metric=temp" | sed 's/^/   /'; echo
echo "   ip netns exec $XTEL_NS_COL curl -s $api/metrics | grep '^xtel_received_datagrams_total'"
"${col[@]}" curl -s "$api/metrics" | grep '^xtel_received_datagrams_total' | sed 's/^/   /' || true
echo
wait "$lg_pid"

# The load is over: the next view has all of it.
sleep 1
if [ "$hold" -gt 0 ]; then
	echo "== holding the collector for ${hold}s: the dashboard shows the finished run"
	sleep "$hold"
fi
# Stop the collector (it drains, then prints its final summary). Its
# --duration above is only a safety bound.
kill -TERM "$col_pid"
wait "$col_pid" || { echo "demo.sh: collector exited with an error" >&2; exit 1; }
col_pid=

echo
echo "== injected by the load generator vs counted by the collector"
python3 - "$out/loadgen.json" "$out/summary.json" <<'PY'
import json, sys
lg = json.load(open(sys.argv[1]))["totals"]
col = json.load(open(sys.argv[2]))
t = col["totals"]
rows = [("lost", lg["injected_loss"], t["lost"]),
        ("duplicates", lg["injected_dup"], t["duplicates"]),
        ("reordered", lg["injected_reorder"], t["reordered"])]
print(f"{'':12}{'injected':>10}{'counted':>10}")
for name, a, b in rows:
    print(f"{name:12}{a:>10}{b:>10}  {'exact' if a == b else 'DIFFERENT'}")
print(f"received {t['received']} telemetry datagrams from {len(col['clients'])} clients")
if col["mode"] == "dtls":
    print("(the collector's 'datagrams' line also counts each client's DTLS handshake and"
          " close_notify records,\n which carry no telemetry)")
xdp = col.get("xdp")
if isinstance(xdp, dict):
    st = xdp.get("stats", {})
    seen = ", ".join(f"{k}={v['packets']}" for k, v in st.items() if v.get("packets"))
    print(f"XDP ({xdp.get('attach_mode')} mode on {xdp.get('interface')}): {seen or 'nothing'}")
PY
echo
echo "== bpftool map dump pinned $XTEL_BPFFS/xtel/xtel_clients (one of $clients entries)"
bpftool -j map dump pinned "$XTEL_BPFFS/xtel/xtel_clients" 2>/dev/null |
	python3 -c 'import json, sys; e = json.load(sys.stdin)[0]; print(json.dumps(e.get("formatted", e), indent=2))' || true
if [ "$mode" = dtls ]; then
	echo "(DTLS records are encrypted, so XDP counts packets and bytes per client;"
	echo " highest_seq and seq_gaps are tracked for plain mode only: see docs/XDP.md)"
fi
echo
echo "summary: $out/summary.json   load generator report: $out/loadgen.json"
