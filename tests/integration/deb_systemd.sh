#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Part of test_deb.sh: the packaged unit under a real systemd. The .deb is
# installed into a fresh overlay root (as test_deb.sh's chroot part does),
# which systemd-nspawn then boots, systemd as its PID 1, inside the
# testbed's collector namespace (--network-namespace-path) with the
# testbed's bpffs as its /sys/fs/bpf. A oneshot unit in that root drives
# the checks with systemctl and journalctl while this script sends the
# DTLS load from the generator namespace:
# - `systemctl start xtel-collector` returns once the collector said
#   READY=1 (Type=notify), through every sandboxing directive of the unit;
#   it runs as xtel, XDP attached, the journal has its start line;
# - the load is served and every datagram accounted in the summary the
#   stopped collector leaves in its StateDirectory;
# - with WatchdogSec=2s (a drop-in) it runs 5 s without a restart;
# - `systemctl reload` (SIGHUP, RELOADING=1) keeps the same main process;
# - `systemctl stop` ends it with exit code 0, Result=success;
# - a bad line in /etc/xtel/collector.conf fails the start in
#   ExecStartPre with FILE:LINE in the journal, and the unit does not
#   restart (RestartPreventExitStatus=).
# Prints ok/FAIL lines; the container is gone when it returns.
#
# usage: deb_systemd.sh WORKDIR DEB   (the testbed is up, WORKDIR/certs made)
set -uo pipefail
t=${1:?usage: deb_systemd.sh WORKDIR DEB}
deb=${2:?usage: deb_systemd.sh WORKDIR DEB}
: "${XTEL_NS_COL:?}" "${XTEL_NS_GEN:?}" "${XTEL_COL_IF:?}" "${XTEL_COL_IP4:?}" "${XTEL_BPFFS:?}"
sd=$t/sd
mkdir -p "$sd"

if ! command -v systemd-nspawn >/dev/null || [ ! -x /lib/systemd/systemd ]; then
	echo "FAIL systemd: systemd-nspawn or systemd missing (scripts/deps.sh installs them)"
	exit 0
fi

# ---- the checks, run by a oneshot unit inside the container ----
cat >"$sd/check.sh" <<'EOF'
# $1: the work dir (bound at the same path). Writes ok/FAIL lines to stdout.
set -u
t=$1 sd=$1/sd
ok() { echo "ok   systemd: $*"; }
fail() { echo "FAIL systemd: $*"; }
unit=xtel-collector
log() { journalctl -u $unit --no-pager -o cat -b; }
# PrivateTmp= hides the work dir from the service: the operator's place.
install -d -m 0750 -o root -g xtel /etc/xtel/tls
install -m 0644 "$t/certs/server.crt" "$t/certs/ca.crt" /etc/xtel/tls/
install -m 0640 -o root -g xtel "$t/certs/server.key" /etc/xtel/tls/
cat >>/etc/xtel/collector.conf <<CONF
iface = "$XTEL_COL_IF";
cert = "/etc/xtel/tls/server.crt";
key = "/etc/xtel/tls/server.key";
ca = "/etc/xtel/tls/ca.crt";
workers = 1;
summary-json = "/var/lib/xtel/summary.json";
CONF
# The watchdog at 2 s instead of 30 (a drop-in, as an operator makes one):
# the collector must ping it through the sandbox for the run below.
mkdir -p /etc/systemd/system/$unit.service.d
printf '[Service]\nWatchdogSec=2s\n' >/etc/systemd/system/$unit.service.d/watchdog.conf
systemctl daemon-reload
if systemctl start $unit; then
	ok "systemctl start returned (READY=1 through the unit's sandbox)"
else
	fail "systemctl start: $(systemctl show -p Result --value $unit)"; log | tail -20
fi
[ "$(systemctl is-active $unit)" = active ] && ok "active" || fail "not active"
pid=$(systemctl show -p MainPID --value $unit)
user=$(ps -o user= -p "$pid" 2>/dev/null)
[ "$user" = xtel ] && ok "main process $pid runs as xtel" || fail "main process $pid runs as '$user'"
log | grep -q "XDP .* on $XTEL_COL_IF" && ok "journal: XDP attached on $XTEL_COL_IF" ||
	{ fail "journal has no XDP line:"; log | tail -20; }
status=$(systemctl show -p StatusText --value $unit)
[ -n "$status" ] && ok "status text: $status" || fail "no STATUS= from the collector"
touch "$sd/started"
for _ in $(seq 600); do [ -e "$sd/load-done" ] && break; sleep 0.1; done
[ -e "$sd/load-done" ] || fail "the load never finished"
sleep 5	# two and a half watchdog periods
n=$(systemctl show -p NRestarts --value $unit)
[ "$n" = 0 ] && [ "$(systemctl show -p MainPID --value $unit)" = "$pid" ] &&
	ok "watchdog 2 s: pinged, no restart in 5 s" ||
	{ fail "watchdog: $n restarts"; log | grep -i watchdog; }
systemctl reload $unit && ok "systemctl reload" || fail "systemctl reload"
sleep 0.5
[ "$pid" != 0 ] && [ "$(systemctl show -p MainPID --value $unit)" = "$pid" ] && ok "reload kept main process $pid" ||
	fail "reload replaced the main process"
