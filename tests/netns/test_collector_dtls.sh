#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: the collector in DTLS mode (the default) on the testbed.
#  1. Clients with valid certificates (IPv4 and IPv6, loss/dup/reorder
#     injected by the loadgen) deliver exactly what they sent: received,
#     lost, duplicates and reordered equal the loadgen's report, per client;
#     the IPv6 one ends with --no-close, so its close_notify is not among
#     the collector's (the capacity rows' drains rely on that).
#  2. A client certificate from a rogue CA, an expired one, and no
#     certificate at all: each handshake is refused and counted once under
#     its reason (dtls_failed_unknown_ca, _expired, _no_cert), and listed
#     in dtls_recent_failures with peer and claimed id; nothing of theirs
#     is accounted.
#  3. A client with client-1's certificate claiming client id 2 in its
#     headers: every record is dropped as client_id_mismatch, and neither
#     id appears among the clients.
#  4. Plain datagrams sent to the DTLS port are not accounted.
#  5. A second collector with --crl (certs/gen.sh crl) and --deny-list:
#     clients 1 and 3 send; client 3's certificate is revoked (certs/gen.sh
#     revoke) and SIGHUP reloads the policy: client 3's session is closed,
#     client 1's goes on and is accounted in full; client 2 (also revoked)
#     is refused as dtls_failed_revoked; a broken CRL on the next SIGHUP is
#     refused and the policy stays (client 2 refused again); a deny list
#     naming client 4 then refuses it as dtls_failed_denied.
#  6. Devices behind an intermediate CA (certs/gen.sh chain: --ca holds
#     only the root, the devices send the intermediate, --crl holds both
#     CAs' CRLs and the intermediate's certificate): of 4 devices, device 2
#     revoked by the intermediate's CRL is refused (dtls_failed_revoked),
#     the other 3 complete their handshakes; devices 3 and 4 send, then
#     the intermediate is revoked by the root's CRL and SIGHUP reloads: their
#     sessions close (sessions_revoked), device 1 is refused as revoked,
#     and every datagram is accounted or counted as unknown_peer.
#     6b. Upgrading: --ca root + intermediate, --crl with only the
#     intermediate's CRL: the start warns naming the root and the fix, the
#     policy line says 1 CA without a CRL, and a device is refused
#     (dtls_failed_other).
#  7. A fourth collector with --openssl-records: two clients with injected
#     loss, duplicates and reordering are accounted exactly as on the
#     built-in layer (per client = the loadgen's report, records_rx =
#     every datagram sent, nothing dropped by DTLS).
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
	--no-close >"$work/lg6.out" 2>&1
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
       "dtls_failed_other": 0, "dtls_failed_device": 0}, fails)
check("dtls.handshake_failed = the sum of the reasons", 3,
      s["dtls"]["handshake_failed"])
rf = s["dtls_recent_failures"]
check("recent failures: reason and claimed id, oldest first",
      [("unknown_ca", 1), ("expired", 1), ("no_cert", 0)],
      [(f["reason"], f["client_id"]) for f in rf])
check("recent failures: from the generator's IPv4 address",
      [True] * 3, [f["peer"].startswith("198.18.0.2:") for f in rf])
check("recent failures: in time order, during the run", True,
      all(s["started_ns"] <= a["time_ns"] <= b["time_ns"] <= s["stopped_ns"]
          for a, b in zip(rf, rf[1:])) and len(rf) == 3)
check("recent failures: a worker each", True,
      all(f["worker"] in (0, 1) for f in rf))
check("client_id_mismatch = every datagram the claimer sent",
      claim["totals"]["sent"], s["drops"]["client_id_mismatch"])
check("plain datagrams to the DTLS port: none accounted", False, 77 in sc)
check("no decode drops from valid sessions", 0,
      sum(v for k, v in s["drops"].items()
          if not k.startswith("dtls_") and k != "client_id_mismatch"))
check("csv rows = totals.received", s["totals"]["received"], s["csv"]["rows"])
check("close_notify received: the IPv4 clients' and the claimer's, not the IPv6 "
      "client's (loadgen --no-close)", 4, s["dtls"]["close_notify_rx"])
PY
cat "$work/dtls.check"
passes=$((passes + $(grep -c '^ok' "$work/dtls.check")))
fails=$((fails + $(grep -c '^FAIL' "$work/dtls.check")))

