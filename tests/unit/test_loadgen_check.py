#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Compares what a capture socket received (test_loadgen_capture_tool output,
# WORK/NAME.cap) with loadgen's JSON report (WORK/NAME.json), exactly: per
# client and per type the arrivals equal "sent", INIT 0 comes first and BYE
# with last_seq last, HEARTBEAT and DATA share 1..last_seq, and the capture's
# missing seqs / extra copies / late arrivals equal injected_loss /
# injected_dup / injected_reorder. Shared by the unit (loopback) and netns
# (veth) loadgen tests.
#
# usage: test_loadgen_check.py WORK NAME [--same-as OTHER] [json.path=value ...]
#   --same-as OTHER: NAME and OTHER (same seed) have the same faults at the
#                    same seqs
#   json.path=value: str() of that report field must equal value
# Exits 0 when everything matches, 1 after printing the differences.
import json, sys
from collections import defaultdict

work, name = sys.argv[1], sys.argv[2]
other = sys.argv[4] if len(sys.argv) > 3 and sys.argv[3] == "--same-as" else None
rep = json.load(open(f"{work}/{name}.json"))
errors = []
def expect(what, got, want):
    if got != want:
        errors.append(f"{what}: got {got}, expected {want}")

drops = None
by_port = defaultdict(list)
for line in open(f"{work}/{name}.cap"):
    if line.startswith("# drops"):
        drops = int(line.split()[2])
        continue
    if line.startswith("#"):
        continue
    addr, port, verdict, typ, cid, seq, ln = line.split()
    expect("wire verdict", verdict, "ok")
    by_port[int(port)].append((int(typ), int(cid), int(seq)))
expect("receive queue drops", drops, 0)

INIT, HB, DATA, BYE = 1, 2, 3, 4
tot = defaultdict(int)
clients = rep["clients"]
expect("clients in report", len(clients), rep["clients_configured"])
expect("distinct source ports", len(by_port), len(clients))
for c in clients:
    cid = c["client_id"]
    arr = by_port.get(c["src_port"], [])
    expect(f"client {cid}: ids on its port", {a[1] for a in arr}, {cid})
    types = [a[0] for a in arr]
    for t, key in ((INIT, "sent_init"), (HB, "sent_heartbeat"),
                   (DATA, "sent_data"), (BYE, "sent_bye")):
        expect(f"client {cid}: {key}", types.count(t), c[key])
        tot[key] += types.count(t)
    expect(f"client {cid}: sent", len(arr), c["sent"])
    expect(f"client {cid}: sent = sum of types", c["sent"],
           c["sent_init"] + c["sent_heartbeat"] + c["sent_data"] + c["sent_bye"])
    tot["sent"] += len(arr)
    # INIT first with seq 0, BYE last with the last seq taken.
    expect(f"client {cid}: first", arr[0][0:3:2] if arr else None, (INIT, 0))
    expect(f"client {cid}: last", arr[-1][0:3:2] if arr else None, (BYE, c["last_seq"]))
    expect(f"client {cid}: one INIT/BYE", (types.count(INIT), types.count(BYE)), (1, 1))
    hb = [a[2] for a in arr if a[0] == HB]
    data = [a[2] for a in arr if a[0] == DATA]
    # HEARTBEAT and DATA share the numbering 1..last_seq; each heartbeat
    # arrives once, so the DATA seqs are the rest of the range.
    expect(f"client {cid}: heartbeat seqs unique", len(set(hb)), len(hb))
    data_range = set(range(1, c["last_seq"] + 1)) - set(hb)
    expect(f"client {cid}: data seqs consumed", len(data_range), c["data_seqs"])
    seen, late, maxs, dups = set(), 0, 0, 0
    for s in data:
        if s in seen:
            dups += 1
        elif s < maxs:
            late += 1
        seen.add(s)
        maxs = max(maxs, s)
    expect(f"client {cid}: no seq outside 1..last", seen - data_range, set())
    expect(f"client {cid}: missing seqs = injected_loss", len(data_range - seen), c["injected_loss"])
    expect(f"client {cid}: extra copies = injected_dup", dups, c["injected_dup"])
    expect(f"client {cid}: late arrivals = injected_reorder", late, c["injected_reorder"])
    expect(f"client {cid}: held = reorder + in order", c["reorder_held"],
           c["injected_reorder"] + c["reorder_in_order"])
    expect(f"client {cid}: send_errors", c["send_errors"], 0)
    for k in ("injected_loss", "injected_dup", "injected_reorder", "data_seqs"):
        tot[k] += c[k]
for k, v in tot.items():
    expect(f"totals.{k}", rep["totals"][k], v)
expect("exit_code", rep["exit_code"], 0)

if other:
    # Same seed, same flags: the same faults at the same seqs.
    o = json.load(open(f"{work}/{other}.json"))
    for a, b in zip(rep["clients"], o["clients"]):
        for k in ("injected_loss", "injected_dup", "injected_reorder", "reorder_held"):
            expect(f"determinism client {a['client_id']} {k}", a[k], b[k])
    def lost(n):
        r = json.load(open(f"{work}/{n}.json"))
        out = {}
        for c in r["clients"]:
            seqs = set()
            for line in open(f"{work}/{n}.cap"):
                p = line.split()
                if len(p) == 7 and int(p[1]) == c["src_port"] and p[3] == "3":
                    seqs.add(int(p[5]))
            out[c["client_id"]] = set(range(1, c["last_seq"] + 1)) - seqs
        return out
    expect("determinism: lost seqs", lost(name), lost(other))

want = dict(arg.split("=", 1) for arg in sys.argv[3:] if "=" in arg and not arg.startswith("--"))
for k, v in want.items():
    node = rep
    for part in k.split("."):
        node = node[part]
    expect(k, str(node), v)

for e in errors[:20]:
    print("   ", e)
if len(errors) > 20:
    print(f"    ... and {len(errors) - 20} more")
sys.exit(1 if errors else 0)
