#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The history store's benchmark (bench_store.c; figures in docs/STORAGE.md),
# runnable alone and without root: the writer at 10,000 and 100,000 clients
# (rows/s, CPU per second of views, bytes per client per day), the open
# after a crash at 100,000 clients (the coarser tiers rebuilt), then the
# history queries on pre-filled files (one client over 24 h, fleet totals
# over 30 days). JSON lines on stdout and in OUT/store.jsonl; the files go
# to OUT too (~200 MB) and are removed at the end. About 2-3 minutes on 2
# cores, most of it pre-filling 30 days of views through the writer.
#
# usage: bench/store.sh [--build DIR] [--out DIR] [--quick]
#   --quick   10,000 clients only, no query part (~10 s)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${XTEL_BUILD:-$top/build}
out=
quick=0
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=${2:?--build needs a directory}; shift ;;
	--out) out=${2:?--out needs a directory}; shift ;;
	--quick) quick=1 ;;
	-h | --help) sed -n '4,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "store.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
out=${out:-$build/bench-results}
bin=$build/bench/bench_store
[ -x "$bin" ] || { echo "store.sh: $bin missing: ninja -C $build first" >&2; exit 1; }
mkdir -p "$out"
files=$(mktemp -d "$out/store-files.XXXXXX")
trap 'rm -rf "$files"' EXIT
{
	"$bin" writer "$files" 10000 120
	if [ $quick -eq 0 ]; then
		"$bin" writer "$files" 100000 60
		"$bin" writer "$files" 10000 600	# the cost on a growing file
		"$bin" recover "$files" 100000
		"$bin" query "$files"
	fi
} | tee "$out/store.jsonl"
