# SPDX-License-Identifier: MIT
"""Many clients (issue 16): CPU per datagram at 10, 10,000 and 100,000
plain clients, and memory per client, plain (with and without health
inference) and DTLS, in one run side by side.

Every row is a capacity row (capacity.py: pre-fill the frozen receiver,
drain with no sender), with the same receiver options at every client count
(--max-clients, and for DTLS --max-sessions, sized for the largest count),
so that the 10-client rows are the base of both ratios. The 10-client rows
run before and after the large ones (their median is the base, and the two
show how much the machine drifted meanwhile). More clients than one loadgen
holds run several processes one after the other, each from its own source
address (loadgen --source). After the drain a memory row waits for the
collector's next view (which holds every client), then reads VmRSS; VmHWM
is the peak of the whole row. Memory per client = (VmHWM at N - VmHWM at
10) / (N - 10): what one more client costs, the process's fixed part left
out. DTLS rows go to 100,000 clients at full level (config.LEVELS): the
certificates come from xtel-certgen (bench/run.sh), and more clients than
one loadgen holds handshake in a chain of processes, one after the other,
that all hold their sessions until the frozen receiver's fill
(capacity._Senders).
"""
import json
import os
import subprocess
import time

from .capacity import keep_failed, run_capacity_row
from .lgseal import dtls_seal, dtls_seal_markdown
from .lgsize import lg_max_clients
from .figures import median
from .util import log, num

KINDS = ("io_uring", "noh")


