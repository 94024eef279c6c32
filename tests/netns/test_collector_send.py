#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Datagram crafter for the collector's netns tests (not a test by itself).

  reasons HOST PORT   send every decoder reject reason (docs/PROTOCOL.md,
                      section 4) plus an oversize datagram; reason code k is
                      sent k times, oversize 13 times, so each count is
                      distinct. Then the oversize boundary: 20 datagrams of
                      exactly 1944 bytes (the largest a receive buffer holds:
                      decoded, payload_too_large) and 30 of 1945 (oversize).
                      Prints the expected drop table as JSON.
  stream HOST PORT FIRST_ID CLIENTS COUNT
                      per client: INIT, DATA 1..COUNT with a fixed pattern of
                      skipped (lost), doubled (duplicate) and swapped
                      (reordered) numbers, then BYE; prints the expected
                      totals {received, lost, duplicates, reordered} as JSON,
                      computed by replaying the send order.
  fill HOST PORT FIRST_ID CLIENTS
                      one INIT from each of CLIENTS ids (registry tests).

Every send is bounded by the given counts.
"""
import json
import socket
import struct
import sys
import time

MAGIC = 0x5854


def dgram(mtype, cid, seq, payload=b"", *, magic=MAGIC, version=1, flags=0,
          plen=None):
    if plen is None:
        plen = len(payload)
    return struct.pack(">HBBHHIQQ", magic, version, mtype, flags, plen, cid,
                       seq, time.time_ns()) + payload


def sock_for(host):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    return s


def reasons(host, port):
    cid = 999
    ok_hdr = dgram(3, cid, 1)
    cases = {
        "truncated": ok_hdr[:10],
        "bad_magic": dgram(3, cid, 1, magic=0x1234),
        "bad_version": dgram(3, cid, 1, version=2),
        "unknown_type": dgram(9, cid, 1),
        "bad_flags": dgram(3, cid, 1, flags=1),
        "payload_too_large": dgram(3, cid, 1, plen=1300),
        "length_mismatch": dgram(3, cid, 1, b"a=1", plen=5),
        "malformed_metric": dgram(3, cid, 1, b"a=1;"),
        "bad_key": dgram(3, cid, 1, b"=1"),
        "bad_value": dgram(3, cid, 1, b"a=x"),
        "too_many_metrics": dgram(3, cid, 1, b";".join(
            b"k%d=1" % i for i in range(33))),
        "duplicate_key": dgram(3, cid, 1, b"a=1;a=2"),
        "oversize": dgram(3, cid, 1, b"x" * 3000, plen=1200),
    }
    s = sock_for(host)
    expect = {}
    for i, (name, data) in enumerate(cases.items(), start=1):
        for _ in range(i):
            s.sendto(data, (host, port))
            time.sleep(0.0005)
        expect[name] = i
    for size, count, name in ((1944, 20, "payload_too_large"),
                              (1945, 30, "oversize")):
        data = dgram(3, cid, 1, b"x" * (size - 28), plen=1300)
        assert len(data) == size
        for _ in range(count):
            s.sendto(data, (host, port))
            time.sleep(0.0005)
        expect[name] += count
    print(json.dumps(expect))


def stream(host, port, first_id, clients, count):
    s = sock_for(host)
    exp = {"received": 0, "lost": 0, "duplicates": 0, "reordered": 0}
    for cid in range(first_id, first_id + clients):
        order = [0]
        seq = 1
        while seq <= count:
            if seq % 50 == 0:                      # lost
                seq += 1
                continue
            if seq % 41 == 0 and seq + 1 <= count and (seq + 1) % 50:
                order += [seq + 1, seq]            # swapped: seq reordered
                seq += 2
                continue
            order.append(seq)
            if seq % 37 == 0:                      # doubled
                order.append(seq)
            seq += 1
        seen, highest = set(), -1
        for n in order:
            mtype = 1 if n == 0 else 3
            payload = b"" if n == 0 else b"cpu=%d;temp=%d.5" % (n % 100, cid)
            s.sendto(dgram(mtype, cid, n, payload), (host, port))
            exp["received"] += 1
            if n in seen:
                exp["duplicates"] += 1
            elif n < highest:
                exp["reordered"] += 1
            seen.add(n)
            highest = max(highest, n)
            if len(seen) % 256 == 0:
                time.sleep(0.001)       # stay far below the socket buffer
        s.sendto(dgram(4, cid, count), (host, port))
        exp["received"] += 1
        exp["lost"] += (count + 1) - len(seen)
    print(json.dumps(exp))


def fill(host, port, first_id, clients):
    s = sock_for(host)
    for cid in range(first_id, first_id + clients):
        s.sendto(dgram(1, cid, 0), (host, port))
        time.sleep(0.0002)


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, host, port = argv[1], argv[2], int(argv[3])
    if cmd == "reasons":
        reasons(host, port)
    elif cmd == "stream":
        stream(host, port, int(argv[4]), int(argv[5]), int(argv[6]))
    elif cmd == "fill":
        fill(host, port, int(argv[4]), int(argv[5]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
