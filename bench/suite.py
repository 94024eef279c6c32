#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""XTel benchmark suite: runs the rows, collects the JSON, writes the table.

bench/run.sh prepares everything (packages, build, certificates, testbed,
teardown trap) and then runs this program, which:

  1. runs the Google Benchmark micro-benchmarks registered in suite 'perf'
     and keeps their ns/op;
  2. runs the end-to-end rows on the testbed: for each row one receiver (the
     collector on its io_uring or AF_XDP path, or a baseline) in the
     collector namespace and the load generator in the generator namespace,
     both bounded in count and time; the loss is split by where it happened
     (XDP program, socket buffer, io_uring/AF_XDP ring, remainder) from the
     collector's summary and the namespace's kernel counters;
  3. runs the load generator section: loadgen's highest rate (plain and DTLS,
     1 and 2 threads) next to a bare sendmmsg loop (bench/bare_sendmmsg.c)
     with as many threads, and loadgen's pacing accuracy at fixed rates;
  4. writes results.json (everything, raw reports included), PERFORMANCE.md
     (the tables) and PNG plots made with gnuplot into the output directory,
     and with --publish also docs/PERFORMANCE.md and docs/img/*.png.

Only the Python standard library is used. Progress: one line per row.
The suite itself is the package bench/xtelbench/ (its __init__.py lists the
modules); this file is only its command line.
"""
import sys

from xtelbench.main import main
from xtelbench.util import warn

if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        warn("interrupted: the current row's receiver and generator were stopped")
        sys.exit(130)
