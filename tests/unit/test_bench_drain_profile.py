#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""unit: bench/drain_profile.py's reading of `perf script` lines (only the
receive threads' samples, by DSO and symbol, in ns per datagram) and its
comparison of two profiles (largest growth first).

usage: test_bench_drain_profile.py [SOURCE_ROOT]   (no privileges needed)
"""
import importlib.util
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(HERE, "..", "..")
spec = importlib.util.spec_from_file_location(
    "drain_profile", os.path.join(SRC, "bench", "drain_profile.py"))
dp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dp)

LINES = """\
       collector  ffffffff81e7b0fa do_sock_getsockopt ([kernel.kallsyms])
        xtel-rx0  ffffffff81e7b0fa _copy_to_iter ([kernel.kallsyms])
        xtel-rx0  ffffffff81e7b0fa _copy_to_iter ([kernel.kallsyms])
        xtel-rx1      7f370998c0ba __memset_avx512_unaligned_erms (/usr/lib/x86_64-linux-gnu/libc.so.6)
        xtel-rx0      7f3709c11350 [unknown] (/usr/lib/x86_64-linux-gnu/libcrypto.so.3)
        xtel-rx0      55d1 lookup (/work/main/build/userspace/collector/collector)
"""


class Profile(unittest.TestCase):
    def test_receive_threads_only_by_dso_and_symbol(self):
        d = dp.parse_script(LINES, 100.0)
        self.assertEqual(d, {("[kernel.kallsyms]", "_copy_to_iter"): 200.0,
                             ("libc.so.6", "__memset_avx512_unaligned_erms"): 100.0,
                             ("libcrypto.so.3", "[unknown]"): 100.0,
                             ("collector", "lookup"): 100.0})

    def test_compare_growth_first(self):
        a = dp.parse_script(LINES, 1.0)
        b = dp.parse_script(LINES + LINES.replace("_copy_to_iter", "malloc"), 1.0)
        out = dp.compare(a, b).splitlines()
        self.assertEqual(out[0], "receive threads, ns per datagram: 5 -> 10")
        self.assertEqual(out[1].split(), ["[kernel.kallsyms]", "2", "->", "4"])
        # After the four DSOs, the symbols: malloc grew most (0 -> 2), the
        # unchanged _copy_to_iter comes last.
        self.assertEqual(out[5].split(), ["malloc", "[kernel.kallsyms]", "0.0", "2.0", "+2.0"])
        self.assertEqual(out[-1].split()[0], "_copy_to_iter")
        self.assertEqual(len(out), 1 + 4 + 5)


if __name__ == "__main__":
    unittest.main()