[ "$(systemctl is-active $unit)" = active ] && ok "active after reload" || fail "not active after reload"
was=$(systemctl is-active $unit)
systemctl stop $unit
res=$(systemctl show -p Result --value $unit)
code=$(systemctl show -p ExecMainStatus --value $unit)
[ "$was" = active ] && [ "$res" = success ] && [ "$code" = 0 ] &&
	ok "systemctl stop: exit 0, Result=success" ||
	{ fail "systemctl stop of a $was unit: Result=$res, exit $code"; log | tail -20; }
cp /var/lib/xtel/summary.json "$sd/summary.json" 2>/dev/null ||
	fail "no summary in the StateDirectory"
# A mistake in the configuration: the start fails in ExecStartPre, no restarts.
line=$(($(wc -l </etc/xtel/collector.conf) + 1))
echo 'workers = "many";' >>/etc/xtel/collector.conf
if systemctl start $unit 2>/dev/null; then
	fail "a bad collector.conf started"
else
	ok "a bad collector.conf fails the start"
fi
log | grep -q "collector.conf:$line" && ok "journal names collector.conf:$line" ||
	{ fail "journal does not name collector.conf:$line:"; log | tail -5; }
sleep 3
n=$(systemctl show -p NRestarts --value $unit)
[ "$n" = 0 ] && ok "no restart after a configuration error" || fail "$n restarts"
EOF

# ---- the root: an overlay of this machine's /, the package installed ----
unshare -m --propagation private bash -c '
	t=$1 sd=$2 deb=$3
	r=$sd/m/root
	mkdir -p "$sd/m"
	mount -t tmpfs tmpfs "$sd/m" || exit 1
	mkdir -p "$sd/m/upper" "$sd/m/work" "$r"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$sd/m/upper,workdir=$sd/m/work" "$r" || exit 1
	for d in proc sys dev; do mount --rbind "/$d" "$r/$d"; done
	mkdir -p "$r/$t" && mount --bind "$t" "$r/$t"
	chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg -i "$deb" >"$sd/dpkg.log" 2>&1 ||
		{ echo "FAIL systemd: dpkg -i"; cat "$sd/dpkg.log"; exit 1; }
	for d in dev sys proc "$t"; do umount -R "$r/$d"; done
	# Only what the checks need boots: basic.target and the checks.
	u=$r/etc/systemd/system
	cat >"$u/xtel-check.target" <<EOF
[Unit]
Description=XTel packaged-unit checks
Requires=basic.target xtel-check.service
After=basic.target xtel-check.service
AllowIsolate=yes
EOF
	cat >"$u/xtel-check.service" <<EOF
[Unit]
After=basic.target
[Service]
Type=oneshot
Environment=XTEL_COL_IF=$XTEL_COL_IF
ExecStart=/bin/bash $sd/check.sh $t
StandardOutput=file:$sd/check.out
StandardError=inherit
ExecStopPost=/bin/systemctl poweroff --no-block
EOF
	# The container is machine xtel-deb<suffix>, not registered with a
	# machined (this machine may have none).
	timeout 150 systemd-nspawn -q -D "$r" -M "xtel-deb${XTEL_NS_SUFFIX:-}" --register=no --keep-unit --link-journal=no \
		--network-namespace-path="/run/netns/$XTEL_NS_COL" \
		--bind="$XTEL_BPFFS:/sys/fs/bpf" --bind="$t" \
		--capability=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN \
		--system-call-filter="bpf io_uring_setup io_uring_enter io_uring_register" \
		--console=passive --boot systemd.unit=xtel-check.target >"$sd/nspawn.log" 2>&1 &
	cpid=$!
	for _ in $(seq 600); do
		[ -e "$sd/started" ] && break
		kill -0 $cpid 2>/dev/null || break
		sleep 0.1
	done
	# The package'"'"'s loadgen, from the root it was installed into.
	if [ -e "$sd/started" ]; then
		ip netns exec "$XTEL_NS_GEN" "$r/usr/bin/loadgen" --target "$XTEL_COL_IP4:7700" \
			--mode dtls --certs "$t/certs" --clients 2 --count 200 --rate 1000 --quiet \
			--report-json "$sd/lg.json" >"$sd/lg.out" 2>&1 ||
			{ echo "FAIL systemd: loadgen:"; cat "$sd/lg.out"; }
		touch "$sd/load-done"
	fi
	wait $cpid
	echo "nspawn exit $?" >>"$sd/nspawn.log"
' _ "$t" "$sd" "$deb"

if [ -s "$sd/check.out" ]; then
	cat "$sd/check.out"
else
	echo "FAIL systemd: the checks did not run; the container said:"
	tail -30 "$sd/nspawn.log"
fi
python3 - "$sd/lg.json" "$sd/summary.json" <<'PY'
import json, sys
try:
    lg, s = (json.load(open(p)) for p in sys.argv[1:3])
except (OSError, ValueError) as e:
    print("FAIL systemd: no load report or summary: %s" % e)
    sys.exit(0)
exp, got = lg["totals"]["sent"], s["totals"]["received"]
print(("ok   " if exp == got else "FAIL ") +
      f"systemd: every datagram accounted: expected {exp}, got {got}")
PY
