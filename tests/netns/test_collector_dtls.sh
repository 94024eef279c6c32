#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: the collector in DTLS mode (the default) on the testbed.
#  1. Clients with valid certificates (IPv4 and IPv6, loss/dup/reorder
#     injected by the loadgen) deliver exactly what they sent: received,
#     lost, duplicates and reordered equal the loadgen's report, per client.
#  2. A client certificate from a rogue CA, an expired one, and no
#     certificate at all: each handshake is refused and counted once under
#     its reason (dtls_failed_unknown_ca, _expired, _no_cert); nothing of
#     theirs is accounted.
#  3. A client with client-1's certificate claiming client id 2 in its
#     headers: every record is dropped as client_id_mismatch, and neither
#     id appears among the clients.
#  4. Plain datagrams sent to the DTLS port are not accounted.
#
# usage: test_collector_dtls.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_collector_dtls.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"
port=7700

command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
certs=$work/certs
"$top/certs/gen.sh" "$certs" 4 >/dev/null 2>&1 || { echo "FAIL certs/gen.sh"; exit 1; }

# A certificate directory as the loadgen expects it (ca.crt to check the
# server, client-<id>.crt/.key), holding a chosen certificate for id $2.
fake_dir() { # dir id crt key
	mkdir -p "$1"
	cp "$certs/ca.crt" "$1/ca.crt"
	cp "$3" "$1/client-$2.crt"
	cp "$4" "$1/client-$2.key"
}
fake_dir "$work/rogue" 1 "$certs/bad/client-1-rogue.crt" "$certs/bad/client-1-rogue.key"
fake_dir "$work/expired" 1 "$certs/bad/client-1-expired.crt" "$certs/bad/client-1-expired.key"
fake_dir "$work/claim2" 2 "$certs/client-1.crt" "$certs/client-1.key"

testbed_up
start_collector dtls --no-xdp --workers 2 --quiet --cert "$certs/server.crt" \
	--key "$certs/server.key" --ca "$certs/ca.crt" \
	--summary-json "$work/dtls.json" --csv "$work/dtls.csv" || exit 1

# ---- 1. valid clients ----
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--clients 3 --count 5000 --rate 20000 --loss 0.02 --dup 0.01 \
	--reorder 0.02 --seed 5 --quiet --report-json "$work/lg4.json" \
	>"$work/lg4.out" 2>&1
check_eq "valid IPv4 clients: loadgen exit code" 0 "$?"
in_gen "$loadgen" --target "[$XTEL_COL_IP6]:$port" --mode dtls --certs "$certs" \
	--first-id 4 --clients 1 --count 3000 --rate 10000 --loss 0.03 \
	--dup 0.02 --reorder 0.03 --seed 9 --quiet --report-json "$work/lg6.json" \
	>"$work/lg6.out" 2>&1
check_eq "valid IPv6 client: loadgen exit code" 0 "$?"

# ---- 2. rejected certificates ----
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$work/rogue" \
	--clients 1 --count 100 --handshake-timeout 3 --quiet >"$work/rogue.out" 2>&1
check_eq "rogue-CA client: loadgen reports a failed handshake" 4 "$?"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$work/expired" \
	--clients 1 --count 100 --handshake-timeout 3 --quiet >"$work/expired.out" 2>&1
check_eq "expired client: loadgen reports a failed handshake" 4 "$?"
echo hello | in_gen timeout 5 openssl s_client -dtls1_2 -quiet \
	-connect "$XTEL_COL_IP4:$port" -CAfile "$certs/ca.crt" >"$work/nocert.out" 2>&1
check "client without certificate: refused (alert)" grep -q "alert handshake failure" "$work/nocert.out"

# ---- 3. another client's id ----
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$work/claim2" \
	--first-id 2 --clients 1 --count 200 --rate 2000 --quiet \
	--report-json "$work/claim.json" >"$work/claim.out" 2>&1
check_eq "client-1 cert claiming id 2: loadgen exit code" 0 "$?"

# ---- 4. plain datagrams on the DTLS port ----
in_gen python3 "$here/test_collector_send.py" stream "$XTEL_COL_IP4" $port 77 1 50 \
	>/dev/null

sleep 0.5
stop_collector TERM
check_eq "collector exit code" 0 "$col_rc"

python3 - "$work/dtls.json" "$work/lg4.json" "$work/lg6.json" "$work/claim.json" \
	>"$work/dtls.check" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
g4, g6, claim = (json.load(open(p)) for p in sys.argv[2:5])
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
def expect(r):
    return {"received": r["sent"], "lost": r["injected_loss"],
            "duplicates": r["injected_dup"],
            "reordered": r["reorder_held"] - r["reorder_in_order"]}
e4, e6 = expect(g4["totals"]), expect(g6["totals"])
for k in ("received", "lost", "duplicates", "reordered"):
    check(f"totals.{k} = loadgen (valid clients only)", e4[k] + e6[k], s["totals"][k])
gc = {c["client_id"]: expect(c) for c in g4["clients"] + g6["clients"]}
sc = {c["client_id"]: c for c in s["clients"]}
check("accounted clients are exactly the valid ones", [1, 2, 3, 4], sorted(sc))
bad = [(i, k, gc[i][k], sc[i][k]) for i in gc for k in gc[i] if gc[i][k] != sc[i][k]]
check("per-client counts = loadgen", [], bad[:5])
check("dtls handshakes completed (4 valid + the id claimer)", 5,
      s["dtls"]["handshakes_ok"])
fails = {k: v for k, v in s["drops"].items() if k.startswith("dtls_failed_")}
check("handshake failures by reason (rogue CA, expired, no certificate)",
      {"dtls_failed_unknown_ca": 1, "dtls_failed_expired": 1,
       "dtls_failed_no_cert": 1, "dtls_failed_revoked": 0,
       "dtls_failed_denied": 0, "dtls_failed_key_usage": 0,
       "dtls_failed_bad_cn": 0, "dtls_failed_no_ems": 0,
       "dtls_failed_other": 0}, fails)
check("dtls.handshake_failed = the sum of the reasons", 3,
      s["dtls"]["handshake_failed"])
check("client_id_mismatch = every datagram the claimer sent",
      claim["totals"]["sent"], s["drops"]["client_id_mismatch"])
check("plain datagrams to the DTLS port: none accounted", False, 77 in sc)
check("no decode drops from valid sessions", 0,
      sum(v for k, v in s["drops"].items()
          if not k.startswith("dtls_") and k != "client_id_mismatch"))
check("csv rows = totals.received", s["totals"]["received"], s["csv"]["rows"])
PY
cat "$work/dtls.check"
passes=$((passes + $(grep -c '^ok' "$work/dtls.check")))
fails=$((fails + $(grep -c '^FAIL' "$work/dtls.check")))

finish
