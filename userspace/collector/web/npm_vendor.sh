#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the dashboard's npm dependencies (package.json, package-lock.json:
# uPlot) into the build directory with `npm ci` and copies out the files the
# collector embeds. Run by meson at build time only: nothing of node_modules
# is committed, and the collector needs no Node.js at run time.
#
# usage: npm_vendor.sh OUTDIR package.json package-lock.json
set -eu
out=$1 pkg=$2 lock=$3
work=$out/npm
mkdir -p "$work"
cp "$pkg" "$lock" "$work/"
if ! command -v npm >/dev/null 2>&1; then
	echo "npm_vendor.sh: npm not found: install Node.js and npm (scripts/deps.sh)" >&2
	exit 1
fi
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) || {
	echo "npm_vendor.sh: npm ci failed in $work (is the npm registry reachable?)" >&2
	exit 1
}
cp "$work/node_modules/uplot/dist/uPlot.iife.min.js" "$out/uPlot.iife.min.js"
cp "$work/node_modules/uplot/dist/uPlot.min.css" "$out/uPlot.min.css"
