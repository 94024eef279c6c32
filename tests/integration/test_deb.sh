#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# integration tier: the Debian package (debian/). Builds the .deb from a
# copy of the source tree with dpkg-buildpackage, runs lintian (no errors
# allowed), then installs it with dpkg into a fresh root: an overlay of this
# machine's / with an empty upper layer, in a private mount namespace, so
# nothing is written to the machine itself and it is all gone afterwards.
# In that root: `collector --version`, `man collector`, the maintainer
# script made the xtel user, and the installed collector is started the way
# the packaged unit starts it (its ExecStart= line, as User=xtel with the
# unit's AmbientCapabilities=, no_new_privs) after an operator's edit of
# /etc/xtel/collector.conf, on the testbed: XDP attached, DTLS served, the
# installed loadgen's datagrams all accounted. Then the unit itself under a
# real systemd in a booted container (deb_systemd.sh).
#
# Costs ~60 s (the build and the container's boot are most of it). XTEL_DEB_KEEP=DIR keeps the .deb
# and lintian's output in DIR.
#
# usage: test_deb.sh SOURCE_ROOT
set -uo pipefail
top=${1:?usage: test_deb.sh SOURCE_ROOT}
export XTEL_NS_SUFFIX=${XTEL_NS_SUFFIX:-}

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (chroot, namespaces)"; exit 77; fi
for t in dpkg-buildpackage dh lintian unshare chroot setpriv systemd-nspawn; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh)"; exit 77; }
done

