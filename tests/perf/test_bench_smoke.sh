#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# perf tier: the benchmark suite's smallest configuration (bench/run.sh
# --smoke: one plain row of 1 client at 1,000 datagrams/s for 1 s through
# the collector, the same load into the C baseline, micro-benchmarks at
# minimal time) runs end to end, and what it produces is exact: at that rate
# nothing is lost, so each receiver got exactly what the load generator
# sent; results.json, PERFORMANCE.md and the PNG plots exist and hold those
# rows. Needs root (network namespaces); takes about 10 seconds.
set -uo pipefail
src=${1:?usage: test_bench_smoke.sh SOURCE_ROOT BUILD_ROOT}
build=${2:?usage: test_bench_smoke.sh SOURCE_ROOT BUILD_ROOT}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the benchmark suite needs root for network namespaces"
	exit 77
fi

out=$(mktemp -d /tmp/xtel-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT

# run.sh tears its testbed down by itself, also when meson's timeout sends
# SIGTERM (passed on from here); --no-build because meson test has just
# built this tree.
"$src/bench/run.sh" --smoke --no-build --build "$build" --out "$out" &
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner; rm -rf "$out"; exit 1' TERM INT
if ! wait $runner; then
	echo "FAIL bench/run.sh --smoke exited non-zero"
	exit 1
fi
trap 'rm -rf "$out"' EXIT
trap - TERM INT

python3 - "$out" <<'PY'
import json, os, sys

out = sys.argv[1]
fails = 0


def check(what, ok):
    global fails
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        fails += 1


res_path = os.path.join(out, "results.json")
check("results.json written", os.path.isfile(res_path))
res = json.load(open(res_path)) if os.path.isfile(res_path) else {"rows": [], "micro": []}
rows = res["rows"]
check("exactly 2 rows (collector + C baseline), got %d" % len(rows), len(rows) == 2)


def row_of(receiver):
    return next((r for r in rows if r.get("receiver") == receiver), None)


for receiver in ("io_uring", "c"):
    r = row_of(receiver) or {}
    name = r.get("path", receiver)
    check("%s: row ran (status %s %s)" % (name, r.get("status"), r.get("note", "")),
          r.get("status") == "ok")
    check("%s: plain, 1 client, 1000/s offered" % name,
          (r.get("mode"), r.get("clients"), r.get("offered_pps")) == ("plain", 1, 1000))
    # loadgen sends --count 1000 DATA plus INIT and BYE, bounded by 1 s.
    check("%s: loadgen sent %s datagrams (1000 DATA + INIT + BYE)" % (name, r.get("sent")),
          r.get("sent") == 1002)
    check("%s: received %s == sent %s" % (name, r.get("received"), r.get("sent")),
          r.get("received") == r.get("sent"))
    check("%s: receiver counts 0 lost, 0 duplicates (%s, %s)" % (
        name, r.get("lost_receiver"), r.get("duplicates")),
        r.get("lost_receiver") == 0 and r.get("duplicates") == 0)
    check("%s: loss 0.000%%" % name, r.get("loss_pct") == 0.0)
    check("%s: CPU per datagram and RSS measured" % name,
          (r.get("cpu_ns_per_dgram") or 0) > 0 and (r.get("rss_kb") or 0) > 0)

micro = res.get("micro", [])
failed_micro = [m["name"] for m in micro if m.get("ns_per_op") is None and not m.get("skipped")]
check("micro-benchmarks all ran (%d results, failed: %s)" % (len(micro), failed_micro),
      not failed_micro)

md_path = os.path.join(out, "PERFORMANCE.md")
md = open(md_path).read() if os.path.isfile(md_path) else ""
check("PERFORMANCE.md written", bool(md))
check("PERFORMANCE.md has the table header", "| Path | Mode | Clients | Offered/s |" in md)
check("PERFORMANCE.md has the collector row",
      "| collector io_uring | plain | 1 | 1k | " in md)
check("PERFORMANCE.md has the baseline row",
      "| baseline C recvmmsg | plain | 1 | 1k | " in md)

for png in ("loss_vs_rate.png", "cpu_ns_vs_rate.png"):
    p = os.path.join(out, "img", png)
    data = open(p, "rb").read() if os.path.isfile(p) else b""
    check("%s is a non-empty PNG (%d bytes)" % (png, len(data)),
          len(data) > 100 and data[:8] == b"\x89PNG\r\n\x1a\n")
    check("PERFORMANCE.md links %s" % png, "img/%s" % png in md)

print("bench smoke: %d failure(s)" % fails)
sys.exit(1 if fails else 0)
PY
