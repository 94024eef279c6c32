#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""unit: the memory section's table (bench/xtelbench/memory.py) from
bench_memory's JSON: one row per result with the components, the heaps
and the two peaks (the last view build's and the run's), "-" for a peak
a run did not count (a sanitizer build), and the health table with the
sum of health's parts.

usage: test_bench_memory.py [SOURCE_ROOT]   (no privileges needed)
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(SRC, "bench"))
from xtelbench.memory import HEALTH_PARTS, PARTS, memory_markdown  # noqa: E402

# as bench_memory --clients 1000 --datagrams 5 --json printed it
PLAIN = {"clients": 1000, "datagrams": 5, "workers": 1, "db": False, "health": False,
         "bytes_per_client": {"record": 524.3, "histogram": 97.1, "metrics": 224.1,
                              "registry": 20.6, "arena_slack": 6.5,
                              "accounting_heap": 865.4, "view_copy": 528.0,
                              "model_and_view_heap": 537.6, "total_heap": 1414.6,
                              "build_peak": 533.8, "peak_heap": 1944.4},
         "lat_sigma": 0.5}


def rows_of(md, head):
    lines = md.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith(head))
    out = []
    for l in lines[i + 2:]:
        if not l.startswith("|"):
            break
        out.append([c.strip() for c in l.strip("|").split("|")])
    return lines[i], out


class Table(unittest.TestCase):
    def test_plain_row_has_parts_heaps_and_peaks(self):
        head, rows = rows_of(memory_markdown({"rows": [PLAIN]}), "| clients | datagrams")
        self.assertTrue(head.rstrip().endswith("| build peak | peak heap |"))
        self.assertEqual(rows, [["1000", "5", "0.5", "524", "97", "224", "21", "6",
                                 "528", "865", "538", "1415", "534", "1944"]])
        self.assertEqual(len(rows[0]), len(head.strip("|").split("|")))

    def test_uncounted_peaks_are_dashes(self):
        r = dict(PLAIN, bytes_per_client={k: v for k, v in PLAIN["bytes_per_client"].items()
                                          if k not in ("build_peak", "peak_heap")})
        _, rows = rows_of(memory_markdown({"rows": [r]}), "| clients | datagrams")
        self.assertEqual(rows[0][-2:], ["-", "-"])

    def test_health_row_sums_health_parts(self):
        b = dict(PLAIN["bytes_per_client"], health_engine=568.0, health_lat_copy=257.2,
                 health_feed_table=72.0, health_inputs=144.0, health_result_view=224.0)
        h = dict(PLAIN, health=True, bytes_per_client=b)
        md = memory_markdown({"rows": [PLAIN], "health_rows": [h]})
        head, rows = rows_of(md, "| clients | datagrams each | sigma | engine")
        self.assertEqual(len(rows[0]), len(head.strip("|").split("|")))
        self.assertEqual(rows[0][3:3 + len(HEALTH_PARTS)],
                         ["568", "257", "72", "144", "224"])
        self.assertEqual(rows[0][3 + len(HEALTH_PARTS)], "%.0f" % (568 + 257.2 + 72 + 144 + 224))
        self.assertEqual(rows[0][-2:], ["534", "1944"])
        self.assertEqual(len(PARTS), 6)

    def test_error_says_not_run(self):
        self.assertIn("Not run: bench_memory not built",
                      memory_markdown({"error": "bench_memory not built"}))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