t=$(mktemp -d /tmp/xtel-deb.XXXXXX)
tb="$top/scripts/testbed.sh"
eval "$("$tb" env)"
cleanup() {
	"$tb" down >/dev/null 2>&1
	[ -n "${XTEL_DEB_KEEP:-}" ] && cp "$t"/*.deb "$t"/lintian.txt "$XTEL_DEB_KEEP"/ 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT
passes=0
fails=0
ok() { echo "ok   $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# ---- build ----
mkdir "$t/src"
tar -C "$top" --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf - . |
	tar -C "$t/src" -xf -
describe=$(git -C "$top" describe --always --dirty --tags 2>/dev/null || echo unknown)
if (cd "$t/src" && XTEL_GIT_DESCRIBE=$describe DEB_BUILD_OPTIONS="nocheck parallel=2" \
	dpkg-buildpackage -us -uc -b >"$t/build.log" 2>&1); then
	ok "dpkg-buildpackage"
else
	fail "dpkg-buildpackage:"; tail -20 "$t/build.log"
	echo "$passes passed, $fails failed"; exit 1
fi
deb=$(ls "$t"/xtel_*_*.deb)
lintian --fail-on error "$t"/xtel_*.changes >"$t/lintian.txt" 2>&1
lrc=$?
if [ $lrc -eq 0 ] && ! grep -q '^E:' "$t/lintian.txt"; then
	ok "lintian: no errors ($(grep -c '^W:' "$t/lintian.txt") warnings)"
else
	fail "lintian:"; grep '^E:' "$t/lintian.txt"
fi

# ---- certificates, testbed ----
"$top/certs/gen.sh" "$t/certs" 2 >/dev/null 2>&1 || fail "certs/gen.sh"
chmod -R a+rX "$t"
"$tb" up >/dev/null || { fail "testbed up"; echo "$passes passed, $fails failed"; exit 1; }
pins=$XTEL_BPFFS/deb
mkdir -p "$pins"

# ---- in the fresh root ----
host_had=$([ -e /usr/sbin/collector ] && echo 1)
cat >"$t/inroot.sh" <<'EOF'
# Runs chrooted in the overlay: $1 the .deb, $2 the work dir. Prints ok/FAIL.
set -u
deb=$1 t=$2	# and $describe, the source tree's git describe
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
dpkg -i "$deb" >"$t/dpkg.log" 2>&1 && ok "dpkg -i" || { fail "dpkg -i"; cat "$t/dpkg.log"; }
v=$(collector --version)
echo "$v" | grep -qE "^collector \(xtel\) [0-9.]+ \(git $describe\)\$" && ok "collector --version: $v" ||
	fail "collector --version: $v"
man -P cat collector 2>/dev/null | grep -q -- '--check-config' && ok "man collector" ||
	fail "man collector"
man -P cat 1 loadgen 2>/dev/null | grep -q -- '--target' && ok "man loadgen" || fail "man loadgen"
getent passwd xtel >/dev/null && ok "the xtel user exists" || fail "no xtel user"
unit=/lib/systemd/system/xtel-collector.service
[ -f "$unit" ] && ok "unit installed" || fail "unit missing"
# An operator's edit of the shipped file.
cat >>/etc/xtel/collector.conf <<CONF
iface = "$XTEL_COL_IF";
cert = "$t/certs/server.crt";
key = "$t/certs/server.key";
ca = "$t/certs/ca.crt";
workers = 1;
summary-json = "/var/lib/xtel/summary.json";
CONF
mkdir -p /var/lib/xtel && chown xtel:xtel /var/lib/xtel "$pins"
chown xtel "$t/certs/server.key"
# The operator's check, then the unit's ExecStart as User=xtel with its
# capabilities ("CAP_BPF CAP_NET_ADMIN" -> ",+bpf,+net_admin").
collector --config /etc/xtel/collector.conf --check-config >"$t/pre.out" 2>&1 &&
	ok "--check-config: $(cat "$t/pre.out")" || fail "--check-config: $(cat "$t/pre.out")"
caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit" | tr ' ' '\n' |
	sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/,+/' | tr -d '\n')
start=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s#--pin-dir [^ ]*#--pin-dir $pins#")
echo "$caps" >"$t/caps"
ip netns exec "$XTEL_NS_COL" setpriv --reuid=xtel --regid=xtel --init-groups \
	--no-new-privs --inh-caps="-all$caps" --ambient-caps="-all$caps" \
	--bounding-set="-all$caps" $start >"$t/col.out" 2>"$t/col.err" &
pid=$!
for _ in $(seq 100); do
	grep -q "^collector: .* mode, " "$t/col.err" 2>/dev/null && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
done
grep -q "^collector: XDP .* on $XTEL_COL_IF" "$t/col.err" && ok "installed collector: XDP attached as xtel" ||
	{ fail "installed collector did not start:"; cat "$t/col.err"; }
ip netns exec "$XTEL_NS_GEN" loadgen --target "$XTEL_COL_IP4:7700" --mode dtls \
	--certs "$t/certs" --clients 2 --count 200 --rate 1000 --quiet \
	--report-json "$t/lg.json" >"$t/lg.out" 2>&1 && ok "installed loadgen: DTLS served" ||
	{ fail "loadgen:"; cat "$t/lg.out"; }
sleep 0.5
kill -TERM $pid; wait $pid
rc=$?
[ $rc -eq 0 ] && ok "collector stopped cleanly" || fail "collector exit code $rc"
python3 - "$t/lg.json" /var/lib/xtel/summary.json <<'PY'
import json, sys
lg, s = (json.load(open(p)) for p in sys.argv[1:3])
exp, got = lg["totals"]["sent"], s["totals"]["received"]
print(("ok   " if exp == got else "FAIL ") + f"every datagram accounted: expected {exp}, got {got}")
PY
EOF
export XTEL_NS_COL XTEL_NS_GEN XTEL_COL_IF XTEL_COL_IP4 pins describe
unshare -m --propagation private bash -c '
	set -e
	t=$1 deb=$2 bpffs=$3
	r=$t/m/root
	mkdir -p "$t/m"
	mount -t tmpfs tmpfs "$t/m"
	mkdir -p "$t/m/upper" "$t/m/work" "$r"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$t/m/upper,workdir=$t/m/work" "$r"
	for d in proc sys dev run/netns "$bpffs" "$t"; do
		mkdir -p "$r/$d"; mount --rbind "/$d" "$r/$d"
	done
	# The fresh root has none of the build tree on PATH, only the package.
	chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		XTEL_NS_COL="$XTEL_NS_COL" XTEL_NS_GEN="$XTEL_NS_GEN" \
		XTEL_COL_IF="$XTEL_COL_IF" XTEL_COL_IP4="$XTEL_COL_IP4" pins="$pins" \
		describe="$describe" \
		bash "$t/inroot.sh" "$deb" "$t"
' _ "$t" "$deb" "$(dirname "$XTEL_BPFFS")" >"$t/inroot.out" 2>&1
cat "$t/inroot.out"
passes=$((passes + $(grep -c '^ok' "$t/inroot.out")))
fails=$((fails + $(grep -c '^FAIL' "$t/inroot.out")))
[ "$(grep -c '^ok' "$t/inroot.out")" -ge 11 ] || fail "the fresh-root checks did not all run"
# The unit under a real systemd (deb_systemd.sh).
XTEL_BPFFS=$XTEL_BPFFS bash "$top/tests/integration/deb_systemd.sh" "$t" "$deb" >"$t/systemd.out" 2>&1
cat "$t/systemd.out"
passes=$((passes + $(grep -c '^ok' "$t/systemd.out")))
fails=$((fails + $(grep -c '^FAIL' "$t/systemd.out")))
[ "$(grep -c '^ok' "$t/systemd.out")" -ge 14 ] || fail "the systemd checks did not all run"
# Nothing of the package reached this machine.
[ "$([ -e /usr/sbin/collector ] && echo 1)" = "$host_had" ] && ok "this machine is untouched" ||
	fail "/usr/sbin/collector appeared on this machine"
rm -rf "$pins"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
