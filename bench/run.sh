#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The XTel benchmark suite in one command: micro-benchmarks, end-to-end rows
# on the two-namespace testbed (collector io_uring and AF_XDP, plain and DTLS,
# beside C recvmmsg and Python recvfrom baselines), the load generator's own
# ceiling against bench/bare_sendmmsg and its pacing. Writes results.json,
# PERFORMANCE.md and PNG plots into the output directory.
#
# usage: bench/run.sh [--quick | --smoke] [--out DIR] [--publish]   (as root)
#                          [--build DIR] [--no-build] [--no-micro] [--no-e2e]
#                          [--api] [--probes] [--store] [--dashboard] [--health]
#                          [--capacity | --no-capacity] [--scaleout]
#                          [--many-clients | --no-many-clients] [--many-clients-dtls]
#                          [--many-clients-order bursts|interleaved|both]
#                          [--storm | --no-storm] [--memory | --no-memory] [--rxopts]
#                          [--health-rows | --no-health-rows] [--interval] [--agg-once] [--ab-dtls] [--ab-plain]
#
#   (default)   the whole suite, under 10 minutes on 2 cores
#   --quick     fewer and shorter rows, under 2 minutes
#   --smoke     one plain row (1 client, 1,000/s, 1 s) and one baseline row,
#               micro-benchmarks at minimal time: what tests/perf runs
#   --out DIR   output directory (default BUILD/bench-results)
#   --publish   also write docs/PERFORMANCE.md and docs/img/*.png
#   --build DIR meson build directory (default build, or $XTEL_BUILD)
#   --no-build  use the build directory as it is (no meson/ninja call)
#   --no-micro, --no-e2e   leave out one of the two parts
#   --capacity  the receivers' own ceiling (pre-filled buffer drained with
#               no sender; part of the default and --quick runs): with
#               --no-micro --no-e2e --capacity only that (~1-4 minutes)
#   --no-capacity  leave it out
#   --many-clients the many-clients rows (CPU per datagram at 10 / 10,000 /
#               100,000 clients, memory per client, plain and DTLS; part of
#               --capacity; full ~5.5 min, quick ~1.5 min): --no-micro --no-e2e
#               --no-capacity --many-clients runs only those;
#               --no-many-clients leaves them out
#   --many-clients-dtls  of those only the DTLS rows (full: 10 / 10,000 /
#               100,000 DTLS clients, ~8 min; needs 100,000 certificates,
#               made once by xtel-certgen in ~1 min)
#   --many-clients-order bursts|interleaved|both  the many-clients rows' fill (plain and DTLS): each
#               client's records back to back (bursts, default), every record
#               from another client (interleaved: a fleet; loadgen --batch 1),
#               or both, row after row (--publish adds the --no-health DTLS rows
#               at 10 and 100,000 interleaved, ~4 min). XTEL_SCALE_DTLS_CLIENTS=
#               100000 and XTEL_SCALE_KINDS=noh pick DTLS counts and receivers
#   --api       also measure the HTTP API: ingest under API load, latency
#               per endpoint with 10k and 100k clients, memory (~2 minutes;
#               --no-micro --no-e2e --api runs only that)
#   --probes    also measure the download probes: probe-server throughput,
#               speed against the throttle, telemetry loss and collector
#               CPU beside 1,000 probing devices (~2 minutes; --no-micro
#               --no-e2e --probes runs only that; docs/PROBES.md)
#   --store     also the history store (bench/store.sh, runnable alone
#               without root: writer rows/s and CPU, DB bytes, queries)
#   --dashboard also measure the web dashboard in headless Chromium: page
#               load, browser CPU, scrolling, sorting with 1,000 and 10,000
#               clients (~2 minutes; --smoke --no-micro --no-e2e --dashboard
#               runs only that)
#   --scaleout  also measure edges -> NATS JetStream -> aggregator: rollup
#               throughput and latency with 10k and 100k clients, bytes and
#               CPU per rollup, the edge's receive-path overhead (~2 minutes;
#               --no-micro --no-e2e --scaleout runs only that)
#   --storm     the device restart storm (N devices reconnect at once,
#               full vs resumed handshakes; part of the default and --quick
#               runs; --no-micro --no-e2e --storm runs only that; with it
#               the server's callgrind instructions per full handshake with
#               --crl and through an intermediate CA), --no-storm leaves it out
#   --memory    memory per plain client by component (bench_memory: record,
#               histogram, metrics, registry, view copy; with health on:
#               engine, latency copy, feed table, inputs, results; ~1-2
#               minutes, part of every level; --no-micro --no-e2e --memory
#               runs only that),
#               --no-memory leaves it out
#   --rxopts    also the receive-path options (io_uring NAPI busy polling,
#               SO_BUSY_POLL, batch sizes, malloc huge pages), each beside
#               the default in alternating rounds, capacity drain and end
#               to end (~9 minutes quick, ~20 default; --no-micro --no-e2e --no-capacity
#               --no-storm --rxopts runs only that; docs/CAPACITY.md)
#   --health-rows  health inference accuracy per fault kind and cost at
#               rising client counts (bench_health, seconds, part of every
#               level and of PERFORMANCE.md; --no-micro --no-e2e --health-rows
#               runs only that), --no-health-rows leaves it out
#   --ab-dtls   the build's collector and $XTEL_COLLECTOR_B's (e.g. main's
#               build) alternated on the DTLS capacity rows: drain and
#               callgrind at 10 clients, drain at $XTEL_AB_CLIENTS (default
#               10000); XTEL_AB_ROUNDS rounds (default 2; docs/CAPACITY.md);
#               records in the first order of --many-clients-order
#   --ab-plain  the same on the many-clients plain rows (health on and
#               --no-health, or $XTEL_SCALE_KINDS) at 10 and $XTEL_AB_CLIENTS
#               (default 100000) clients, in --many-clients-order's orders
#               (docs/CAPACITY.md "The accounting record in fleet order")
#   --interval  the main thread's view build per client per interval
#               (bench_interval under callgrind, health on and off; ~1 min;
#               only when asked: --no-micro --no-e2e --interval)
#   --agg-once  the aggregator's exactly-once memory: the edge runs' ranges
#               against the per-id table (bench_agg_once, callgrind; ~30 s;
#               only when asked: --no-micro --no-e2e --agg-once)
#   --health    only the health inference bench (bench_health: accuracy per
#               fault kind and cost on a synthetic fleet, ~30 s, no root);
#               its table goes to stdout and OUT/health.md
#
# Beside it, for one question at a time (docs/CAPACITY.md): bench/drain_profile.py
# (perf's cpu-clock profile of each frozen collector's drain, kernel included,
# and two profiles compared), bench/ab_plain_fleet.py (two builds' plain
# accounting in memory), bench_dtls_fleet --prefetch D --ab K (the DTLS batch
# prefetch with and without, in one process).
#
# Environment: XTEL_NS_SUFFIX (testbed names, as scripts/testbed.sh),
# XTEL_BENCH_WORKERS (collector --workers, default 1),
# XTEL_BENCH_SCALE_CLIENTS (the many-clients rows: only plain ones, at
# these comma-separated client counts, with the C baseline), XTEL_COLLECTOR and
# XTEL_LOADGEN (other binaries than the build directory's).
#
# Needs root (network namespaces, XDP). Honours XTEL_NS_SUFFIX like
# scripts/testbed.sh, so it can run beside another testbed. Every load is
# bounded in count and time; the testbed is torn down on exit, even on ^C.
# Exit status: 0 all rows ran, 1 a row or step failed, 2 usage.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
caller=$PWD
# Paths given on the command line are relative to where it was typed.
abspath() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$caller" "$1" ;; esac; }
cd "$top"

