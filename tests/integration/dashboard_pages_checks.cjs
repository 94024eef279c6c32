// SPDX-License-Identifier: MIT
/*
 * The dashboard's health and probes pages as a person reads them
 * (tests/integration/test_dashboard_pages.sh): headless Chromium (Debian's,
 * through playwright-core) on the page the collector serves; what is
 * checked is what the page shows, compared with the truth the test caused.
 * Every check prints "ok   what" or "FAIL what: expected X, got Y".
 *
 * usage: node dashboard_pages_checks.cjs PHASE URL OUTDIR [ARGS]
 *   health  while the load generator's scenario runs: the fleet page shows
 *           the verdicts ARGS[0] (JSON {id: state} for every client) and
 *           the group's ARGS[1]; its event timeline has a transition for
 *           exactly the faulty clients and the group, ending in their
 *           verdicts, the same events as /api/v1/events; the client
 *           table's health column shows each client's verdict, the faulty
 *           ones explained in the tooltip; a faulty client's page shows
 *           its verdict, explanation and signals
 *   probes  after bounded probe runs: the per-device table shows exactly
 *           ARGS[0] (JSON {device: [downloads, ok, failed]}), the mean
 *           speeds of the probe's report ARGS[1], the tiles the fleet's
 *           sums; the speed chart and hour-of-day profile are drawn; the
 *           busiest hour is one of ARGS[2] (the UTC hours the run spanned)
 *           with the API's confidence; one device's own page
 *   probes-history  docs/PROBES.md's example history over the Custom range
 *           of its two weeks with the docs' analysis parameters: the counts,
 *           the busiest hours, the runner-up and the one congestion episode
 *           that docs/PROBES.md names
 * Screenshots (OUTDIR): dashboard-health.png, dashboard-health-clients.png,
 * dashboard-health-client.png, dashboard-probes.png (the run),
 * dashboard-probes-device.png, dashboard-probes-history.png.
 */
"use strict";
const fs = require("fs");
const path = require("path");
const { counts, check, num, launch, open } = require("../lib/browser_checks.cjs");

// an object with its keys in order, so that two compare as JSON whatever order they were built in
const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const apiGet = (page, p) => page.evaluate(async (p) => (await fetch(p)).json(), p);

// {client id: state} of the fleet page's "clients not ok" table
const notOk = (page) => page.$$eval("#health-clients tr[data-client]", (rows) =>
	Object.fromEntries(rows.map((r) => [r.dataset.client, r.querySelector("[data-state]").dataset.state])));

// {client id: state} and the group's state as /api/v1/health reports them now
async function apiVerdicts(url) {
	const h = await (await fetch(url + "/api/v1/health?limit=1000")).json();
	const g = (h.groups || []).find((x) => x.label === "fleet");
	return { clients: Object.fromEntries((h.clients || []).map((c) => [String(c.client_id), c.state])),
		 group: g ? g.state : null };
}

// Until the collector's own API reports exactly the verdicts the test caused
// (the faults start 8 s into the load, after the 12 warm-up intervals; a
// verdict needs 2 intervals more): the page is checked against a state the
// collector is known to be in, however slow the machine. At most limitMs.
async function waitVerdicts(url, want, wantGroup, limitMs) {
	const end = Date.now() + limitMs;
	let got = null;
	for (;;) {
		try { got = await apiVerdicts(url); } catch (e) { got = { error: String(e) }; }
		if (JSON.stringify(sorted(got.clients || {})) === JSON.stringify(sorted(want)) &&
		    got.group === wantGroup)
			return got;
		if (Date.now() > end) return got;
		await new Promise((r) => setTimeout(r, 250));
	}
}