# ---- 5. revocation, the deny list and SIGHUP ----
# rev_logged PATTERN: until the collector logged it (5 s at most; not
# named wait_log, which start_collector of test_collector_lib.sh uses).
col_err=$work/rev.err
rev_logged() {
	for _ in $(seq 100); do
		grep -q -- "$1" "$col_err" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# reload EXPECTED-LOG: SIGHUP, the collector's answer, then one timer tick
# of every worker (50 ms) for the new policy to be in place.
hups=0
reload() {
	hups=$((hups + 1))
	kill -HUP "$col_pid"
	for _ in $(seq 100); do
		[ "$(grep -c '^collector: SIGHUP' "$col_err")" -ge "$hups" ] && break
		sleep 0.05
	done
	check "SIGHUP $hups: '$1'" grep -q -- "$1" "$col_err"
	sleep 0.3
}
"$top/certs/gen.sh" crl "$certs" >/dev/null 2>&1 || fail "certs/gen.sh crl"
printf '# nobody yet\n' >"$work/deny.txt"
start_collector rev --no-xdp --workers 2 --quiet --cert "$certs/server.crt" \
	--key "$certs/server.key" --ca "$certs/ca.crt" --crl "$certs/crl.pem" \
	--deny-list "$work/deny.txt" --summary-json "$work/rev.json" || exit 1
check "start: the policy loaded" grep -q \
	"DTLS policy: 0 revoked (--crl), 0 client ids denied (--deny-list), 0 pinned CAs" \
	"$work/rev.err"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--clients 1 --count 3000 --rate 500 --quiet --report-json "$work/c1.json" \
	>"$work/c1.out" 2>&1 &
c1=$!
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--first-id 3 --clients 1 --count 3000 --rate 500 --quiet \
	--report-json "$work/c3.json" >"$work/c3.out" 2>&1 &
c3=$!
sleep 1.5
"$top/certs/gen.sh" revoke "$certs" 2 3 >/dev/null 2>&1 || fail "certs/gen.sh revoke 2 3"
reload "SIGHUP: DTLS policy reloaded: 2 revoked (--crl), 0 client ids denied"
check "client 3's session closed" rev_logged \
	"(client 3) closed: certificate revoked by the new policy"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--first-id 2 --clients 1 --count 10 --handshake-timeout 3 --quiet \
	>"$work/c2.out" 2>&1
check_eq "revoked client 2: loadgen reports a failed handshake" 4 "$?"
check "... refused as revoked" grep -q "alert certificate revoked" "$work/c2.out"
cp "$certs/crl.pem" "$work/crl.good"
echo "not a CRL" >"$certs/crl.pem"
reload "SIGHUP: reload refused (see above); the running configuration stays"
check "... saying why" grep -q "CRL $certs/crl.pem: no PEM CRL in it" "$work/rev.err"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--first-id 2 --clients 1 --count 10 --handshake-timeout 3 --quiet \
	>"$work/c2b.out" 2>&1
check_eq "the old policy stayed: client 2 refused again" 4 "$?"
cp "$work/crl.good" "$certs/crl.pem"
printf '4 # denied\n' >"$work/deny.txt"
reload "SIGHUP: DTLS policy reloaded: 2 revoked (--crl), 1 client id denied"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--first-id 4 --clients 1 --count 10 --handshake-timeout 3 --quiet \
	>"$work/c4.out" 2>&1
check_eq "denied client 4: loadgen reports a failed handshake" 4 "$?"
wait "$c1"
check_eq "client 1 (kept its session): loadgen exit code" 0 "$?"
wait "$c3"
check_eq "client 3 (session closed under it): loadgen exit code" 0 "$?"
sleep 0.5
stop_collector TERM
check_eq "collector exit code" 0 "$col_rc"

python3 - "$work/rev.json" "$work/c1.json" "$work/c3.json" >"$work/rev.check" <<'PY'
import json, sys
s, c1, c3 = (json.load(open(p)) for p in sys.argv[1:4])
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
sc = {c["client_id"]: c for c in s["clients"]}
check("accounted clients: 1 and 3", [1, 3], sorted(sc))
check("client 1 accounted in full across the reloads",
      c1["totals"]["sent"], sc[1]["received"])
check("client 1 lost nothing", 0, sc[1]["lost"])
sent3, got3 = c3["totals"]["sent"], sc[3]["received"]
check("client 3: some accounted before its revocation", True, 0 < got3 < sent3)
# After the close every record of client 3, then its close_notify, had no
# session: each was counted as unknown_peer, nothing was lost silently.
check("client 3: the rest (and its close_notify) unknown_peer",
      sent3 - got3 + 1, s["drops"]["dtls_unknown_peer"])
check("dtls.sessions_revoked (client 3)", 1, s["dtls"]["sessions_revoked"])
check("dtls.policy_updates (2 workers x 2 reloads)", 4,
      s["dtls"]["policy_updates"])
check("dtls_failed_revoked (client 2, twice)", 2,
      s["drops"]["dtls_failed_revoked"])
check("dtls_failed_denied (client 4)", 1, s["drops"]["dtls_failed_denied"])
check("dtls.handshake_failed = revoked + denied", 3, s["dtls"]["handshake_failed"])
check("dtls.handshakes_ok (clients 1 and 3)", 2, s["dtls"]["handshakes_ok"])
check("no session error", 0, s["dtls"]["session_errors"])
check("recent failures: revoked, revoked, denied with their ids",
      [("revoked", 2), ("revoked", 2), ("denied", 4)],
      [(f["reason"], f["client_id"]) for f in s["dtls_recent_failures"]])
check("close_notify sent to client 3, and to client 1 at its end",
      [1, 1], [s["dtls"]["sessions_revoked"],
               s["dtls"]["close_notify_tx"] - s["dtls"]["sessions_revoked"]])
PY
cat "$work/rev.check"
passes=$((passes + $(grep -c '^ok' "$work/rev.check")))
fails=$((fails + $(grep -c '^FAIL' "$work/rev.check")))

# ---- 6. devices behind an intermediate CA ----
chain=$certs/chain
"$top/certs/gen.sh" chain "$certs" 4 >/dev/null 2>&1 || fail "certs/gen.sh chain"
"$top/certs/gen.sh" chain-revoke "$certs" 2 >/dev/null 2>&1 || fail "certs/gen.sh chain-revoke 2"
col_err=$work/chain.err
hups=0
start_collector chain --no-xdp --workers 2 --quiet --cert "$certs/server.crt" \
	--key "$certs/server.key" --ca "$chain/root.crt" --crl "$chain/crl.pem" \
	--summary-json "$work/chain.json" || exit 1
check "chain: the policy loaded (device 2 revoked)" grep -q \
	"DTLS policy: 1 revoked (--crl), no deny list, 0 pinned CAs" "$col_err"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$chain" \
	--clients 4 --count 100 --handshake-timeout 3 --quiet >"$work/ch4.out" 2>&1
check_eq "chain: 4 devices, loadgen reports the failed handshake" 4 "$?"
check "... 1 of 4 failed: device 2, revoked" grep -q \
	"1 of 4 DTLS handshakes failed; client 2: sslv3 alert certificate revoked" \
	"$work/ch4.out"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$chain" \
	--first-id 3 --clients 2 --count 1500 --rate 500 --quiet \
	--report-json "$work/ch34.json" >"$work/ch34.out" 2>&1 &
ch34=$!
sleep 1.5
"$top/certs/gen.sh" chain-revoke "$certs" int >/dev/null 2>&1 || fail "certs/gen.sh chain-revoke int"
reload "SIGHUP: DTLS policy reloaded: 2 revoked (--crl), no deny list"
check "chain: device 3's session closed" rev_logged \
	"(client 3) closed: certificate revoked by the new policy"
check "chain: device 4's session closed" rev_logged \
	"(client 4) closed: certificate revoked by the new policy"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$chain" \
	--clients 1 --count 10 --handshake-timeout 3 --quiet >"$work/ch1.out" 2>&1
check_eq "chain: device 1 after its intermediate's revocation: failed handshake" 4 "$?"
check "... refused as revoked" grep -q "alert certificate revoked" "$work/ch1.out"
wait "$ch34"
check_eq "chain: devices 3 and 4 (sessions closed under them): loadgen exit code" 0 "$?"
sleep 0.5
stop_collector TERM
check_eq "chain: collector exit code" 0 "$col_rc"

python3 - "$work/chain.json" "$work/ch34.json" >"$work/chain.check" <<'PY'
import json, sys
s, g = (json.load(open(p)) for p in sys.argv[1:3])
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"chain: {what}: expected {exp}, got {got}")
sc = {c["client_id"]: c for c in s["clients"]}
gc = {c["client_id"]: c for c in g["clients"]}
check("accounted clients: 3 and 4", [3, 4], sorted(sc))
check("each accounted some before the revocation, not all", [True, True],
      [0 < sc[i]["received"] < gc[i]["sent"] for i in (3, 4)])
