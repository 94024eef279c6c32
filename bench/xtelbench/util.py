# SPDX-License-Identifier: MIT
"""Small helpers every layer uses: progress and warning lines, dotted-path
lookup in the tools' JSON reports, the number formats of the tables, and
running a benchmark binary (under callgrind too)."""
import json
import re
import subprocess
import sys


def log(msg):
    print(msg, flush=True)


def warn(msg):
    print("suite: " + msg, file=sys.stderr, flush=True)


def first(d, *paths, default=None):
    """The value at the first dotted path present in nested dict d."""
    for p in paths:
        cur = d
        ok = True
        for part in p.split("."):
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                ok = False
                break
        if ok and cur is not None:
            return cur
    return default


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt_rate(r):
    if r is None:
        return "-"
    if r == 0:
        return "max"
    if r >= 1000 and r % 1000 == 0:
        return "%dk" % (r // 1000)
    return "%d" % r


def num(v, fmt="%.0f"):
    return "-" if v is None else fmt % v


def run_out(cmd, timeout=900):
    """Runs cmd to its end (an error if it fails); its CompletedProcess."""
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout)


def callgrind_ir(cmd, toggles, out_file):
    """The instructions callgrind collected running cmd with collection on
    in the functions toggles names only (None when it printed none)."""
    r = run_out(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_file] +
                ["--toggle-collect=" + f for f in toggles] + cmd)
    m = re.search(r"Collected : (\d+)", r.stderr)
    return int(m.group(1)) if m else None
