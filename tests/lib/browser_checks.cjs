// SPDX-License-Identifier: MIT
/*
 * Shared by the dashboard's browser checks (tests/integration/
 * dashboard_checks.cjs, dashboard_pages_checks.cjs): exact checks that
 * print "ok   what (got)" or "FAIL what: expected X, got Y" and are counted
 * in counts; launch(), Debian's Chromium (playwright-core, tests/lib/
 * browser.sh) with one page, collecting page errors; open(), that page (or
 * one launch() made before) on URL until its stream is live, collecting every console error, page
 * error, failed request and HTTP error into errors.
 */
"use strict";
const { chromium } = require("playwright-core");

const counts = { passes: 0, fails: 0 };
function check(what, exp, got) {
	const good = JSON.stringify(exp) === JSON.stringify(got);
	if (good) counts.passes++; else counts.fails++;
	console.log((good ? "ok   " : "FAIL ") + what +
		    (good ? " (" + JSON.stringify(got) + ")" : ": expected " + JSON.stringify(exp) +
		     ", got " + JSON.stringify(got)));
}
const num = (s) => (s === null ? null : Number(String(s).replace(/,/g, "")));

// Debian's chromium (root: no sandbox), one page; confirm dialogs accepted.
async function launch(errors) {
	const browser = await chromium.launch({
		executablePath: process.env.XTEL_CHROMIUM || "/usr/bin/chromium",
		args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
	});
	const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
	page.on("pageerror", (e) => errors.push("page error: " + e.message));
	page.on("dialog", (d) => d.accept());
	return { browser, page };
}

// launched: the result of an earlier launch(errors) to use instead of a new one
async function open(url, errors, launched) {
	const { browser, page } = launched || await launch(errors);
	page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
	page.on("requestfailed", (r) => {
		// the stream is cut when the page closes: not an error of the page
		if (!r.url().includes("/api/v1/stream")) errors.push("request failed: " + r.url());
	});
	page.on("response", (r) => {
		if (r.status() >= 400) errors.push("HTTP " + r.status() + ": " + r.url());
	});
	await page.goto(url);
	try {
		await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
	} catch (e) {
		throw new Error("the page never showed the stream live (" +
				(await page.textContent("#status")) + "): " + errors.join("; "));
	}
	return { browser, page };
}

module.exports = { counts, check, num, launch, open };
