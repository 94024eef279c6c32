// SPDX-License-Identifier: MIT
/*
 * The dashboard's cost in the browser (bench/run.sh --dashboard, through
 * bench/xtelbench/dashboard.py): headless Chromium (Debian's, driven by
 * playwright-core) opens a collector's page while its clients send, and
 * measures, printing one JSON object:
 *   load_ms         navigation start to the client table showing every
 *                   client (the first full table parsed and drawn)
 *   dcl_ms          DOMContentLoaded
 *   cpu             per view (table, overview), over SECONDS of live
 *                   updates: the renderer's main-thread busy time
 *                   (CDP Performance.TaskDuration) and all of Chromium's
 *                   processes' CPU (/proc, utime + stime), as a fraction
 *                   of one core; the longest task and tasks over 50 ms
 *   scroll          the table scrolled top to bottom in 40 steps: rows in
 *                   the DOM (virtualized: only those in sight), the
 *                   longest frame
 *   sort_ms         a click on a column until the table shows the order
 *   heap_mb         the page's JS heap after the run
 *
 * usage: node dashboard_load.cjs URL CLIENTS SECONDS
 */
"use strict";
const fs = require("fs");
const { chromium } = require("playwright-core");

const HZ = 100;	// USER_HZ: /proc/PID/stat ticks

function chromiumCpuTicks() {
	let t = 0;
	for (const pid of fs.readdirSync("/proc")) {
		if (!/^\d+$/.test(pid)) continue;
		try {
			if (!fs.readlinkSync("/proc/" + pid + "/exe").includes("chromium")) continue;
			const f = fs.readFileSync("/proc/" + pid + "/stat", "utf8");
			const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
			t += Number(rest[11]) + Number(rest[12]);	// utime, stime
		} catch (e) { /* gone */ }
	}
	return t;
}

async function metrics(cdp) {
	const m = {};
	for (const x of (await cdp.send("Performance.getMetrics")).metrics) m[x.name] = x.value;
	return m;
}

// Live updates on the current view for secs: CPU fractions and long tasks.
async function busy(page, cdp, secs) {
	await page.evaluate(() => { window.__long = []; });
	const m0 = await metrics(cdp), c0 = chromiumCpuTicks(), t0 = Date.now();
	await page.waitForTimeout(secs * 1000);
	const m1 = await metrics(cdp), c1 = chromiumCpuTicks(), wall = (Date.now() - t0) / 1000;
	const long = await page.evaluate(() => window.__long);
	return {
		seconds: wall,
		main_thread: (m1.TaskDuration - m0.TaskDuration) / wall,
		script: (m1.ScriptDuration - m0.ScriptDuration) / wall,
		layout: (m1.LayoutDuration + m1.RecalcStyleDuration - m0.LayoutDuration - m0.RecalcStyleDuration) / wall,
		chromium: (c1 - c0) / HZ / wall,
		longest_task_ms: long.length ? Math.max(...long) : 0,
		tasks_over_50ms: long.length,
	};
}

(async () => {
	const [url, clients, secs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] || 10)];
	const browser = await chromium.launch({
		executablePath: process.env.XTEL_CHROMIUM || "/usr/bin/chromium",
		args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
	});
	const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
	const errors = [];
	page.on("pageerror", (e) => errors.push(e.message));
	await page.addInitScript(() => {
		window.__long = [];
		new PerformanceObserver((l) => {
			for (const e of l.getEntries()) window.__long.push(e.duration);
		}).observe({ entryTypes: ["longtask"] });
	});
	const cdp = await page.context().newCDPSession(page);
	await cdp.send("Performance.enable");
	const want = clients.toLocaleString("en-US") + " of ";
	const t0 = Date.now();
	await page.goto(url + "/#/clients");
	await page.waitForFunction((w) => {
		const c = document.querySelector("[data-count]");
		return c && c.textContent.startsWith(w);
	}, want, { timeout: 60000 });
	const load_ms = Date.now() - t0;
	const nav = await page.evaluate(() => performance.getEntriesByType("navigation")[0].toJSON());
	const out = { clients, load_ms, dcl_ms: nav.domContentLoadedEventEnd, cpu: {} };

	out.cpu.table = await busy(page, cdp, secs);

	// scroll top to bottom: rows in the DOM and the longest frame
	out.scroll = await page.evaluate(async () => {
		const body = document.querySelector(".vt-body");
		const frames = [];
		let maxRows = 0;
		const steps = 40;
		for (let i = 1; i <= steps; i++) {
			const t = performance.now();
			body.scrollTop = (body.scrollHeight * i) / steps;
			await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
			frames.push(performance.now() - t);
			maxRows = Math.max(maxRows, document.querySelectorAll(".vt-row").length);
		}
		return { steps, rows_in_dom_max: maxRows, longest_frame_ms: Math.max(...frames),
			 median_frame_ms: frames.sort((a, b) => a - b)[frames.length >> 1] };
	});

	// sort by loss, then time until the first row's id changes or the class flips
	const t1 = Date.now();
	await page.click('[data-sort="lost"]');
	await page.waitForSelector('[data-sort="lost"].desc');
	out.sort_ms = Date.now() - t1;

	await page.click('a[data-nav="overview"]');
	await page.waitForSelector('[data-chart="rate"] canvas');
	out.cpu.overview = await busy(page, cdp, secs);
	out.heap_mb = (await metrics(cdp)).JSHeapUsedSize / 1048576;
	out.errors = errors;
	console.log(JSON.stringify(out));
	await browser.close();
})().catch((e) => { console.error(e.message); process.exit(1); });
