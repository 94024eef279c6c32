#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs one libFuzzer harness for the fuzz tier's short, fixed budget: the
# committed seeds first, then mutations for SECONDS. New inputs go to a
# scratch corpus under WORKDIR (never into the source tree); a crash, leak
# or timeout input is written to WORKDIR/artifacts/ and the command to
# reproduce it is printed. Exit status is the fuzzer's: 0 when the budget
# ran out without a finding, 77 when the harness found its feature missing
# (e.g. BPF without root), anything else is a finding.
#
# usage: run_fuzzer.sh FUZZER SEEDS WORKDIR SECONDS [libFuzzer options...]
set -uo pipefail

if [ $# -lt 4 ]; then
	echo "usage: run_fuzzer.sh FUZZER SEEDS WORKDIR SECONDS [libFuzzer options...]" >&2
	exit 2
fi
fuzzer=$1 seeds=$2 work=$3 secs=$4
shift 4

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" || exit 1
dirs=("$work/corpus")
if [ -d "$seeds" ]; then
	dirs+=("$seeds")
else
	echo "run_fuzzer: no seeds in $seeds, starting from nothing" >&2
fi
# halt_on_error: UBSan findings abort like ASan ones, so libFuzzer saves them.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# -error_exitcode: libFuzzer's default for a finding is 77, which meson
# would take for a skip.
"$fuzzer" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" \
	"${dirs[@]}"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
	for f in "$work"/artifacts/*; do
		[ -e "$f" ] || continue
		echo "run_fuzzer: finding saved as $f; reproduce: $fuzzer $f" >&2
	done
fi
exit $rc
