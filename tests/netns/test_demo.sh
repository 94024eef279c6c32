#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: the README's first quick-start command (scripts/demo.sh) keeps
# working. A small run: 3 DTLS clients at 1,000 datagrams/s for 2 s; the
# injected loss, duplicates and reordering must be counted exactly, XDP must
# be attached natively, and the testbed must be gone afterwards.
set -uo pipefail
top=${1:?usage: test_demo.sh SOURCE_ROOT}
cd "$top" || exit 1
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the demo needs root"
	exit 77
fi
eval "$(scripts/testbed.sh env)"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
./scripts/demo.sh --clients 3 --rate 1000 --duration 2 >"$out" 2>&1
rc=$?

fails=0
check() { # description command...
	local what=$1; shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
has() { grep -E -- "$1" "$out" >/dev/null; }
check "demo exits 0 (got $rc)" test $rc -eq 0
for what in lost duplicates reordered; do
	check "$what counted exactly as injected" has "^$what +[0-9]+ +[0-9]+  exact$"
done
check "3 clients reported" has "^received [0-9]+ telemetry datagrams from 3 clients$"
check "XDP attached in native mode" has "^XDP \(native mode on veth-col\)"
check "the live API answered (lost and pending gaps)" has "^   clients 3 \(live [0-9]+\), received [0-9]+, lost [0-9]+, pending [0-9]+, "
check "the dashboard URL printed" has "^== dashboard \(docs/DASHBOARD.md\): http://127.0.0.1:9477/ in namespace "
check "testbed removed" test -z "$(ip netns list | awk -v a="$XTEL_NS_COL" -v b="$XTEL_NS_GEN" '$1 == a || $1 == b')"
[ $fails -eq 0 ] || sed 's/^/    | /' "$out" | tail -40
echo "demo: $fails failure(s)"
[ $fails -eq 0 ]
