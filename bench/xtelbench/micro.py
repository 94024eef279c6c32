# SPDX-License-Identifier: MIT
"""The micro-benchmarks: every benchmark registered in meson suite 'perf',
run once, its ns/op kept. Google Benchmark executables and those with their
own --json are told apart by their --help."""
import json
import os
import subprocess
import time

from .util import load_json, log, warn


def is_google_benchmark(cmd, cwd):
    try:
        # With its registered arguments: some take a positional one first.
        r = subprocess.run(list(cmd) + ["--help"], capture_output=True, text=True, timeout=20,
                           cwd=cwd)
        return "benchmark_min_time" in (r.stdout + r.stderr)
    except (OSError, subprocess.TimeoutExpired):
        return False


GB_STANDARD_KEYS = {"family_index", "per_family_instance_index", "repetitions",
                    "repetition_index", "threads", "iterations", "real_time", "cpu_time",
                    "items_per_second", "bytes_per_second"}


def parse_google(b, data):
    res = []
    for bm in data.get("benchmarks", []):
        if bm.get("run_type", "iteration") != "iteration":
            continue
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}.get(bm.get("time_unit", "ns"), 1.0)
        counters = {k: v for k, v in bm.items()
                    if isinstance(v, (int, float)) and k not in GB_STANDARD_KEYS}
        res.append({"executable": b["name"], "name": bm["name"], "counters": counters,
                    "ns_per_op": bm["cpu_time"] * scale,
                    "real_ns_per_op": bm["real_time"] * scale,
                    "iterations": bm.get("iterations"),
                    "items_per_second": bm.get("items_per_second"),
                    "bytes_per_second": bm.get("bytes_per_second")})
    return res


def parse_own_json(b, data):
    """Benchmarks with their own --json: every '*ns_per*' map of numbers."""
    res = []
    for key, val in data.items():
        if "ns_per" not in key or not isinstance(val, dict):
            continue
        for case, ns in val.items():
            if isinstance(ns, (int, float)):
                res.append({"executable": b["name"], "name": "%s/%s" % (key, case),
                            "ns_per_op": float(ns)})
    return res


def run_micro(env):
    """Benchmarks registered in meson suite 'perf', ns/op each.

    Google Benchmark executables run with --benchmark_min_time (a plain
    number: Google Benchmark 1.7) and JSON output; any other registered
    benchmark runs with its registered arguments plus --json.
    """
    try:
        intro = subprocess.run(["meson", "introspect", "--benchmarks", env.build],
                               capture_output=True, text=True, timeout=60)
        benches = json.loads(intro.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        warn("cannot list benchmarks: %s" % e)
        return []
    results = []
    for b in benches:
        suites = [s.split(":")[-1] for s in b.get("suite", [])]
        if "perf" not in suites:
            continue
        results.extend(_run_one(env, b))
    return results


def _run_one(env, b):
    """The results of one registered benchmark b (meson introspect's entry);
    one result without ns_per_op when it was skipped or failed."""
    cwd = b.get("workdir") or env.build
    out = os.path.join(env.raw, "micro-%s.json" % b["name"])
    if os.path.exists(out):
        os.unlink(out)
    google = is_google_benchmark(b["cmd"], cwd)
    if google:
        cmd = list(b["cmd"]) + ["--benchmark_min_time=%g" % env.cfg["micro"],
                                "--benchmark_format=json", "--benchmark_out=" + out,
                                "--benchmark_out_format=json"]
    else:
        cmd = list(b["cmd"]) + ["--json"]
    t = time.monotonic()
    r = None
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd,
                           env=dict(os.environ, **(b.get("env") or {})))
        ok = r.returncode == 0
        if not google and ok:
            with open(out, "w") as f:
                f.write(r.stdout)
    except (OSError, subprocess.TimeoutExpired) as e:
        ok = False
        warn("%s: %s" % (b["name"], e))
    if r is not None and r.returncode == 77:
        # The benchmark probed that it cannot run here (e.g. BPF refused).
        log("[micro %5.1fs] %-14s skipped (exit 77)" % (time.monotonic() - t, b["name"]))
        return [{"executable": b["name"], "name": b["name"], "ns_per_op": None,
                 "skipped": True, "error": (r.stdout + r.stderr)[-300:]}]
    data = load_json(out) or {}
    got = parse_google(b, data) if google else parse_own_json(b, data)
    log("[micro %5.1fs] %-14s %s, %d results" % (
        time.monotonic() - t, b["name"], "ok" if ok and got else "FAILED (exit %s)" %
        (r.returncode if r else "-"), len(got)))
    if not ok or not got:
        got = got + [{"executable": b["name"], "name": b["name"], "ns_per_op": None,
                      "error": ((r.stderr or r.stdout)[-500:] if r else "did not run")}]
    return got
