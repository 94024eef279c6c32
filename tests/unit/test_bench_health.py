#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""unit: the health section of bench/ (bench/xtelbench/health.py) reads what
the real bench/bench_health prints: a short run is parsed into its false
verdict rate, client-hours, inference and feed cost and state size (none
missing), and the markdown carries the accuracy table with one row per fault
kind and magnitude plus the steady row, and one cost row per client count.

usage: test_bench_health.py SOURCE_ROOT BENCH_HEALTH   (no privileges needed)
"""
import os
import sys
import unittest

SRC = sys.argv.pop(1)
EXE = os.path.abspath(sys.argv.pop(1))
sys.path.insert(0, os.path.join(SRC, "bench"))
from xtelbench.health import _run, health_markdown  # noqa: E402


class HealthRows(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.acc = _run(EXE, 300, 200, 100, 50, 1)
        cls.cost = [_run(EXE, n, 120, 60, 30, 1) for n in (100, 200)]

    def test_parsed(self):
        for r in [self.acc] + self.cost:
            for k in ("false_per_1k_h", "client_hours", "inference_ns", "slowest_ns",
                      "state_bytes", "feed_ns"):
                self.assertIsNotNone(r[k], "%s missing from bench_health's output" % k)
        self.assertGreater(self.acc["client_hours"], 0)
        self.assertLessEqual(self.acc["state_bytes"], 1024)

    def test_markdown(self):
        md = health_markdown({"accuracy": [self.acc], "cost": self.cost})
        rows = [l for l in md.splitlines()
                if l.startswith("| ") and "->" in l and not l.startswith("| fault")]
        # 6 fault kinds at 3 magnitudes, silence once, the steady clients
        self.assertEqual(len(rows), 6 * 3 + 1 + 1, md)
        cost = [l for l in md.splitlines() if l.startswith("| 100 |") or l.startswith("| 200 |")]
        self.assertEqual(len(cost), 2, md)
        self.assertNotIn("| - |", "\n".join(cost))

    def test_error(self):
        self.assertIn("Not run: x", health_markdown({"error": "x"}))


if __name__ == "__main__":
    unittest.main(verbosity=2)
