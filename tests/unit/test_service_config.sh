#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The config file, --version and the log formats of common/options_service.c
# and common/log.c, through the real programs (collector and loadgen): each
# kind of config error is reported word for word with FILE:LINE: KEY and
# exit code 2, flags override the file (a repeatable flag replaces the
# file's list), --print-config's output read back as a config file prints
# the same configuration, --check-config runs the cross-option checks, the
# built-in keys (log-level) come from the file too, --log-format json is
# one JSON object per line, and stderr that is the journal (JOURNAL_STREAM)
# gets <N> priorities. Nothing here opens a socket: every case stops at
# --check-config, --print-config or a refused value.
#
# docs/OPERATIONS.md lists every key of the collector's --print-config.
#
# usage: test_service_config.sh COLLECTOR LOADGEN OPERATIONS_MD
set -uo pipefail

C=${1:?usage: $0 COLLECTOR LOADGEN OPERATIONS_MD}
L=${2:?usage: $0 COLLECTOR LOADGEN OPERATIONS_MD}
doc=${3:?usage: $0 COLLECTOR LOADGEN OPERATIONS_MD}
work=$(mktemp -d /tmp/xtel-svc-conf.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }

# expect NAME RC TEXT PROG ARGS...: exit RC and TEXT (fixed string) as one
# whole line of stdout+stderr.
expect() {
	local name=$1 want=$2 text=$3 rc
	shift 3
	"$@" >"$work/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -qxF -- "$text" "$work/out"; then
		ok
	else
		bad "$name: rc=$rc (want $want), wanted line: $text"
		sed 's/^/    /' "$work/out" | head -5
	fi
}

conf() { # NAME LINES...: $work/NAME.conf
	local f="$work/$1.conf"; shift
	printf '%s\n' "$@" >"$f"
}

# ---- --version: meson's version and git describe ----
for p in "$C" "$L"; do
	n=$(basename "$p")
	"$p" --version >"$work/out" 2>&1
	if grep -qE "^$n \(xtel\) [0-9]+\.[0-9]+\.[0-9]+ \(git [^ ]+\)$" "$work/out"; then ok
	else bad "$n --version: $(cat "$work/out")"; fi
done

# ---- errors: FILE:LINE: KEY: message, exit 2 ----
conf base 'mode = "plain";' 'no-xdp = true;'
conf range 'mode = "plain";' 'no-xdp = true;' '' 'port = 0;'
expect "value out of range" 2 \
	"collector: $work/range.conf:4: port: invalid value '0' for --port (valid: 1..65535)" \
	"$C" --config "$work/range.conf" --check-config
conf unknown 'mode = "plain";' 'prot = 7700;'
expect "unknown key" 2 \
	"collector: $work/unknown.conf:2: prot: unknown key (collector has no --prot; see --help)" \
	"$C" --config "$work/unknown.conf" --check-config
conf syntax 'mode = "plain";' 'port = = 5;'
expect "syntax error" 2 "collector: $work/syntax.conf:2: syntax error" \
	"$C" --config "$work/syntax.conf" --check-config
conf flagtype 'mode = "plain";' 'no-xdp = "yes";'
expect "flag not a bool" 2 \
	"collector: $work/flagtype.conf:2: no-xdp: expected true or false (a flag)" \
	"$C" --config "$work/flagtype.conf" --check-config
conf listtype 'mode = "plain";' 'iface = "lo";' 'allow = "198.18.0.0/33";'
expect "list element refused" 2 \
	"collector: $work/listtype.conf:3: allow: invalid value '198.18.0.0/33' for --allow (valid: an IPv4 or IPv6 address or CIDR (e.g. 198.18.0.0/24, 2001:2::/64))" \
	"$C" --config "$work/listtype.conf" --check-config
conf command 'help = true;'
expect "a command is no key" 2 \
	"collector: $work/command.conf:1: help: --help is a command, not a key of the config file" \
	"$C" --config "$work/command.conf" --check-config
conf number 'mode = "plain";' 'no-xdp = true;' 'interval = "fast";'
expect "double refused" 2 \
	"collector: $work/number.conf:3: interval: invalid value 'fast' for --interval (valid: 0.1..3600 seconds)" \
	"$C" --config "$work/number.conf" --check-config
conf float 'mode = "plain";' 'no-xdp = true;' 'workers = 1.5;'
expect "integer key given a float" 2 \
	"collector: $work/float.conf:3: workers: invalid value '1.5' for --workers (valid: 1..256)" \
	"$C" --config "$work/float.conf" --check-config
expect "missing file" 2 \
	"collector: --config $work/none.conf: cannot read it (No such file or directory)" \
	"$C" --config "$work/none.conf" --check-config
# The cross-option checks run on the file's values too.
conf cross 'mode = "plain";' 'no-xdp = true;' 'afxdp = true;'
expect "cross-option check" 2 "collector: --afxdp needs the XDP program: drop it or --no-xdp" \
	"$C" --config "$work/cross.conf" --check-config
expect "valid" 0 "collector: configuration valid in $work/base.conf" \
	"$C" --config "$work/base.conf" --check-config
# A flag set to false in the file is not "given": no XDP-group conflict.
conf falseflag 'mode = "plain";' 'no-xdp = true;' 'afxdp = false;'
expect "false flag is not given" 0 "collector: configuration valid in $work/falseflag.conf" \
	"$C" --config "$work/falseflag.conf" --check-config

# ---- flags override the file ----
conf over 'mode = "plain";' 'iface = "lo";' 'port = 19801;' \
	'allow = ["198.18.0.0/24", "2001:2::/64"];' 'interval = 0.5;' 'log-level = "warn";'