check("the rest (and their close_notify) unknown_peer",
      sum(gc[i]["sent"] - sc[i]["received"] for i in (3, 4)) + 2,
      s["drops"]["dtls_unknown_peer"])
check("dtls.handshakes_ok (devices 1, 3, 4, then 3 and 4)", 5,
      s["dtls"]["handshakes_ok"])
check("dtls_failed_revoked (device 2, then device 1)", 2,
      s["drops"]["dtls_failed_revoked"])
check("dtls.handshake_failed = the revoked ones", 2, s["dtls"]["handshake_failed"])
check("dtls_failed_other (every CA had its CRL)", 0, s["drops"]["dtls_failed_other"])
check("dtls.sessions_revoked (devices 3 and 4)", 2, s["dtls"]["sessions_revoked"])
check("dtls.policy_updates (2 workers x 1 reload)", 2, s["dtls"]["policy_updates"])
check("recent failures: revoked 2, revoked 1",
      [("revoked", 2), ("revoked", 1)],
      [(f["reason"], f["client_id"]) for f in s["dtls_recent_failures"]])
PY
cat "$work/chain.check"
passes=$((passes + $(grep -c '^ok' "$work/chain.check")))
fails=$((fails + $(grep -c '^FAIL' "$work/chain.check")))

# ---- 6b. upgrading: --ca root + intermediate, --crl only the intermediate's ----
# Every CA of a chain needs a CRL now (docs/COLLECTOR.md "Upgrading"): the
# root's is missing, so its devices are refused, loudly at start.
cat "$chain/root.crt" "$chain/int.crt" >"$work/root-int.crt"
awk '/BEGIN X509 CRL/ { n++ } n == 2 { print } /END X509 CRL/ && n == 2 { exit }' \
	"$chain/crl.pem" >"$work/int-only.crl"