# The help is this header from its usage line to its Environment paragraph.
usage() { sed -n '/^# usage:/,/^# XTEL_LOADGEN/p' "$0" | sed 's/^# \{0,1\}//'; }

level=full
out=
publish=()
# Absolute: the benchmarks run in other directories (bench_dtls in the
# build directory calls certs/gen.sh, which runs XTEL_CERTGEN below).
build=$top/build
[ -n "${XTEL_BUILD:-}" ] && build=$(abspath "$XTEL_BUILD")
do_build=1
health_only=0
extra=()
store=0
cmdline="bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) level=quick ;;
	--smoke) level=smoke ;;
	--full) level=full ;;
	--out) out=$(abspath "${2:?--out needs a directory}"); shift ;;
	--out=*) out=$(abspath "${1#--out=}") ;;
	--build) build=$(abspath "${2:?--build needs a directory}"); shift ;;
	--build=*) build=$(abspath "${1#--build=}") ;;
	--no-build) do_build=0 ;;
	--publish) publish=(--publish) ;;
	--no-micro | --no-e2e | --api | --probes | --dashboard | --capacity | --no-capacity | --scaleout | --storm | --no-storm | --many-clients | --no-many-clients | --many-clients-dtls | --memory | --no-memory | --rxopts | --health-rows | --no-health-rows | --interval | --agg-once | --ab-dtls | --ab-plain) extra+=("$1") ;;
	--many-clients-order) extra+=("$1" "${2:?--many-clients-order needs bursts, interleaved or both}"); shift ;;
	--store) store=1 ;;
	--health) health_only=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