expect "file value" 0 'port = 19801;' "$C" --config "$work/over.conf" --print-config
expect "flag wins" 0 'port = 19802;' "$C" --config "$work/over.conf" --port 19802 --print-config
expect "file list" 0 'allow = ["198.18.0.0/24", "2001:2::/64"];' \
	"$C" --config "$work/over.conf" --print-config
expect "flags replace the list" 0 'allow = ["10.0.0.0/8", "::1"];' \
	"$C" --config "$work/over.conf" --allow 10.0.0.0/8 --allow ::1 --print-config
expect "built-in key from the file" 0 'log-level = "warn";' \
	"$C" --config "$work/over.conf" --print-config
expect "built-in flag wins" 0 'log-level = "debug";' \
	"$C" --config "$work/over.conf" --log-level debug --print-config
expect "default shown as a comment" 0 '# max-sessions = 4096;' "$C" --config "$work/over.conf" --print-config
expect "unset shown" 0 '# cert: not set' "$C" --config "$work/over.conf" --print-config

# ---- --print-config reads back as the same configuration ----
"$C" --config "$work/over.conf" --bind 127.0.0.1 --print-config | tail -n +2 >"$work/p1.conf"
"$C" --config "$work/p1.conf" --print-config | tail -n +2 >"$work/p2"
if [ -s "$work/p1.conf" ] && cmp -s "$work/p1.conf" "$work/p2"; then ok
else bad "print-config round trip"; diff "$work/p1.conf" "$work/p2" | head; fi
# Every option of --help is a key of --print-config (or a command).
keys=$("$C" --help | grep -oE '^  --[a-z0-9-]+' | sed 's/^  --//' | sort -u)
for k in $keys; do
	case $k in help|version|config|check-config|print-config|detach) continue ;; esac
	grep -qE "^(# )?$k( =|:)" "$work/p1.conf" || bad "--$k missing from --print-config"
done
ok

# Every key is in docs/OPERATIONS.md's key table, as `key`.
for k in $(sed -n 's/^\(# \)\{0,1\}\([a-z0-9-]*\)\( =\|:\).*/\2/p' "$work/p1.conf"); do
	grep -qF "\`$k\`" "$doc" || bad "key $k missing from $(basename "$doc")"
done
ok

# ---- loadgen gets the same for free ----
conf lgbad 'target = "127.0.0.1:9";' 'mode = "plain";' 'rate = 0;' 'clients = 70000;'
expect "loadgen file error" 2 \
	"loadgen: $work/lgbad.conf:4: clients: invalid value '70000' for --clients (valid: an integer 1..60000, or 0 with --flood-handshakes)" \
	"$L" --config "$work/lgbad.conf" --check-config
# A bad value in the file is refused even when a flag overrides it.
expect "loadgen file error, flag given" 2 \
	"loadgen: $work/lgbad.conf:4: clients: invalid value '70000' for --clients (valid: an integer 1..60000, or 0 with --flood-handshakes)" \
	"$L" --config "$work/lgbad.conf" --clients 5 --check-config
conf lg 'target = "127.0.0.1:9";' 'mode = "plain";' 'rate = 0;' 'clients = 2;' 'threads = 2;'
expect "loadgen cross check on the file's values" 2 \
	"loadgen: invalid value '2' for --threads (valid: 1..1, at most one thread per client)" \
	"$L" --config "$work/lg.conf" --clients 1 --check-config
expect "loadgen flag wins" 0 "loadgen: configuration valid in $work/lg.conf" \
	"$L" --config "$work/lg.conf" --clients 5 --check-config
expect "loadgen print" 0 'target = "127.0.0.1:9";' \
	"$L" --config "$work/lg.conf" --clients 5 --print-config
expect "loadgen cross check from the file" 2 "loadgen: --step needs --ramp" \
	"$L" --target 127.0.0.1:9 --mode plain --step 1 --check-config

# ---- logs ----
"$C" --log-format json --mode plain --no-xdp --port 0 >/dev/null 2>"$work/json"
if python3 - "$work/json" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert sorted(o) == ["level", "msg", "prog", "time"], o
assert o["level"] == "err" and o["prog"] == "collector", o
assert o["msg"] == "invalid value '0' for --port (valid: 1..65535)", o
PY
then ok; else bad "--log-format json: $(cat "$work/json")"; fi
# stderr is "the journal" when JOURNAL_STREAM names its device and inode.
: >"$work/journal"
js=$(stat -c '%d:%i' "$work/journal")
JOURNAL_STREAM=$js "$C" --mode plain --no-xdp --port 0 2>>"$work/journal"
if grep -qxF "<3>invalid value '0' for --port (valid: 1..65535)" "$work/journal"; then ok
else bad "journal priority: $(cat "$work/journal")"; fi
# Another stream in JOURNAL_STREAM: plain text.
JOURNAL_STREAM=1:1 "$C" --mode plain --no-xdp --port 0 2>"$work/text"
if grep -qxF "collector: invalid value '0' for --port (valid: 1..65535)" "$work/text"; then ok
else bad "text when stderr is not the journal: $(cat "$work/text")"; fi
conf lvl 'mode = "plain";' 'no-xdp = true;' 'log-level = "loud";'
expect "log-level from the file checked" 2 \
	"collector: $work/lvl.conf:3: log-level: invalid value 'loud' for --log-level (valid: err, warn, info or debug)" \
	"$C" --config "$work/lvl.conf" --check-config

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
