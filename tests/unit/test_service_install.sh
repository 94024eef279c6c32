#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `meson install` and what it installs: into a temporary DESTDIR, every file
# lands in its FHS place under the build's prefix (sbin/collector,
# bin/loadgen, the man pages generated from the option tables, the systemd
# unit and sysusers entry, etc/xtel/collector.conf, the docs); every
# installed program (collector, loadgen, probe, probe-server, probe-report)
# prints --version and has a man page; the shipped config file parses
# (--check-config); `man` finds and renders the pages; each man page lists
# exactly the options of --help (both directions: they come from the same
# table, this keeps it so); `systemd-analyze verify` accepts the unit and
# `systemd-analyze security --offline` rates it (printed; at most 2.5).
#
# usage: test_service_install.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: $0 BUILD_DIR}
dest=$(mktemp -d /tmp/xtel-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$dest.log" 2>&1 ||
	{ cat "$dest.log"; rm -f "$dest.log"; echo "0 passed, 1 failed"; exit 1; }
rm -f "$dest.log"
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
root=$dest$prefix
etc=$dest$( [ "$prefix" = /usr ] && echo /etc || echo "$prefix/etc")

progs="sbin/collector bin/loadgen bin/probe bin/probe-server bin/probe-report"
for f in $progs share/man/man8/collector.8 share/man/man1/loadgen.1 \
	share/man/man1/probe.1 share/man/man1/probe-server.1 share/man/man1/probe-report.1 \
	lib/sysusers.d/xtel.conf share/doc/xtel/OPERATIONS.md share/doc/xtel/README.md; do
	[ -f "$root/$f" ] && ok || bad "installed: $prefix/$f"
done
[ -f "$etc/xtel/collector.conf" ] && ok || bad "installed: etc/xtel/collector.conf"
unit=$(find "$dest" -name xtel-collector.service | head -1)
case $unit in
*/lib/systemd/system/xtel-collector.service) ok ;;
*) bad "unit in a systemd unit directory: '$unit'" ;;
esac
grep -q "^ExecStart=$prefix/sbin/collector --config " "$unit" && ok ||
	bad "unit runs the installed collector"

for p in $progs; do
	"$root/$p" --version | grep -qE "^$(basename $p) \(xtel\) [0-9.]+ \(git " && ok ||
		bad "$p --version"
done
# The shipped file is all comments: it parses, and the flags do the rest.
"$root/sbin/collector" --config "$etc/xtel/collector.conf" --mode plain --no-xdp \
	--check-config >/dev/null 2>&1 && ok || bad "shipped collector.conf parses"

# ---- man pages ----
for pg in collector:8 loadgen:1 probe:1 probe-server:1 probe-report:1; do
	n=${pg%:*} s=${pg#*:}
	MANPATH=$root/share/man man -P cat "$s" "$n" >"$dest/$n.txt" 2>/dev/null &&
		grep -q "^NAME" "$dest/$n.txt" && ok || bad "man $s $n"
	w=$(MANPATH=$root/share/man man --warnings -P cat "$s" "$n" 2>&1 >/dev/null | head -3)
	[ -z "$w" ] && ok || bad "man $n: groff warnings: $w"
	exe=$root/$( [ "$n" = collector ] && echo sbin || echo bin)/$n
	"$exe" --help | grep -oE '^  --[a-z0-9-]+' | sed 's/^  //' | sort -u >"$dest/help"
	sed -n 's/^\\fB\\-\\-\([a-z0-9\\-]*\)\\fR.*/--\1/p' \
		"$root/share/man/man$s/$n.$s" | sed 's/\\-/-/g' | sort -u >"$dest/man"
	if [ -s "$dest/help" ] && cmp -s "$dest/help" "$dest/man"; then ok
	else bad "$n: --help and man page list different options:"; diff "$dest/help" "$dest/man"; fi
done

# ---- systemd ----
if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart= exists and Documentation= man pages
	# resolve: point both at the DESTDIR copy.
	mkdir -p "$dest/v"
	sed "s#$prefix/sbin/#$root/sbin/#g" "$unit" >"$dest/v/xtel-collector.service"
	if MANPATH=$root/share/man systemd-analyze verify "$dest/v/xtel-collector.service" \
		>"$dest/verify" 2>&1; then ok
	else bad "systemd-analyze verify:"; cat "$dest/verify"; fi
	score=$(systemd-analyze security --offline=true "$dest/v/xtel-collector.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for xtel-collector.service: \([0-9.]*\).*/\1/p')
	echo "systemd-analyze security: exposure $score"
	python3 -c "import sys; sys.exit(0 if 0 < float('${score:-0}') <= 2.5 else 1)" && ok ||
		bad "exposure score '$score' above 2.5"
else
	echo "note: systemd-analyze missing, unit checks skipped"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