out=${out:-$build/bench-results}

if [ $health_only -eq 1 ]; then
	if [ $do_build -eq 1 ]; then
		[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
		ninja -C "$build" bench/bench_health >/dev/null
	fi
	mkdir -p "$out"
	"$build/bench/bench_health" | tee "$out/health.md"
	exit "${PIPESTATUS[0]}"
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: the end-to-end part needs root (network namespaces, XDP): run it as root" >&2
	exit 1
fi

step() { printf '== %s\n' "$*"; }

step "packages (scripts/deps.sh)"
./scripts/deps.sh

if [ $do_build -eq 1 ]; then
	step "build ($build)"
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" >/dev/null
	fi
	ninja -C "$build" >/dev/null
fi
[ -x "$build/bench/baseline_recvmmsg" ] || {
	echo "run.sh: $build/bench/baseline_recvmmsg missing: build first or drop --no-build" >&2
	exit 1
}

mkdir -p "$out"
out=$(cd "$out" && pwd)

# Certificates for the DTLS rows. They are reused between runs (the
# directory keeps them), because generating ten thousand client keys costs
# more than the benchmark itself.
certs=
if [ "$level" != smoke ] && [ -x certs/gen.sh ]; then
	certs=$out/certs
	# The full level's many-clients rows hold 100,000 DTLS clients.
	case $level in
	quick) ncerts=1000 ;;
	*) ncerts=100000 ;;
	esac
	# xtel-certgen makes them in one process (~1 min for 100,000; openssl
	# processes took ~5 min); gen.sh keeps what is there and adds the rest.
	[ -x "$build/userspace/certgen/xtel-certgen" ] &&
		export XTEL_CERTGEN=$build/userspace/certgen/xtel-certgen
	if [ ! -f "$certs/client-$ncerts.crt" ] || [ ! -f "$certs/server.crt" ]; then
		step "certificates for $ncerts clients (certs/gen.sh)"
		certs/gen.sh "$certs" "$ncerts" >/dev/null
	fi
fi

step "testbed (scripts/testbed.sh up${XTEL_NS_SUFFIX:+, suffix $XTEL_NS_SUFFIX})"
eval "$(scripts/testbed.sh env)"
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	scripts/testbed.sh down >/dev/null 2>&1 || true
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
scripts/testbed.sh up >/dev/null

# Python runs the rows; bash keeps the trap that removes the testbed. The
# suite runs as a child we wait for, so that a signal to this script is
# handled at once (bash defers traps while a foreground command runs): it is
# passed on, the suite stops its receiver and generator, then the EXIT trap
# removes the testbed.
python3 bench/suite.py --src "$top" --build "$build" --out "$out" \
	${certs:+--certs "$certs"} --level "$level" --command "$cmdline" \
	"${publish[@]}" "${extra[@]}" &
suite=$!
stop_suite() { # exit status
	kill -TERM "$suite" 2>/dev/null || true
	wait "$suite" 2>/dev/null || true
	exit "$1"
}
trap 'stop_suite 130' INT
trap 'stop_suite 143' TERM
wait "$suite"
if [ $store -eq 1 ]; then
	step "history store (bench/store.sh)"
	quick_store=()
	[ "$level" = full ] || quick_store=(--quick)
	bench/store.sh --build "$build" --out "$out" "${quick_store[@]}" >/dev/null
fi
