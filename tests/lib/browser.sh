# SPDX-License-Identifier: MIT
# Shared by the dashboard's browser test and benchmark (sourced, not run):
# playwright-core from npm (tests/integration/browser/package-lock.json,
# installed with `npm ci` into a build directory, never committed) driving
# Debian's /usr/bin/chromium (scripts/deps.sh installs it; playwright-core
# downloads no browser).
#
# browser_setup TOP DIR: installs into DIR (again only when the lock file
# changed) and exports NODE_PATH and XTEL_CHROMIUM for the .cjs scripts.
# Returns 1 after a message when npm or chromium is missing. The checkers run
# through run_checks of tests/netns/test_collector_lib.sh.
browser_setup() {
	local top=$1 dir=$2 src="$1/tests/integration/browser"
	XTEL_CHROMIUM=${XTEL_CHROMIUM:-/usr/bin/chromium}
	if [ ! -x "$XTEL_CHROMIUM" ]; then
		echo "browser: $XTEL_CHROMIUM not found: run scripts/deps.sh (Debian's chromium)"
		return 1
	fi
	command -v npm >/dev/null || { echo "browser: npm not found: install Node.js and npm"; return 1; }
	mkdir -p "$dir"
	if ! cmp -s "$src/package-lock.json" "$dir/package-lock.json" ||
	   [ ! -d "$dir/node_modules/playwright-core" ]; then
		cp "$src/package.json" "$src/package-lock.json" "$dir/"
		(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) || {
			echo "browser: npm ci of playwright-core failed in $dir"
			rm -f "$dir/package-lock.json"
			return 1
		}
	fi
	export NODE_PATH="$dir/node_modules" XTEL_CHROMIUM
}
