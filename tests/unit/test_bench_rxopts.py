#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""unit: the receive-path options section's pure parts
(bench/xtelbench/rxopts.py): a variant's ratio is the median of its
per-round ratios to the same round's reference (not the ratio of medians),
failed rounds count as missing, datagrams per wake-up and per GRO read come
from the receiver's summary, the callgrind figure is instructions per
datagram, and the markdown has one row per variant with those figures.

usage: test_bench_rxopts.py [SOURCE_ROOT]   (no privileges needed)
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(SRC, "bench"))
from xtelbench.rxopts import LEVELS, VARIANTS, _figure, _summarize, rxopts_markdown  # noqa: E402


def row(ns, status="ok", received=1000, waits=10, gro=None, ir=None):
    rx = {"totals": {"received": received}, "counters": {"rx_waits": waits, "enobufs": 2}}
    if gro:
        rx["gro"] = {"reads": gro[0], "datagrams": gro[1]}
    r = {"status": status, "cpu_ns_per_dgram": ns, "loss_pct": 0.0,
         "raw": {"receiver": rx}, "tag": "t"}
    if ir is not None:
        r["callgrind"] = {"ir_per_dgram": ir}
    return r


class Summaries(unittest.TestCase):
    def test_ratio_is_median_of_round_ratios(self):
        runs = {"default": [row(1000), row(500), row(800)],
                "rx-batch 8": [row(900), row(600), row(400)]}
        g = _summarize("capacity", "plain", 10, ("default", "rx-batch 8"), runs,
                       LEVELS["quick"])
        v = g["variants"][1]
        # per round 0.9, 1.2, 0.5 -> 0.9; the ratio of medians would be 0.75.
        self.assertAlmostEqual(v["ratio"], 0.9)
        self.assertEqual(v["cpu_ns"], 600)
        self.assertEqual(v["per_wait"], 100)
        self.assertEqual(g["fill"], LEVELS["quick"]["n"])

    def test_failed_round_is_missing(self):
        runs = {"default": [row(1000), row(1000)],
                "rx-napi 50": [row(500, status="error"), row(800)]}
        v = _summarize("capacity", "plain", 10, ("default", "rx-napi 50"), runs,
                       LEVELS["quick"])["variants"][1]
        self.assertEqual((v["ok"], v["rounds"]), (1, 2))
        self.assertAlmostEqual(v["ratio"], 0.8)

    def test_gro_reads_and_reference(self):
        runs = {"min": [row(300)], "min, veth gro + UDP_GRO": [row(150, gro=(250, 1000))]}
        g = _summarize("capacity", "plain", 10, ("min", "min, veth gro + UDP_GRO"), runs,
                       LEVELS["quick"])
        self.assertEqual(g["variants"][1]["gro_per_read"], 4.0)
        self.assertAlmostEqual(g["variants"][1]["ratio"], 0.5)
        self.assertEqual(g["variants"][1]["options"], "--gro")

    def test_callgrind_figure_and_markdown(self):
        self.assertEqual(_figure(row(700, ir=1234.5)), 1234.5)
        runs = {"default": [row(0, ir=1200)], "rx-batch 256": [row(0, ir=1140)]}
        g = _summarize("callgrind", "plain", 10, ("default", "rx-batch 256"), runs,
                       LEVELS["quick"])
        md = rxopts_markdown({"rounds": 5, "groups": [g]})
        self.assertIn("| rx-batch 256 | `--rx-batch 256` | 1140 | 0.950 |", md)

    def test_every_group_names_known_variants(self):
        for lv in LEVELS.values():
            for grp in lv["groups"]:
                for name in tuple(grp[3]) + tuple(grp[4:]):
                    self.assertIn(name, VARIANTS)


if __name__ == "__main__":
    unittest.main(verbosity=2)
