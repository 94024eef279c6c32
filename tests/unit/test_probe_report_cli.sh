#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# unit tier: probe-report's --from/--to take Unix seconds (with fractions)
# or RFC 3339 (common/parse.c, the HTTP API's from/to parser). Each case
# is told apart by the exit code: 2 for a refused option or --to not after
# --from, 3 when the options pass and the (missing) --log is read, so an
# RFC 3339 time equal to a Unix one makes --to not after --from.
# usage: test_probe_report_cli.sh PROBE_REPORT
set -u
pr=${1:?usage: test_probe_report_cli.sh PROBE_REPORT}
work=$(mktemp -d /tmp/xtel-test-pr-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 failed=0

case_rc() { # DESCRIPTION WANT_RC [--from X] [--to Y] ...
	local what=$1 want=$2 rc
	shift 2
	"$pr" --log "$work/none.jsonl" --json "$work/out.json" "$@" >"$work/out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then
		echo "ok   $what (exit $rc)"
		pass=$((pass + 1))
	else
		echo "FAIL $what: expected exit $want, got $rc: $(cat "$work/out")"
		failed=$((failed + 1))
	fi
}

t=1796126400	# 2026-12-01T12:00:00Z
case_rc "Unix seconds" 3 --from "$t" --to $((t + 1))
case_rc "RFC 3339 Z" 3 --from 2026-12-01T12:00:00Z --to $((t + 1))
case_rc "RFC 3339 is the same second as the Unix one" 2 \
	--from 2026-12-01T12:00:00Z --to "$t"
case_rc "RFC 3339 with an offset, both ways" 2 \
	--from "$t" --to 2026-12-01T14:00:00+02:00
case_rc "RFC 3339 --to one second after" 3 \
	--from "$t" --to 2026-12-01T13:00:01+01:00
case_rc "fractions: .5 after the second is not after .5" 2 \
	--from 2026-12-01T12:00:00.5Z --to "$t.5"
case_rc "fractions: .6 is after .5" 3 --from 2026-12-01T12:00:00.5Z --to "$t.6"
case_rc "a date alone is refused" 2 --from 2026-12-01
case_rc "no zone is refused" 2 --from 2026-12-01T12:00:00
case_rc "junk is refused" 2 --to soon
if "$pr" --from soon --log x --json y 2>&1 | grep -q "valid: unix seconds 0..1e11 or an RFC 3339 time"; then
	echo "ok   the refusal names both forms"
	pass=$((pass + 1))
else
	echo "FAIL the refusal names both forms"
	failed=$((failed + 1))
fi
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
