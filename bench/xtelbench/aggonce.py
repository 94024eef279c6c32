# SPDX-License-Identifier: MIT
"""The aggregator's exactly-once memory (docs/SCALE-OUT.md, "However late a
copy comes"): bench/bench_agg_once marks and commits the messages of E edges
(one batch per view of every edge) into a real SQLite checkpoint, the edge
runs' ranges (what the aggregator does) side by side with the per-id table
pruned after a window (the way before), alternated in one run. Reports per
way the CPU and wall ns per message, the rows and in-memory entries at the
end and the file's bytes; under callgrind (when installed) the instructions
per message of mark, seen, commit and prune, repeatable. No root, no
testbed: `bench/run.sh --no-micro --no-e2e --agg-once` runs only it (~30 s).
"""
import json
import os
import shutil
import tempfile

from .util import callgrind_ir, log, run_out

VIEWS = {"smoke": 60, "quick": 360, "full": 360}
TOGGLES = ["xtel_agg_store_" + f for f in ("mark", "seen", "commit", "prune")]


def _ir(exe, way, views, tmp):
    return callgrind_ir([exe, "--rounds", "1", "--views", str(views), "--only", way],
                        TOGGLES, os.path.join(tmp, "cg." + way))


def run_agg_once(env):
    exe = os.path.join(env.build, "bench", "bench_agg_once")
    if not os.access(exe, os.X_OK):
        log("  agg-once: %s missing, skipped" % exe)
        return {"error": "bench_agg_once not built"}
    views = VIEWS.get(env.level, VIEWS["quick"])
    out = run_out([exe, "--views", str(views), "--rounds", "3"]).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    if shutil.which("valgrind"):
        with tempfile.TemporaryDirectory() as tmp:
            for r in rows:
                ir = _ir(exe, r["way"], min(views, 120), tmp)
                if ir:
                    r["ir_per_msg"] = ir / (r["messages"] * min(views, 120) / views)
    for r in rows:
        log("  agg-once %s: %s Ir, %.0f ns CPU, %.0f ns wall per message, %d rows" % (
            r["way"], "%.0f" % r["ir_per_msg"] if "ir_per_msg" in r else "-",
            r["ns_per_msg"], r["wall_ns_per_msg"], r["rows"]))
    return {"rows": rows}


def agg_once_markdown(res):
    if "error" in res:
        return "\n## Aggregator: exactly-once memory\n\nNot run: %s\n" % res["error"]
    md = ["", "## Aggregator: exactly-once memory", "",
          "bench/bench_agg_once: E edges, V views of P parts, one batch (mark + commit, "
          "synchronous=FULL) per view of every edge, a real SQLite checkpoint. `ranges`: the "
          "edge runs' interval sets (the aggregator); `ids`: the per-id table pruned after a "
          "window of W views (the way before, not exactly once). Instructions by callgrind "
          "(mark, seen, commit, prune).", "",
          "| way | edges x views x parts | window | Ir per message | CPU ns per message "
          "| wall ns per message | rows at the end | file bytes |",
          "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        ir = r.get("ir_per_msg")
        md.append("| %s | %d x %d x %d | %s | %s | %.0f | %.0f | %d | %d |" % (
            r["way"], r["edges"], r["views"], r["parts"],
            r["window"] if r["way"] == "ids" else "-", "%.0f" % ir if ir else "-",
            r["ns_per_msg"], r["wall_ns_per_msg"], r["rows"], r["file_bytes"]))
    return "\n".join(md) + "\n"