async function phaseHealth(url, out, want, wantGroup) {
	const errors = [];
	// Chromium's start has its own wait (playwright's launch timeout), run
	// while the collector warms up; the page opens once the verdicts are in
	const launched = await launch(errors);
	const v = await waitVerdicts(url, want, wantGroup, 60000);
	check("API: /api/v1/health reports the verdicts the load caused", { clients: sorted(want), group: wantGroup },
	      { clients: sorted(v.clients || {}), group: v.group });
	const { browser, page } = await open(url + "/#/health", errors, launched);
	const bad = Object.fromEntries(Object.entries(want).filter(([, s]) => s !== "ok"));
	// the API has them already: the page shows them with its next view
	try {
		await page.waitForFunction((bad) => {
			const rows = document.querySelectorAll("#health-clients tr[data-client]");
			const got = {};
			for (const r of rows) got[r.dataset.client] = r.querySelector("[data-state]").dataset.state;
			const g = document.querySelector('#health-groups tr[data-group="fleet"] [data-state]');
			return JSON.stringify(got) === JSON.stringify(bad) && g && g.dataset.state !== "ok";
		}, bad, { timeout: 25000, polling: 250 });
	} catch (e) { /* the checks below say what the page showed */ }
	check("fleet page: the clients not ok and their verdicts", bad, await notOk(page));
	check("fleet page: the group's verdict", wantGroup,
	      await page.getAttribute('#health-groups tr[data-group="fleet"] [data-state]', "data-state"));
	const nBad = Object.values(want).filter((s) => s === wantGroup).length;
	// the members' verdicts, then the shift they share when the common-mode
	// pass saw one (userspace/health/explain.c): here the loss of the 4
	const n = Object.keys(want).length;
	const gx = await page.textContent('#health-groups tr[data-group="fleet"] td:last-child');
	const gxWant = nBad + " of " + n + " clients " + wantGroup;
	const gxCommon = gxWant + "; loss up at " + nBad + " of " + n + " clients at once";
	check("fleet page: the group's explanation", gx === gxCommon ? gxCommon : gxWant, gx);
	const tiles = {};
	for (const s of ["ok", "degraded", "silent", "congested", "anomalous", "warmup"])
		tiles[s] = num(await page.textContent('[data-tile="' + s + '"] .v'));
	const counts = { ok: 0, degraded: 0, silent: 0, congested: 0, anomalous: 0, warmup: 0 };
	for (const s of Object.values(want)) counts[s]++;
	check("fleet page: clients per state", counts, tiles);
	const whys = await page.$$eval("#health-clients tr[data-client]", (rows) =>
		Object.fromEntries(rows.map((r) => [r.dataset.client, r.lastElementChild.textContent])));
	for (const [id, s] of Object.entries(bad))
		check("fleet page: client " + id + " explained (" + whys[id] + ")", true,
		      s === "degraded" ? /loss [\d.]+% over SLO/.test(whys[id] || "") : (whys[id] || "").length > 0);

	// the event timeline: the same events as the API, once no more come
	await page.waitForTimeout(1200);
	const api = await apiGet(page, "/api/v1/events");
	await page.waitForFunction((n) => document.querySelectorAll("#health-events tr[data-seq]").length >= n,
				   api.events.length, { timeout: 5000 }).catch(() => {});
	const shown = await page.$$eval("#health-events tr[data-seq]", (rows) => rows.map((r) => {
		const st = r.querySelectorAll("[data-state]");
		return [Number(r.dataset.seq), r.dataset.scope, r.dataset.client, st[0].dataset.state, st[1].dataset.state];
	}));
	const fromApi = api.events.map((e) => [e.seq, e.scope, e.scope === "client" ? String(e.client_id) : "", e.from, e.to])
		.reverse();
	check("timeline: every event of /api/v1/events, newest first", fromApi, shown.slice(0, fromApi.length));
	const lastTo = {};
	for (const e of api.events) lastTo[e.scope === "client" ? "client " + e.client_id : "group " + e.group] = e.to;
	const wantLast = Object.fromEntries(Object.entries(bad).map(([id, s]) => ["client " + id, s]));
	wantLast["group fleet"] = wantGroup;
	check("timeline: transitions of exactly the faulty clients and the group, ending in their verdicts",
	      sorted(wantLast), sorted(lastTo));
	const lanes = await page.$$eval("#health-lanes .lane[data-lane]", (ls) => Object.fromEntries(ls.map((l) => {
		const segs = l.querySelectorAll(".seg");
		return [l.dataset.lane, segs[segs.length - 1].dataset.state];
	})));
	check("timeline lanes: one per client and group with events, each in its last state", sorted(wantLast), sorted(lanes));
	await page.screenshot({ path: path.join(out, "dashboard-health.png"), fullPage: true });

	// the client table's health column
	await page.goto(url + "/#/clients?sort=client_id");
	await page.waitForFunction((n) => {
		const cells = document.querySelectorAll('.vt-row [data-col="health"]');
		return cells.length === n && [...cells].every((c) => c.textContent !== "–");
	}, Object.keys(want).length, { timeout: 10000 }).catch(() => {});
	const col = await page.$$eval(".vt-row", (rows) => Object.fromEntries(rows.map((r) => {
		const c = r.querySelector('[data-col="health"]');
		return [r.dataset.id, { state: c.textContent.split(" ")[0], cls: c.className, tip: c.title }];
	})));
	check("client table: the health column's verdicts",
	      want, Object.fromEntries(Object.entries(col).map(([id, c]) => [id, c.state])));
	check("client table: each verdict in its colour (class hs-STATE)", true,
	      Object.entries(col).every(([id, c]) => c.cls === "hs-" + want[id]));
	check("client table: the faulty clients' tooltips explain (loss, silent)", true,
	      Object.entries(bad).every(([id, s]) => (s === "degraded" ? /loss/ : /.+/).test(col[id].tip)));
	// a loss health sees at once shows in the table at once too: as pending
	// gaps until the sequence window passes them, then as lost
	const gaps = await page.$$eval(".vt-row", (rows) => Object.fromEntries(rows.map((r) => {
		const n = (k) => Number(r.querySelector('[data-col="' + k + '"]').textContent.replace(/,/g, ""));
		return [r.dataset.id, n("lost") + n("pending")];
	})));
	check("client table: the degraded clients' missing datagrams show (lost + pending > 0)", true,
	      Object.entries(bad).every(([id, s]) => s !== "degraded" || gaps[id] > 0));
	await page.screenshot({ path: path.join(out, "dashboard-health-clients.png") });

	// one faulty client's page
	const one = Object.keys(bad).find((id) => bad[id] === "degraded");
	await page.goto(url + "/#/client/" + one);
	await page.waitForSelector("#client-health[data-state]", { timeout: 10000 }).catch(() => {});
	check("client " + one + "'s page: its verdict", "degraded",
	      await page.getAttribute("#client-health", "data-state"));
	check("client " + one + "'s page: the explanation names the loss", true,
	      /loss [\d.]+% over SLO/.test(await page.textContent("#client-health [data-why]")));
	check("client " + one + "'s page: the signals table has loss_pct", 1,
	      await page.locator('#health-signals tr[data-signal="loss_pct"]').count());
	await page.screenshot({ path: path.join(out, "dashboard-health-client.png"), fullPage: true });
	check("health: no console error, failed request or HTTP error", [], errors);
	await browser.close();
}