def scale_plan(env):
    """(kind, mode, n, clients, extra receiver options) per row."""
    c = env.cfg.get("capacity") or {}
    s = c.get("scale")
    if not s:
        return []
    big = s["clients"]
    # XTEL_BENCH_SCALE_CLIENTS=100000[,...]: only the plain rows, at these
    # counts, with the C baseline beside (an old build against a new one,
    # XTEL_COLLECTOR, at a size the level does not run; docs/CAPACITY.md
    # "The view build at 100,000 clients")
    only = os.environ.get("XTEL_BENCH_SCALE_CLIENTS")
    if only:
        big = [int(x) for x in only.split(",") if x]
        s = dict(s, baselines=("c",), dtls_clients=None)
    plain_extra = ["--max-clients", s["max_clients"]]
    fill = lambda clients: max(c["n"], clients * s["per_client"])
    modes = getattr(env, "scale_modes", ("plain", "dtls"))
    todo = []
    for clients in ([10] + big + [10]) if "plain" in modes else []:
        for kind in KINDS:
            todo.append((kind, "plain", fill(clients), clients, plain_extra))
        for kind in s.get("baselines", ()):
            todo.append((kind, "plain", fill(clients), clients, []))
    d = s.get("dtls_clients")
    # XTEL_SCALE_DTLS_CLIENTS (e.g. "100000"): only those DTLS counts.
    only = [int(x) for x in os.environ.get("XTEL_SCALE_DTLS_CLIENTS", "").split(",") if x]
    d = only or d
    ds = sorted(d if isinstance(d, (list, tuple)) else [d]) if d and "dtls" in modes else []
    if ds:
        # Every DTLS row gets the session table of the largest count
        # (commands.receiver_cmd would size it per row); more clients than
        # one loadgen holds run a chain of processes whose first sessions
        # wait idle while the later ones handshake: --dtls-idle outlasts
        # that (the default 60 s would close them).
        top = ds[-1]
        ms = ["--max-sessions", int(top * 1.25) // env.workers + 1] if top > 3000 else []
        if top > lg_max_clients(env, "dtls"):
            # And the registry of the plain rows: its default (65,536
            # clients) dropped 34% of a 100,000-client fill as registry_full.
            ms += ["--dtls-idle", 3600] + plain_extra
        # XTEL_SCALE_KINDS (e.g. "noh"): only those receivers' DTLS rows.
        kinds = [k for k in os.environ.get("XTEL_SCALE_KINDS", "").split(",") if k] or KINDS
        for kind in kinds:
            todo.append((kind, "dtls", c["n"], 10, ms))
            for n in ds:
                todo.append((kind, "dtls", fill(n), n, ms))
    return todo


def with_orders(env, todo):
    """(row, order) per row: every row (plain, DTLS, the C baseline) in each
    of env.scale_orders; with env.scale_fleet_rows (--publish) the
    --no-health DTLS rows at 10 and at the largest count once more,
    interleaved."""
    orders = getattr(env, "scale_orders", ("bursts",))
    out = [(t, o) for t in todo for o in orders]
    dtls = [t[3] for t in todo if t[1] == "dtls"]
    if getattr(env, "scale_fleet_rows", False) and dtls and "interleaved" not in orders:
        fleet = [(t, "interleaved") for t in todo
                 if t[:2] == ("noh", "dtls") and t[3] in (10, max(dtls))]
        out += fleet
    return out


def run_scale(env, seq0=800):
    todo = scale_plan(env)
    if not todo:
        return []
    log("== many clients: CPU per datagram and memory per client (%s clients)" %
        ", ".join("{:,}".format(x) for x in sorted({t[3] for t in todo})))
    dtls_ok = env.have_dtls()
    rows, t0 = [], time.monotonic()
    # DTLS rows in each order --many-clients-order asks for (bursts: each
    # client's records back to back; interleaved: every record from another
    # client, as a fleet sends), alternated per row.
    todo = with_orders(env, todo)
    for i, ((kind, mode, n, clients, extra), order) in enumerate(todo, 1):
        if mode == "dtls" and not dtls_ok:
            continue
        mem = kind not in ("c", "min")
        row = run_capacity_row(env, seq0 + i, kind, mode, n, clients, section="scale",
                               extra=extra, mem=mem, order=order)
        if row.get("status") != "ok":
            log("    many-clients row %d failed (%s), running it again" % (i, row.get("note")))
            keep_failed(env, row)
            row = run_capacity_row(env, seq0 + i, kind, mode, n, clients, section="scale",
                                   extra=extra, mem=mem, order=order)
        rows.append(row)
        head = "[%2d/%d %5.0fs] scale %-32s %-5s clients=%-6d fill=%-7d%s" % (
            i, len(todo), time.monotonic() - t0, row["path"], mode, clients, row.get("fill", 0),
            " interleaved" if order == "interleaved" else "")
        if row.get("status") != "ok":
            log(head + " %s: %s" % (row.get("status"), row.get("note", "")))
            continue
        log(head + " drained=%d loss=%d cpu=%s ns/dgram rss=%s hwm=%s kB" % (
            row.get("drained", 0), row.get("lost", 0), num(row.get("cpu_ns_per_dgram")),
            row.get("vmrss_kb", "-"), row.get("vmhwm_kb", "-")))
    plain = [r for r in rows if r.get("mode") == "plain" and r.get("status") == "ok"]
    if plain:
        plain[0]["plain_fleet"] = plain_fleet(env, max(r["clients"] for r in plain))
    dtls = [r for r in rows if r.get("mode") == "dtls"]
    if dtls:
        dtls[0]["dtls_mem"] = dtls_memory(env, max(r["clients"] for r in dtls))
        dtls[0]["dtls_fleet"] = dtls_fleet(env, max(r["clients"] for r in dtls))
        dtls[0]["dtls_seal"] = dtls_seal(env)
    return rows


def _in_memory(env, name, args, top):
    """bench/<name> (in memory) at 10 and top clients, in both orders,
    800,000 datagrams or records a row; its JSON lines, None on failure."""
    exe = os.path.join(env.build, "bench", name)
    if not os.path.exists(exe) or top < 1000:
        return None
    log("== %s in memory (10 and {:,} clients)".format(top) % name)
    out = []
    for n in (10, top):
        for order in ("bursts", "interleaved"):
            try:
                p = subprocess.run([exe] + args(n) + ["--order", order],
                                   capture_output=True, text=True, timeout=600, check=True)
                out.append(json.loads(p.stdout))
            except (OSError, subprocess.SubprocessError, ValueError) as e:
                log("  %s failed: %s" % (name, e))
                return None
    return out


def dtls_fleet(env, top):
    """bench_dtls_fleet (in memory, ~40 s at 100,000): CPU ns per record of
    10 and top resumed sessions, 800,000 records each, their records in
    bursts and interleaved (docs/CAPACITY.md "DTLS at 100,000 sessions")."""
    if not env.certs:
        return None
    return _in_memory(env, "bench_dtls_fleet",
                      lambda n: [env.certs, "--clients", str(n), "--records",
                                 str(800000 // n + 1)], top)


def plain_fleet(env, top):
    """bench_plain_fleet (in memory, a few seconds): CPU ns per plain
    datagram decoded and accounted, 10 and top clients, 800,000 datagrams
    each, bursts and interleaved (docs/CAPACITY.md "The accounting record
    in fleet order")."""
    return _in_memory(env, "bench_plain_fleet",
                      lambda n: ["--clients", str(n), "--datagrams",
                                 str(800000 // n + 1)], top)


def _fleet_markdown(f, intro, unit, key, extra=None):
    base = {r["order"]: r[key] for r in f if r["clients"] == 10}
    out = [intro + "\n\n| %s | Order | CPU ns/%s | vs 10 |%s\n|---:|---|---:|---:|%s\n" % (
        "Sessions" if unit == "record" else "Clients", unit,
        " %s |" % extra[0] if extra else "", "---:|" if extra else "")]
    for r in f:
        b = base.get(r["order"])
        out.append("| {:,} | %s | {:,.0f} | %s |%s\n".format(r["clients"], r[key]) % (
            r["order"], "%.2fx" % (r[key] / b) if b and r["clients"] > 10 else "1",
            " {:,} |".format(r[extra[1]]) if extra else ""))
    out.append("\n")
    return "".join(out)


def dtls_fleet_markdown(f):
    if not f:
        return ""
    return _fleet_markdown(
        f, "DTLS records in memory (bench/bench_dtls_fleet: resumed sessions, each "
        "record through the server and a registry; bursts: a session's records back "
        "to back, interleaved: every record from another session, as a fleet sends):",
        "record", "cpu_ns_per_record", ("AEAD re-keys", "aead_ctx_rekeys"))


def plain_fleet_markdown(f):
    if not f:
        return ""
    return _fleet_markdown(
        f, "Plain datagrams in memory (bench/bench_plain_fleet: each datagram decoded "
        "and accounted in a registry, as ingest does; bursts: a client's datagrams back "
        "to back, interleaved: every datagram from another client, as a fleet sends):",
        "dgram", "cpu_ns_per_datagram")


def dtls_memory(env, certs_for):
    """bench_dtls_memory (in memory, deterministic): a DTLS session's heap
    by component, on both ends, and a half-open handshake's. It needs
    2 N + 64 client certificates; the rows made certs_for of them."""
    exe = os.path.join(env.build, "bench", "bench_dtls_memory")
    n = min(2000, (certs_for - 64) // 2)
    if not os.path.exists(exe) or n < 100:
        return None
    log("== DTLS memory by component (bench_dtls_memory, %d sessions)" % n)
    try:
        out = subprocess.run([exe, env.certs, "--clients", str(n), "--json"],
                             capture_output=True, text=True, timeout=300, check=True)
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        log("  bench_dtls_memory failed: %s" % e)
        return None


def dtls_memory_markdown(m):
    if not m:
        return ""
    rows = [("server: one established session", m["server_session_b"]),
            ("- its entry (struct session)", m["session_entry_b"]),
            ("- the built-in record layer's keys (struct own_rl; 0: inside the entry)",
             m["own_rl_b"]),
            ("- its share of OpenSSL's AEAD decrypt contexts (%s)"
             % ("%d per worker" % m["aead_slots"] if "aead_slots" in m
                else "one per session"), m["aead_ctx_b"]),
            ("- the rest", m["rest_b"]),
            ("server: the same until the client's first record (final flight kept)",
             m["server_session_flight_b"]),
            ("server: one half-open handshake (bounded by --max-half-open)", m["half_open_b"]),
            ("- what the server charges for it (half_open_bytes)", m["half_open_estimate_b"]),
            ("loadgen: one client session, idle after its handshake", m["client_idle_b"]),
            ("loadgen: the same after a record (ring and buffers back)", m["client_session_b"]),
            ("loadgen: one client's identity (certificate and key)", m["client_identity_b"])]
    out = ["DTLS memory by component (bench/bench_dtls_memory, in memory, %s sessions, "
           "verify cache %s entries; heap per session from mallinfo2, malloc headers "
           "included):\n\n| Part | Bytes |\n|---|---:|\n" % (
               "{:,}".format(m["clients"]), "{:,}".format(m["verify_cache"]))]
    out += ["| %s | {:,.0f} |\n".format(v) % k for k, v in rows]
    out.append("\n")
    return "".join(out)


def scale_groups(rows):
    """Per (receiver, mode, clients): median CPU per datagram, its ratio to
    the same receiver's 10-client rows, memory and memory per client."""
    sel = [r for r in rows if r.get("section") == "scale"]
    key = lambda r: (r["receiver"], r["mode"], r.get("order", "bursts"), r["clients"])
    keys = sorted({key(r) for r in sel},
                  key=lambda k: (k[1] != "plain", k[0] not in KINDS, k[0], k[2], k[3]))
    out = []
    for kind, mode, order, clients in keys:
        rs = [r for r in sel if key(r) == (kind, mode, order, clients)]
        ok = [r for r in rs if r.get("status") == "ok" and r.get("cpu_ns_per_dgram")]
        path = rs[0]["path"] + (", interleaved" if order == "interleaved" else "")
        g = {"receiver": kind, "mode": mode, "order": order, "clients": clients, "path": path,
             "rows": rs, "ok": ok,
             "ns": median([r["cpu_ns_per_dgram"] for r in ok]),
             "ns_all": [r["cpu_ns_per_dgram"] for r in ok],
             "rx_ns": median([r["rx_cpu_ns_per_dgram"] for r in ok
                              if r.get("rx_cpu_ns_per_dgram")]),
             "hwm_kb": median([r["vmhwm_kb"] for r in ok if r.get("vmhwm_kb")]),
             "rss_kb": median([r["vmrss_kb"] for r in ok if r.get("vmrss_kb")]),
             "fill": max((r.get("fill", 0) for r in rs), default=0),
             "sent": sum(r.get("sent", 0) for r in ok),
             "lost": sum(r.get("lost", 0) for r in ok)}
        out.append(g)
    for g in out:
        base = next((x for x in out if (x["receiver"], x["mode"], x["order"], x["clients"]) ==
                     (g["receiver"], g["mode"], g["order"], 10)), None)
        g["vs_10"] = g["ns"] / base["ns"] if base and base["ns"] and g["ns"] else None
        g["rx_vs_10"] = g["rx_ns"] / base["rx_ns"] if base and base["rx_ns"] and g["rx_ns"] \
            else None
        g["per_client_b"] = None
        if base and g["clients"] > 10 and g["hwm_kb"] and base["hwm_kb"]:
            g["per_client_b"] = (g["hwm_kb"] - base["hwm_kb"]) * 1024.0 / (g["clients"] - 10)
    return out


TARGETS = {"plain": (1.2, 2048), "dtls": (None, 4096)}


def scale_markdown(rows):
    groups = scale_groups(rows)
    if not groups:
        return ""
    out = ["## Many clients: CPU per datagram and memory per client\n\n",
           "Capacity rows (pre-filled, drained with no sender, as above) at 10 to %s clients, "
           "every client count with the same receiver options (`--max-clients`, for DTLS "
           "`--max-sessions`, sized for the largest). The 10-client rows run before and after "
           "the large ones (median of both). More clients than one loadgen holds: several "
           "processes one after the other, each from its own source address (`loadgen "
           "--source`). *vs 10* = CPU per datagram over the same receiver's at 10 clients "
           "(issue 16: <= 1.2 at 100,000); *receive threads* = the same for the collector's "
           "xtel-rx threads alone, without the main thread's per-interval view and health "
           "work. *Per client* = (VmHWM at N - VmHWM at 10) / "
           "(N - 10) (issue 16: <= 2 KiB plain, <= 4 KiB DTLS); VmRSS is read after the "
           "drain once the collector's next view holds every client. DTLS clients beyond "
           "what one loadgen holds handshake in a chain of processes, one after the "
           "other, that all keep their sessions until the fill (docs/CAPACITY.md, "
           "\"DTLS at 100,000 clients\").\n\n" %
           "{:,}".format(max(g["clients"] for g in groups)),
           "| Receiver | Mode | Clients | DATA per fill | Lost of sent (warm-up included) "
           "| CPU ns/dgram (rounds) "
           "| vs 10 | Receive threads ns/dgram (vs 10) | VmRSS MB | VmHWM MB | Per client |\n"
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"]
    for g in groups:
        if not g["ok"]:
            r = g["rows"][-1]
            out.append("| %s | %s | {:,} | {:,} | %s: %s | | | | | | |\n".format(
                g["clients"], g["fill"]) % (g["path"], g["mode"], r.get("status"),
                                             r.get("note", "")))
            continue
        out.append("| %s | %s | {:,} | {:,} | {:,} of {:,} | %.0f (%s) | %s | %s | %s | %s "
                   "| %s |\n".format(
            g["clients"], g["fill"], g["lost"], g["sent"]) % (
            g["path"], g["mode"], g["ns"],
            ", ".join("%.0f" % x for x in g["ns_all"]),
            num(g["vs_10"], "%.2fx") if g["clients"] > 10 else "1",
            "-" if not g["rx_ns"] else "%.0f (%s)" % (
                g["rx_ns"], num(g["rx_vs_10"], "%.2fx") if g["clients"] > 10 else "1"),
            num(g["rss_kb"] / 1024.0 if g["rss_kb"] else None, "%.1f"),
            num(g["hwm_kb"] / 1024.0 if g["hwm_kb"] else None, "%.1f"),
            num(g["per_client_b"] / 1024.0 if g["per_client_b"] else None, "%.2f KiB")))
    out.append("\n")
    out.append(dtls_memory_markdown(next((r["dtls_mem"] for r in rows
                                          if r.get("dtls_mem")), None)))
    out.append(dtls_fleet_markdown(next((r["dtls_fleet"] for r in rows
                                         if r.get("dtls_fleet")), None)))
    out.append(dtls_seal_markdown(next((r["dtls_seal"] for r in rows
                                        if r.get("dtls_seal")), None)))
    out.append(plain_fleet_markdown(next((r["plain_fleet"] for r in rows
                                          if r.get("plain_fleet")), None)))
    return "".join(out)
