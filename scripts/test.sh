#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs the whole XTel test suite: installs packages, builds, runs the unit,
# bpf, netns and integration tiers plus the benchmark smoke test, then the
# unit tier again under AddressSanitizer and UndefinedBehaviorSanitizer, then
# the fuzz tier: every libFuzzer harness of tests/fuzz for a short fixed time
# (about 90 s in all) in a clang build of its own. Ends with one line
# "N passed, N failed" counted from meson's test logs.
#
# usage: scripts/test.sh [--quick]   (--quick: skip the sanitizer and fuzz builds)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

quick=0
for a in "$@"; do
	case "$a" in
	--quick) quick=1 ;;
	-h | --help)
		awk 'NR > 3 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "$0"
		exit 0 ;;
	*) echo "test.sh: unknown option '$a' (try --help)" >&2; exit 2 ;;
	esac
done

./scripts/deps.sh || { echo "test.sh: installing packages failed" >&2; exit 1; }

build=${XTEL_BUILD:-build}
asan=${XTEL_ASAN_BUILD:-build-asan}
fuzz=${XTEL_FUZZ_BUILD:-build-fuzz}
logs=()
status=0

setup() { # dir [meson options...]
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

run_suites() { # dir [--no-rebuild] suite...
	local dir=$1; shift
	local args=()
	for s in "$@"; do
		case "$s" in
		--*) args+=("$s") ;;
		*) args+=(--suite "$s") ;;
		esac
	done
	meson test -C "$dir" --print-errorlogs --num-processes 1 "${args[@]}" || status=1
	logs+=("$dir/meson-logs/testlog.json")
}

echo "== build ($build)"
setup "$build" || exit 1
ninja -C "$build" || exit 1

suites=(unit bpf netns integration perf)
echo "== tests: ${suites[*]}"
run_suites "$build" "${suites[@]}"
# meson overwrites testlog.json on every run: keep each run's copy.
cp "$build/meson-logs/testlog.json" "$build/meson-logs/testlog-main.json" 2>/dev/null
logs=("$build/meson-logs/testlog-main.json")

if [ $quick -eq 0 ]; then
	echo "== unit tests under ASan/UBSan ($asan)"
	setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false || exit 1
	ninja -C "$asan" || exit 1
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run_suites "$asan" unit

	# libFuzzer needs clang; the harnesses alone are built (not the
	# daemon, benchmarks or other tests), so the tests run --no-rebuild.
	echo "== fuzz tier ($fuzz: clang, libFuzzer, ASan, UBSan)"
	CC=clang CXX=clang++ setup "$fuzz" -Dfuzz=true || exit 1
	ninja -C "$fuzz" fuzzers || exit 1
	run_suites "$fuzz" --no-rebuild fuzz
fi

python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        if not line.strip():
            continue
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
rc=$?
[ $rc -ne 0 ] && status=1
exit $status