async function phaseProbes(url, out, want, report, hours) {
	const errors = [];
	const { browser, page } = await open(url + "/#/probes", errors);
	await page.waitForSelector('#probe-devices tr[data-device="fleet"]', { timeout: 15000 }).catch(() => {});
	const rows = await page.$$eval("#probe-devices tr[data-device]", (rs) => Object.fromEntries(rs.map((r) => {
		const t = (k) => r.querySelector('[data-col="' + k + '"]').textContent;
		return [r.dataset.device, { n: [t("downloads"), t("ok"), t("failed")].map((v) => Number(v.replace(/,/g, ""))),
			kinds: t("kinds"), mean: t("speed_mean") }];
	})));
	const fleet = [0, 0, 0];
	for (const v of Object.values(want)) for (let i = 0; i < 3; i++) fleet[i] += v[i];
	check("probes table: downloads, ok, failed per device and of the fleet",
	      Object.assign({}, want, { fleet }),
	      Object.fromEntries(Object.entries(rows).map(([d, r]) => [d, r.n])));
	for (const [d, v] of Object.entries(want))
		if (v[2]) check("probes table: device " + d + "'s failures by kind", "timeout " + v[2], rows[d] && rows[d].kinds);
	const means = Object.fromEntries(report.per_device.filter((d) => d.ok).map((d) => [d.device, d.speed_mbps.mean]));
	for (const [d, m] of Object.entries(means))
		// the page's mean comes from the stored 10 s rollups (sum / count of
		// probe_speed_mbps), the probe's from its own log: equal up to the
		// page's 2 decimals and the float sums (0.1% covers both)
		check("probes table: device " + d + "'s mean speed " + (rows[d] && rows[d].mean) +
		      " as the probe measured it (" + m + ")", true,
		      rows[d] !== undefined && Math.abs(num(rows[d].mean) - m) <= Math.max(0.0051, m * 0.001));
	check("probes tiles: downloads, ok, failed", fleet,
	      [num(await page.textContent('[data-tile="downloads"] .v')), num(await page.textContent('[data-tile="ok"] .v')),
	       num(await page.textContent('[data-tile="failed"] .v'))]);
	check("probes: the speed over time is drawn (points, a canvas)", [true, 1],
	      [num(await page.getAttribute('[data-chart="speed"]', "data-points")) > 0,
	       await page.locator('[data-chart="speed"] canvas').count()]);
	check("probes: the hour-of-day profiles are drawn", [1, 1],
	      [await page.locator('[data-chart="hours"] canvas').count(), await page.locator('[data-chart="hours_ttfb"] canvas').count()]);
	const an = await apiGet(page, "/api/v1/probes/analysis?from=" + Math.floor(Date.now() / 1000 - 86400));
	const hour = Number(await page.getAttribute("#probe-busiest", "data-hour"));
	check("probes: the busiest hour is an hour the run spanned (UTC " + hours.join(", ") + ")", true, hours.includes(hour));
	check("probes: busiest hour and confidence as the analysis API's",
	      [an.busiest_hour.by_speed.hour, an.busiest_hour.by_speed.confidence],
	      [hour, await page.getAttribute("#probe-busiest", "data-confidence")]);
	const eps = await page.locator("#probe-episodes tr[data-device]").count();
	check("probes: the congestion episodes of the analysis API", an.episodes.length, eps);
	await page.screenshot({ path: path.join(out, "dashboard-probes.png"), fullPage: true });

	const dev = Object.keys(want).find((d) => want[d][2]) || Object.keys(want)[0];
	await page.click('#probe-devices tr[data-device="' + dev + '"] a');
	await page.waitForFunction((d) => document.querySelector("h2").textContent.endsWith("device " + d), dev, { timeout: 5000 }).catch(() => {});
	await page.waitForFunction((n) => document.querySelector('[data-tile="downloads"] .v').textContent === String(n),
				   want[dev][0], { timeout: 5000 }).catch(() => {});
	check("probes, device " + dev + "'s page: downloads, ok, failed", want[dev],
	      [num(await page.textContent('[data-tile="downloads"] .v')), num(await page.textContent('[data-tile="ok"] .v')),
	       num(await page.textContent('[data-tile="failed"] .v'))]);
	check("probes, device " + dev + "'s page: its row is the one picked", "sel",
	      await page.getAttribute('#probe-devices tr[data-device="' + dev + '"]', "class"));
	await page.screenshot({ path: path.join(out, "dashboard-probes-device.png"), fullPage: true });
	check("probes: no console error, failed request or HTTP error", [], errors);
	await browser.close();
}

