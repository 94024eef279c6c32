#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""unit: how many DTLS clients one loadgen process of a capacity row holds
(bench/xtelbench/lgsize.py): the least of the socket, port and memory
bounds, memory from the measured bytes per client; without a measurement
the old fixed 15,000; plain rows keep it. And the table of loadgen's
sealing cost beside it (bench/xtelbench/lgseal.py).

usage: test_bench_lgsize.py [SOURCE_ROOT]   (no privileges needed)
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(SRC, "bench"))
from xtelbench import lgseal, lgsize  # noqa: E402


class ChainSize(unittest.TestCase):
    def test_memory_bounds_the_old_clients(self):
        # ~69 KB a client on OpenSSL's layer (loadgen's VmHWM, 19,900
        # clients): 2 GiB holds 15,561 of them at the heap factor 2.
        n, b = lgsize.chain_size(69000, 19936, 27232, 2 << 30)
        self.assertEqual(n, 15561)
        self.assertEqual(min(b, key=b.get), "memory")

    def test_sockets_bound_the_new_clients(self):
        # 8.3 KB (bench_dtls_memory: session after the take-over + identity).
        n, b = lgsize.chain_size(8322, 19936, 27232, 2 << 30)
        self.assertEqual((n, b["memory"]), (19936, 129024))
        # With more file descriptors, the ports of one address.
        self.assertEqual(lgsize.chain_size(8322, 1 << 20, 27232, 2 << 30)[0], 27232)

    def test_unmeasured(self):
        n, b = lgsize.chain_size(None, 19936, 27232, 2 << 30)
        self.assertEqual(n, lgsize.LG_MAX_CLIENTS)
        self.assertNotIn("memory", b)
        self.assertEqual(lgsize.chain_size(None, 500, 27232, 2 << 30)[0], 1000)

    def test_plain_unchanged(self):
        self.assertEqual(lgsize.lg_max_clients(object(), "plain"), lgsize.LG_MAX_CLIENTS)


class SealTable(unittest.TestCase):
    def test_ratios(self):
        rows = [{"order": "bursts", "layer": "own", "ns": 242.0},
                {"order": "bursts", "layer": "openssl", "ns": 392.0},
                {"order": "interleaved", "layer": "own", "ns": 388.0},
                {"order": "interleaved", "layer": "openssl", "ns": 398.0}]
        md = lgseal.dtls_seal_markdown(rows)
        self.assertIn("| bursts | 242 | 392 | 0.62x |\n", md)
        self.assertIn("| interleaved | 388 | 398 | 0.97x |\n", md)
        self.assertEqual(lgseal.dtls_seal_markdown(None), "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
