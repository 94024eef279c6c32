#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Installs every Debian package XTel needs to build, test and benchmark.
# Idempotent: when everything is present it only runs dpkg-query and exits
# within a second, so the quick-start commands can call it every time.
set -euo pipefail

pkgs=(
	build-essential pkg-config meson ninja-build
	clang llvm gcc-multilib
	libclang-rt-dev
	libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev
	liburing-dev libssl-dev openssl libjansson-dev libmicrohttpd-dev libsqlite3-dev
	libbenchmark-dev libcmocka-dev
	libsqlite3-dev sqlite3
	iproute2 python3 gnuplot-nox jq procps curl
	prometheus
	libcurl4-openssl-dev
	chromium socat
	libconfig-dev libsystemd-dev
	debhelper lintian fakeroot man-db util-linux systemd-container
	nats-server libnats-dev
)

# The dashboard's build runs npm ci (uPlot) and its browser test
# playwright-core: Node.js and npm, from Debian when the machine has none.
if ! command -v npm >/dev/null 2>&1; then
	pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep '^install ok installed$' >/dev/null; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo -E "$0" "$@"
	fi
	echo "deps.sh: missing packages (${missing[*]}) and not root: run as root or install them" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# prometheus and nats-server are for the integration tests, which start their
# own servers on loopback: their packages must not start a daemon (prometheus
# would listen on 0.0.0.0:9090, nats-server on 0.0.0.0:4222).
# A policy-rc.d that refuses every start does that; one already there is
# left alone, ours is removed afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=1
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ $own_policy -eq 1 ]; then rm -f "$policy"; trap - EXIT; fi