/*
 * docs/PROBES.md's example history (tests/unit/test_probe_history.c plants
 * it): two weeks, four devices every 10 minutes, UTC+1, 40 Mbit/s at 20h
 * and 80 ms at 20h every day, device 2 congested on day 3 (one timeout).
 * The page over the Custom range of those two weeks with the docs'
 * parameters names what docs/PROBES.md names.
 */
async function phaseProbesHistory(url, out) {
	const errors = [];
	const { browser, page } = await open(url + "/#/probes", errors);
	await page.click('[data-range="custom"]');
	await page.fill("#range-from", "2026-11-01T00:00");
	await page.fill("#range-to", "2026-11-15T00:00");
	for (const [k, v] of [["congested_frac", "0.2"], ["min_episode", "3600"], ["tz_offset", "60"]]) {
		await page.fill("#probe-" + k, v);
		await page.dispatchEvent("#probe-" + k, "change");
	}
	await page.click("#range-apply");
	const ready = () => page.waitForFunction(() => document.querySelector('[data-tile="downloads"] .v').textContent === "8,064" &&
		document.querySelectorAll("#probe-episodes tr[data-device]").length === 1 &&
		document.querySelector('[data-chart="hours"] canvas') && document.querySelector('[data-chart="speed"] canvas'),
		null, { timeout: 15000 }).catch(() => {});
	await ready();
	check("example history: downloads, ok, failed of the fleet", [8064, 8063, 1],
	      [num(await page.textContent('[data-tile="downloads"] .v')), num(await page.textContent('[data-tile="ok"] .v')),
	       num(await page.textContent('[data-tile="failed"] .v'))]);
	check("example history: the fleet's failure is a timeout", "timeout 1", await page.textContent('[data-tile="failed"] .s'));
	const rows = await page.$$eval("#probe-devices tr[data-device]", (rs) => Object.fromEntries(rs.map((r) =>
		[r.dataset.device, ["downloads", "ok", "failed"].map((k) => Number(r.querySelector('[data-col="' + k + '"]').textContent.replace(/,/g, "")))])));
	check("example history: per device", { 1: [2016, 2016, 0], 2: [2016, 2015, 1], 3: [2016, 2016, 0], 4: [2016, 2016, 0], fleet: [8064, 8063, 1] }, rows);
	check("example history: busiest hour by speed and by response time (UTC+1)", ["20:00 (high)", "20:00 (high)"],
	      [await page.textContent('[data-tile="busy_speed"] .v'), await page.textContent('[data-tile="busy_ttfb"] .v')]);
	check("example history: busiest hour's mean and downloads", ["40.0 Mbit/s over 336", "80.0 ms over 336"],
	      [await page.textContent('[data-tile="busy_speed"] .s'), await page.textContent('[data-tile="busy_ttfb"] .s')]);
	check("example history: the runner-up by speed named", true,
	      (await page.textContent("#probe-busiest")).includes("runner-up 21:00 (90.00 over 336)"));
	const eps = await page.$$eval("#probe-episodes tr[data-device]", (rs) => rs.map((r) =>
		[Number(r.dataset.device), Number(r.dataset.start), ...[...r.children].slice(4, 6).map((c) => Number(c.textContent))]));
	check("example history: one congestion episode: device 2 from 2026-11-03 02:05 UTC, 18 downloads, 1 timeout",
	      [[2, Date.UTC(2026, 10, 3, 2, 5) / 1000, 18, 1]], eps);
	check("example history: the hour profile's title names the zone", true,
	      (await page.textContent('[data-chart="hours"]')).includes("UTC+1"));
	check("example history: speed over time of 4 devices drawn", [true, 1],
	      [num(await page.getAttribute('[data-chart="speed"]', "data-points")) > 0, await page.locator('[data-chart="speed"] canvas').count()]);
	await page.screenshot({ path: path.join(out, "dashboard-probes-history.png"), fullPage: true });
	check("example history: no console error, failed request or HTTP error", [], errors);
	await browser.close();
}

async function main() {
	const [phase, url, out, ...args] = process.argv.slice(2);
	fs.mkdirSync(out, { recursive: true });
	if (phase === "health") await phaseHealth(url, out, JSON.parse(args[0]), args[1]);
	else if (phase === "probes")
		await phaseProbes(url, out, JSON.parse(args[0]), JSON.parse(fs.readFileSync(args[1], "utf8")),
				  args[2].split(",").map(Number));
	else if (phase === "probes-history") await phaseProbesHistory(url, out);
	else throw new Error("unknown phase " + phase);
	process.exit(counts.fails ? 1 : 0);
}
main().catch((e) => { console.log("FAIL the checks stopped: " + (e && e.stack ? e.stack : e)); process.exit(1); });