col_err=$work/upg.err
start_collector upg --no-xdp --workers 1 --quiet --cert "$certs/server.crt" \
	--key "$certs/server.key" --ca "$work/root-int.crt" --crl "$work/int-only.crl" \
	--summary-json "$work/upg.json" || exit 1
check "upgrade: the warning names the root and the fix" grep -q \
	"has no CRL of /CN=XTel Test Root CA (in $work/root-int.crt): every device whose chain passes through that CA is refused" \
	"$col_err"
check "upgrade: ... and says how to add one" grep -q "certs/gen.sh crl DIR" "$col_err"
check "upgrade: the policy line counts it" grep -q \
	"DTLS policy: 1 revoked (--crl), 1 CA without a CRL: their devices are refused" \
	"$col_err"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$chain" \
	--first-id 3 --clients 1 --count 10 --handshake-timeout 3 --quiet \
	>"$work/upg.out" 2>&1
check_eq "upgrade: device 3 refused (loadgen: failed handshake)" 4 "$?"
stop_collector TERM
check_eq "upgrade: collector exit code" 0 "$col_rc"
check_eq "upgrade: dtls_failed_other (no CRL of the root)" 1 \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["drops"]["dtls_failed_other"])' "$work/upg.json")"

# ---- 7. OpenSSL's record layer (--openssl-records) ----
start_collector ossl --no-xdp --workers 1 --quiet --openssl-records \
	--cert "$certs/server.crt" --key "$certs/server.key" --ca "$certs/ca.crt" \
	--summary-json "$work/ossl.json" || exit 1
check "--openssl-records: said at start" grep -q \
	"DTLS sessions keep OpenSSL's record layer (--openssl-records)" "$work/ossl.err"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--clients 2 --count 3000 --rate 20000 --loss 0.02 --dup 0.02 \
	--reorder 0.03 --seed 13 --quiet --report-json "$work/ossl-lg.json" \
	>"$work/ossl-lg.out" 2>&1
check_eq "OpenSSL's layer: loadgen exit code" 0 "$?"
stop_collector TERM
check_eq "collector (--openssl-records) exit code" 0 "$col_rc"
python3 - "$work/ossl.json" "$work/ossl-lg.json" >"$work/ossl.check" <<'PY'
import json, sys
s, g = (json.load(open(p)) for p in sys.argv[1:3])
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"OpenSSL's layer: {what}: expected {exp}, got {got}")
def expect(r):
    return {"received": r["sent"], "lost": r["injected_loss"],
            "duplicates": r["injected_dup"],
            "reordered": r["reorder_held"] - r["reorder_in_order"]}
gc = {c["client_id"]: expect(c) for c in g["clients"]}
sc = {c["client_id"]: {k: c[k] for k in ("received", "lost", "duplicates", "reordered")}
      for c in s["clients"]}
check("per-client received, lost, duplicates, reordered = loadgen", gc, sc)
check("the injected faults happened", True,
      all(v["lost"] and v["duplicates"] and v["reordered"] for v in gc.values()))
check("dtls.records_rx = every datagram sent (a duplicate is its own record)",
      g["totals"]["sent"], s["dtls"]["records_rx"])
d = s["dtls"]
check("handshakes, none left to the built-in layer by a failure",
      {"handshakes_ok": 2, "record_layer_fallback": 0},
      {k: d[k] for k in ("handshakes_ok", "record_layer_fallback")})
check("no record dropped, no session error",
      {"bad_record": 0, "replay": 0, "session_errors": 0, "unknown_peer": 0},
      {k: d[k] for k in ("bad_record", "replay", "session_errors", "unknown_peer")})
PY
cat "$work/ossl.check"
passes=$((passes + $(grep -c '^ok' "$work/ossl.check")))
fails=$((fails + $(grep -c '^FAIL' "$work/ossl.check")))

finish
