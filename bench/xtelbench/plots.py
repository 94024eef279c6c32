# SPDX-License-Identifier: MIT
"""The PNG plots (gnuplot): loss % and receiver CPU per datagram against
the offered rate, one line per receiver and mode. Each plot's data and
script stay beside it in OUT/img."""
import os
import shutil
import subprocess

from .config import RECEIVER_LABEL
from .figures import PLOT_LINES
from .util import warn


def plots(env, rows):
    """loss % and CPU ns/datagram against offered rate, one line per path."""
    gp = shutil.which("gnuplot")
    if not gp:
        warn("gnuplot not found: no plots (scripts/deps.sh installs gnuplot-nox)")
        return []
    pdir = os.path.join(env.out, "img")
    os.makedirs(pdir, exist_ok=True)
    series = _write_series(pdir, rows)
    if not series:
        return []
    made = []
    for name, col, ylabel, title in (
            ("loss_vs_rate.png", 2, "loss (%)", "Loss against offered rate"),
            ("cpu_ns_vs_rate.png", 3, "receiver CPU per datagram (ns)",
             "Receiver CPU per datagram against offered rate")):
        script = os.path.join(pdir, name + ".gp")
        with open(script, "w") as f:
            f.write("set terminal pngcairo size 960,600 noenhanced font 'sans,10'\n")
            f.write("set output '%s'\n" % os.path.join(pdir, name))
            f.write("set title '%s'\nset xlabel 'offered rate (datagrams/s)'\n" % title)
            f.write("set ylabel '%s'\nset logscale x\nset grid\n" % ylabel)
            # Loss rises to the right, CPU per datagram falls: each key goes
            # in the corner its curves leave empty.
            f.write("set key inside %s top opaque box\n" % ("left" if col == 2 else "right"))
            if col == 3:
                f.write("set logscale y\n")
            else:
                f.write("set yrange [0:*]\n")
            f.write("plot " + ", \\\n     ".join(
                "'%s' using 1:%d with linespoints lw 2 title '%s'" % (d, col, l)
                for d, l in series) + "\n")
        r = subprocess.run([gp, script], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            warn("gnuplot failed for %s: %s" % (name, r.stderr.strip()))
            continue
        made.append((name, title))
    return made


def _write_series(pdir, rows):
    """One data file per line (offered rate, loss %, CPU ns/dgram) from the
    rate and seed rows with 1, 5 or 10 clients; returns (file, label)s."""
    series = []
    for kind, mode in PLOT_LINES:
        pts = []
        for r in rows:
            if (r.get("status") == "ok" and r["receiver"] == kind and r["mode"] == mode and
                    r["section"] in ("rate", "seeds") and r["clients"] in (1, 5, 10)):
                # 'max' rows are plotted at the rate the sender reached.
                x = r["offered_pps"] or r["achieved_pps"]
                pts.append((x, r["loss_pct"], r.get("cpu_ns_per_dgram") or 0))
        if not pts:
            continue
        pts.sort()
        dat = os.path.join(pdir, "%s-%s.dat" % (kind, mode))
        with open(dat, "w") as f:
            for x, loss, ns in pts:
                f.write("%g %g %g\n" % (x, loss, ns))
        label = RECEIVER_LABEL[kind] + ("" if kind in ("c", "py") else " " + mode)
        series.append((dat, label))
    return series
