# SPDX-License-Identifier: MIT
"""The PNG plots (gnuplot): loss % and receiver CPU per datagram against
the offered rate, one line per receiver and mode. Each plot's data and
script stay beside it in OUT/img."""
import os
import shutil
import subprocess

from .capreport import capacity_groups
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
    made = []
    for name, col, ylabel, title in () if not series else (
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
    for name, title, fn in (
            ("capacity_cpu.png", "Receiver CPU per datagram at capacity (drain, no sender)",
             _capacity_plot),
            ("latency_vs_rate.png", "One-way latency p50 / p99 against load",
             _latency_plot)):
        script = fn(pdir, name, title, rows)
        if not script:
            continue
        r = subprocess.run([gp, script], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            warn("gnuplot failed for %s: %s" % (name, r.stderr.strip()))
            continue
        made.append((name, title))
    return made


def _head(f, pdir, name, title):
    f.write("set terminal pngcairo size 960,600 noenhanced font 'sans,10'\n")
    f.write("set output '%s'\nset title '%s'\nset grid\n" % (os.path.join(pdir, name), title))


def _capacity_plot(pdir, name, title, rows):
    """CPU ns per datagram at capacity per path: one bar each (median of
    the rounds), labelled with datagrams/s per core."""
    groups = [g for g in capacity_groups(rows) if g["ns"]]
    if not groups:
        return None
    dat = os.path.join(pdir, "capacity.dat")
    with open(dat, "w") as f:
        for i, g in enumerate(groups):
            f.write('%d "%s %s%s" %g %g %g %.0f\n' % (
                i, RECEIVER_LABEL[g["receiver"]].replace("collector ", ""), g["mode"],
                ("" if g["clients"] == 10 else " %dk cl." % (g["clients"] // 1000)) +
                ("" if g["workers"] == 1 else " %dw" % g["workers"]),
                g["ns"], g["ns_min"], g["ns_max"], g["per_core"] / 1e3))
    script = os.path.join(pdir, name + ".gp")
    with open(script, "w") as f:
        _head(f, pdir, name, title)
        f.write("set ylabel 'CPU per datagram (ns)'\nset yrange [0:*]\nset style fill solid 0.5\n"
                "set boxwidth 0.6\nset xtics rotate by -30\nunset key\n")
        f.write("plot '%s' using 1:3:xtic(2) with boxes, '' using 1:3:4:5 with yerrorbars lc "
                "rgb 'black', '' using 1:3:(sprintf('%%.0fk/s', $6)) with labels offset 0,1\n"
                % dat)
    return script


def _latency_plot(pdir, name, title, rows):
    """p50 (dashed) and p99 (solid) one-way latency of the seed and
    rising-rate rows, against the rate achieved (a sender that fell short
    of the offered rate is plotted where it was)."""
    series = []
    for kind, mode in PLOT_LINES:
        pts = sorted((r["achieved_pps"], r["latency_us"].get("p50"),
                      r["latency_us"].get("p99"))
                     for r in rows if r.get("status") == "ok"
                     and r["section"] in ("rate", "seeds") and r["clients"] in (1, 5, 10)
                     and r["receiver"] == kind and r["mode"] == mode
                     and isinstance(r.get("latency_us"), dict)
                     and r["latency_us"].get("p99") is not None
                     and r.get("latency_basis") != "userspace_read")
        if not pts:
            continue
        dat = os.path.join(pdir, "latency-%s-%s.dat" % (kind, mode))
        with open(dat, "w") as f:
            for x, p50, p99 in pts:
                f.write("%g %g %g\n" % (x, p50 or 0, p99))
        series.append((dat, RECEIVER_LABEL[kind] + ("" if kind in ("c", "min", "py") else " " + mode)))
    if not series:
        return None
    script = os.path.join(pdir, name + ".gp")
    with open(script, "w") as f:
        _head(f, pdir, name, title)
        f.write("set xlabel 'achieved rate (datagrams/s)'\nset ylabel 'latency (us)'\n"
                "set logscale xy\nset key outside right top box\n")
        f.write("plot " + ", \\\n     ".join(
            "'%s' using 1:3 with linespoints lw 2 lc %d title '%s p99', "
            "'%s' using 1:2 with lines dt 2 lc %d title '%s p50'" % (d, i + 1, l, d, i + 1, l)
            for i, (d, l) in enumerate(series)) + "\n")
    return script


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
        label = RECEIVER_LABEL[kind] + ("" if kind in ("c", "min", "py") else " " + mode)
        series.append((dat, label))
    return series
