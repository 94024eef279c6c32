#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Records the fixtures of tests/unit/test_bench_derive.py: a few real rows
run by the benchmark suite's own run_row on a testbed of their own, each
saved as what derive() was given (the row as measured, the sender's report,
the receiver's summary, the CPU samples) together with the kernel counter
readings before and after the row, as the suite read them.

usage: record.py SOURCE_ROOT BUILD_ROOT OUTDIR   (as root; a few seconds)

The testbed is scripts/testbed.sh with XTEL_NS_SUFFIX (default "fx"), torn
down at the end. The fixtures are test inputs, recorded once and committed;
the test's expected values are worked out from them by hand, so recording
again means checking those values again.
"""
import argparse
import copy
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

src, build, outdir = (os.path.abspath(a) for a in sys.argv[1:4])
sys.path.insert(0, os.path.join(src, "bench"))
from xtelbench import counters, rows  # noqa: E402
from xtelbench.env import Env  # noqa: E402

# name, what it shows, run_row arguments, extra loadgen options
CASES = [
    ("plain-1k", "collector io_uring, plain, 1 client at 1,000/s: nothing lost",
     dict(section="seeds", kind="io_uring", mode="plain", clients=1, rate=1000, secs=1.0), []),
    ("faults", "collector io_uring, plain, 5 clients at 5,000/s, loadgen skipping 2% of "
     "the DATA seqs: the receiver counts the gaps, nothing is lost on the way",
     dict(section="seeds", kind="io_uring", mode="plain", clients=5, rate=5000, secs=1.0),
     ["--loss", "0.02", "--seed", "7"]),
    ("python-max", "Python recvfrom baseline, 10 clients as fast as loadgen can: its socket "
     "buffer overflows", dict(section="rate", kind="py", mode="plain", clients=10, rate=0,
                              secs=1.0), []),
    ("bare2-collector", "the bare sendmmsg loop, 2 threads, into collector io_uring: the "
     "veth pair drops before the host",
     dict(section="sender", kind="io_uring", mode="plain", clients=2, rate=0, secs=1.0,
          opts=dict(sender="bare", threads=2, payload_size=64)), []),
    ("dtls-flood-allow", "collector with XDP --allow, DTLS, 10 clients at 5,000/s under a "
     "20,000/s ClientHello flood from outside the allowlist",
     dict(section="flood", kind="xdp_allow", mode="dtls", clients=10, rate=5000, secs=1.0,
          flood=20000), []),
]


def testbed(cmd, env):
    return subprocess.run([os.path.join(src, "scripts", "testbed.sh"), cmd], env=env,
                          check=True, capture_output=True, text=True).stdout


def record(env, seq, name, what, kw, extra):
    readings = []
    got = {}
    read_text, derive, loadgen_cmd = counters.read_counter_text, rows.derive, rows.loadgen_cmd

    def keep_text(e):
        t = read_text(e)
        readings.append(t)
        return t

    def keep_inputs(row, lg, rx):
        s = row.get("_sampler")
        # raw (the reports without their per-client arrays) is left out:
        # derive() reads the reports themselves.
        got["row"] = {k: copy.deepcopy(v) for k, v in row.items()
                      if not k.startswith("_") and k != "raw"}
        got["cpu"] = {"samples": s.samples, "marks": row["_cpu_marks"]} if s else None
        got["loadgen"], got["receiver"] = copy.deepcopy(lg), copy.deepcopy(rx)
        derive(row, lg, rx)

    counters.read_counter_text = keep_text
    rows.derive = keep_inputs
    rows.loadgen_cmd = lambda *a, **k: loadgen_cmd(*a, **k) + extra
    try:
        row = rows.run_row(env, seq, **kw)
    finally:
        counters.read_counter_text, rows.derive, rows.loadgen_cmd = read_text, derive, loadgen_cmd
    if row.get("status") != "ok" or "row" not in got:
        sys.exit("record.py: %s: %s %s" % (name, row.get("status"), row.get("note")))
    fixture = {"case": name, "what": what, "run_row": kw, "loadgen_extra": extra,
               "counter_readings": {"before": readings[0], "after": readings[1]}}
    fixture.update(got)
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("%-18s sent %s received %s lost %s where %s" % (
        name, row["sent"], row["received"], row["lost"], row["loss_where"]))


def main():
    tbenv = dict(os.environ, XTEL_NS_SUFFIX=os.environ.get("XTEL_NS_SUFFIX", "fx"))
    for line in testbed("env", tbenv).splitlines():
        k, v = line.replace("export ", "", 1).split("=", 1)
        tbenv[k] = os.environ[k] = shlex.split(v)[0]
    os.makedirs(outdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="xtel-fixtures.")
    try:
        certs = os.path.join(work, "certs")
        subprocess.run([os.path.join(src, "certs", "gen.sh"), certs, "10"], check=True,
                       capture_output=True)
        args = argparse.Namespace(src=src, build=build, out=work, certs=certs, level="smoke",
                                  command=None, publish=False)
        testbed("up", tbenv)
        try:
            env = Env(args)
            for seq, case in enumerate(CASES, 1):
                record(env, seq, *case)
        finally:
            testbed("down", tbenv)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
