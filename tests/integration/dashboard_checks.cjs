// SPDX-License-Identifier: MIT
/*
 * The dashboard as a person uses it (tests/integration/test_dashboard.sh):
 * headless Chromium (Debian's, through playwright-core) opens the page the
 * collector serves and reads what it shows, never the page's variables.
 * Every check prints "ok   what" or "FAIL what: expected X, got Y".
 *
 * usage: node dashboard_checks.cjs PHASE URL OUTDIR [ARGS]
 *   live    while the load generator sends: no console errors, the fleet
 *           totals change between two intervals, the client table lists
 *           ARGS[0] clients; screenshots of the overview, the table and a
 *           client page into OUTDIR
 *   exact   after it stopped: every client's row (received, lost,
 *           duplicates, reordered, state) and the fleet tiles equal the
 *           load generator's report ARGS[0] exactly; the table's sort and
 *           filter show the right rows; the 15 min range from the history
 *           API holds every datagram sent; a client's history
 *   nodb    a collector without --db, with tokens ARGS[0]: the page logs
 *           in, shows no Devices link, says a past range has no history
 *           and why, and asks nothing that answers 404 (no console error)
 *   devices-setup   with --http-tokens, --db, --inventory-only: the page
 *           asks for a token, gets the admin token ARGS[0]; on the Devices
 *           page add devices 1 and 2, rename 1 (Edit), disable 2
 *   devices-check   after the load generator's clients 1..3 sent (report
 *           ARGS[0]): the table lists client 1 alone, by its name, with
 *           every datagram; the XDP drops tile holds every datagram of 2
 *           (disabled) and 3 (not in the inventory); the Devices page
 *           shows 2 disabled with none received; Remove deletes it
 */
"use strict";
const fs = require("fs");
const path = require("path");
const { counts, check, num, launch, open } = require("../lib/browser_checks.cjs");

// With --http-tokens the page asks for a token: type it in.
async function login(page, token) {
	await page.waitForSelector("#login:not([hidden])", { timeout: 10000 });
	check("with --http-tokens the page asks for a token", true, await page.isVisible("#login-token"));
	await page.fill("#login-token", token);
	await page.click('#login-form button[type="submit"]');
	await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
}

async function tileText(page, key) {
	return page.textContent('[data-tile="' + key + '"] .v');
}

// The rows the virtualized table shows: {id: {col: text}}.
async function tableRows(page) {
	return page.$$eval(".vt-row", (rows) => {
		const out = {};
		for (const r of rows) {
			const o = {};
			for (const c of r.children) o[c.dataset.col] = c.textContent;
			out[r.dataset.id] = o;
		}
		return out;
	});
}

async function waitCount(page, n) {
	await page.waitForFunction((n) => {
		const c = document.querySelector("[data-count]");
		return c && c.textContent.startsWith(n + " of ");
	}, n, { timeout: 10000 }).catch(() => {});
	return page.textContent("[data-count]");
}

async function phaseLive(url, out, nClients) {
	const errors = [];
	const { browser, page } = await open(url + "/#/", errors);
	check("the page's title", "XTel dashboard", await page.title());
	const r1 = num(await tileText(page, "received"));
	await page.waitForFunction((r1) => {
		const v = document.querySelector('[data-tile="received"] .v');
		return v && Number(v.textContent.replace(/,/g, "")) > r1;
	}, r1, { timeout: 10000 }).catch(() => {});
	const r2 = num(await tileText(page, "received"));
	check("live: the received tile grows between intervals", true, r2 > r1);
	check("live: datagrams/s is above 0", true, num(await tileText(page, "pkt_s")) > 0);
	// a few points on the charts, then the picture
	await page.waitForTimeout(2500);
	check("overview: the rate chart is drawn", 1, await page.$$eval('[data-chart="rate"] canvas', (c) => c.length));
	await page.screenshot({ path: path.join(out, "dashboard-overview.png") });

	await page.click('a[data-nav="clients"]');
	const count = await waitCount(page, nClients);
	check("table: lists the load generator's clients", nClients + " of " + nClients + " clients", count);
	const rows = await tableRows(page);
	check("table: one row per client in the DOM", nClients, Object.keys(rows).length);
	await page.screenshot({ path: path.join(out, "dashboard-clients.png") });

	await page.click('.vt-row[data-id="1"]');
	await page.waitForSelector("#metric-table tr[data-metric]", { timeout: 10000 }).catch(() => {});
	check("client page: the route", "#/client/1", await page.evaluate(() => location.hash));
	await page.waitForTimeout(2500);
	check("client page: its metric 'temp' is listed", 1,
	      await page.$$eval('#metric-table tr[data-metric="temp"]', (r) => r.length));
	check("client page: a chart per metric", true,
	      (await page.$$eval('[data-metric="temp"] canvas', (c) => c.length)) > 0);
	await page.screenshot({ path: path.join(out, "dashboard-client.png"), fullPage: true });
	check("no console errors, failed requests or HTTP errors", [], errors);
	await browser.close();
}

function expect(r) {
	return {
		received: r.sent, lost: r.injected_loss, duplicates: r.injected_dup,
		reordered: r.reorder_held - r.reorder_in_order,
	};
}

async function phaseExact(url, out, reportPath) {
	const rep = JSON.parse(fs.readFileSync(reportPath, "utf8"));
	const errors = [];
	const { browser, page } = await open(url + "/#/clients", errors);
	const n = rep.clients.length;
	check("table: every client", n + " of " + n + " clients", await waitCount(page, n));
	// every datagram, including the BYEs, is in the table
	await page.waitForFunction((n) => document.querySelectorAll(".vt-row .st-bye").length === n,
				   n, { timeout: 10000 }).catch(() => {});
	const rows = await tableRows(page);
	const want = {}, got = {};
	for (const c of rep.clients) {
		want[c.client_id] = Object.assign({ state: "bye" }, expect(c), { pending: 0 });
		const r = rows[c.client_id] || {};
		got[c.client_id] = {
			state: r.state, received: num(r.received), lost: num(r.lost),
			duplicates: num(r.duplicates), reordered: num(r.reordered),
			pending: num(r.pending),
		};
	}
	check("table: every client's received, lost, duplicates, reordered, state = loadgen, pending 0 after BYE", want, got);

	// sort by received, descending: the first row has the most
	await page.click('[data-sort="received"]');
	const top = [...rep.clients].sort((a, b) => b.sent - a.sent || a.client_id - b.client_id)[0];
	check("table: sorted by received (desc), the first row",
	      String(top.client_id), await page.getAttribute(".vt-row >> nth=0", "data-id"));
	await page.fill("#client-filter", "2-3");
	await page.waitForTimeout(200);
	check("table: the filter 2-3 shows clients 2 and 3", ["2", "3"].sort(),
	      (await page.$$eval(".vt-row", (r) => r.map((x) => x.dataset.id))).sort());

	await page.click('a[data-nav="overview"]');
	await page.waitForSelector('[data-tile="received"] .v');
	const t = expect(rep.totals);
	check("overview: received, lost, duplicates, reordered tiles = loadgen totals",
	      [t.received, t.lost, t.duplicates, t.reordered],
	      [num(await tileText(page, "received")), num(await tileText(page, "lost")),
	       num(await tileText(page, "duplicates")), num(await tileText(page, "reordered"))]);

	// a past range from the history API (--db): the fleet's 15 minutes
	await page.click('[data-range="900"]');
	await page.waitForFunction(() => {
		const n = document.querySelector("[data-history]");
		return n && n.dataset.history !== undefined;
	}, null, { timeout: 10000 }).catch(() => {});
	const hist = await page.$eval("[data-history]", (n) => ({ points: n.dataset.history, received: n.dataset.received }));
	check("history 15 min: the fleet has points", true, Number(hist.points) > 0);
	check("history 15 min: datagrams received in the range = loadgen sent", rep.totals.sent, Number(hist.received));
	check("history 15 min: the rate chart is drawn from them", 1,
	      await page.$$eval('[data-chart="rate"] canvas', (c) => c.length));
	await page.screenshot({ path: path.join(out, "dashboard-history.png") });

	// Custom: from 10 minutes ago to a minute ahead, typed as a person would
	await page.click('[data-range="custom"]');
	const local = (t) => { const d = new Date(t - new Date().getTimezoneOffset() * 60000); return d.toISOString().slice(0, 16); };
	await page.fill("#range-from", local(Date.now() - 600000));
	await page.fill("#range-to", local(Date.now() + 60000));
	await page.$eval("[data-history]", (n) => { delete n.dataset.history; });
	await page.click("#range-apply");
	await page.waitForFunction(() => {
		const n = document.querySelector("[data-history]");
		return n && n.dataset.history !== undefined;
	}, null, { timeout: 10000 }).catch(() => {});
	check("history custom range: datagrams received in it = loadgen sent", rep.totals.sent,
	      Number(await page.$eval("[data-history]", (n) => n.dataset.received)));
	await page.click('[data-range="900"]');

	// one client's range: its 10 s rows are written once a 10 s bucket closed
	await page.evaluate(() => { location.hash = "#/client/1"; });
	let pts = 0;
	for (let i = 0; i < 10 && !(pts > 0); i++) {
		await page.click('[data-range="900"]');
		await page.waitForFunction(() => {
			const n = document.querySelector("#client-history");
			return n && n.dataset.history !== undefined;
		}, null, { timeout: 5000 }).catch(() => {});
		pts = Number(await page.$eval("#client-history", (n) => n.dataset.history));
		if (!(pts > 0)) {
			await page.$eval("#client-history", (n) => { delete n.dataset.history; });
			await page.waitForTimeout(2000);
		}
	}
	check("history 15 min: client 1 has points", true, pts > 0);
	check("history 15 min: client 1's metric temp has a chart", true,
	      (await page.$$eval('[data-metric="temp"] canvas', (c) => c.length)) > 0);
	await page.screenshot({ path: path.join(out, "dashboard-client-history.png"), fullPage: true });
	check("no console errors, failed requests or HTTP errors", [], errors);
	await browser.close();
}

async function saveDevice(page, fields) {
	for (const [k, v] of Object.entries(fields)) await page.fill("#dev-" + k, String(v));
	await page.click("#dev-save");
	await page.waitForFunction(() => {
		const t = document.querySelector("#device-msg").textContent;
		return t && t !== "Saving…";
	}, null, { timeout: 10000 });
	return page.textContent("#device-msg");
}

async function phaseNoDb(url, out, token) {
	const errors = [];
	const { browser, page } = await launch(errors);
	page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
	await page.goto(url + "/#/");
	await login(page, token);
	// the 401s that made the page ask for a token are the browser's
	// console errors too: count from here
	errors.length = 0;
	await page.click('[data-range="3600"]');
	await page.waitForFunction(() => /^No history/.test(document.querySelector(".note").textContent),
				   null, { timeout: 10000 }).catch(() => {});
	check("without --db: the 1 h range says there is no history, and why",
	      "No history: the collector keeps no history (run it with --db FILE).", await page.textContent(".note"));
	check("without --db: no Devices link", false, await page.isVisible('a[data-nav="devices"]'));
	check("without --db: no console errors after the login (nothing asked answers 404)", [], errors);
	await browser.close();
}

async function phaseDevicesSetup(url, out, token) {
	const errors = [];
	const { browser, page } = await launch(errors);
	await page.goto(url + "/#/devices");
	await login(page, token);
	await page.waitForSelector('a[data-nav="devices"]:not([hidden])', { timeout: 10000 });
	await page.click('a[data-nav="devices"]');
	await page.waitForSelector("#device-table");
	check("add device 1", "Device 1 added.", await saveDevice(page, { id: 1, name: "sensor-one", site: "fra1", rack: "r12", role: "edge" }));
	check("add device 2", "Device 2 added.", await saveDevice(page, { id: 2, name: "sensor-two", site: "fra1" }));
	await page.click('tr[data-device="1"] [data-act="edit"]');
	check("edit device 1: the name sensor-1", "Device 1 saved.", await saveDevice(page, { name: "sensor-1" }));
	await page.click('tr[data-device="2"] [data-act="toggle"]');
	await page.waitForFunction(() => {
		const c = document.querySelector('tr[data-device="2"] [data-col="enabled"]');
		return c && c.textContent === "disabled";
	}, null, { timeout: 10000 }).catch(() => {});
	check("disable device 2: the page shows it disabled", "disabled",
	      await page.textContent('tr[data-device="2"] [data-col="enabled"]'));
	check("the inventory's two devices are listed", ["1", "2"],
	      await page.$$eval("tr[data-device]", (r) => r.map((x) => x.dataset.device)));
	await page.screenshot({ path: path.join(out, "dashboard-devices.png") });
	check("no page errors", [], errors);
	await browser.close();
}

async function phaseDevicesCheck(url, out, reportPath, token) {
	const rep = JSON.parse(fs.readFileSync(reportPath, "utf8"));
	const sent = {};
	for (const c of rep.clients) sent[c.client_id] = c.sent;
	const errors = [];
	const { browser, page } = await launch(errors);
	await page.goto(url + "/#/clients");
	await login(page, token);
	const count = await waitCount(page, 1);
	check("table: only client 1 got in", "1 of 1 clients", count);
	await page.waitForFunction(() => {
		const c = document.querySelector('.vt-row[data-id="1"] [data-col="name"]');
		return c && c.textContent === "sensor-1";
	}, null, { timeout: 12000 }).catch(() => {});
	const rows = await tableRows(page);
	check("table: client 1 by its device name, every datagram",
	      { name: "sensor-1", received: sent[1] },
	      { name: (rows[1] || {}).name, received: num((rows[1] || {}).received) });
	await page.click('a[data-nav="overview"]');
	await page.waitForSelector('[data-tile="xdp"] .v');
	check("overview: XDP drops = every datagram of 2 (disabled) and 3 (unknown)",
	      sent[2] + sent[3], num(await tileText(page, "xdp")));
	await page.click('a[data-nav="devices"]');
	await page.waitForSelector('tr[data-device="2"]');
	check("devices: 2 is disabled and received nothing", ["disabled", 0],
	      [await page.textContent('tr[data-device="2"] [data-col="enabled"]'),
	       num(await page.textContent('tr[data-device="2"] [data-col="received"]'))]);
	check("devices: 1 received every datagram", sent[1],
	      num(await page.textContent('tr[data-device="1"] [data-col="received"]')));
	await page.click('tr[data-device="2"] [data-act="remove"]');
	await page.waitForFunction(() => !document.querySelector('tr[data-device="2"]'), null, { timeout: 10000 }).catch(() => {});
	check("devices: Remove took device 2 out of the inventory", ["1"],
	      await page.$$eval("tr[data-device]", (r) => r.map((x) => x.dataset.device)));
	check("no page errors", [], errors);
	await browser.close();
}

(async () => {
	const [phase, url, out, arg, arg2] = process.argv.slice(2);
	fs.mkdirSync(out, { recursive: true });
	try {
		if (phase === "live") await phaseLive(url, out, Number(arg));
		else if (phase === "exact") await phaseExact(url, out, arg);
		else if (phase === "nodb") await phaseNoDb(url, out, arg);
		else if (phase === "devices-setup") await phaseDevicesSetup(url, out, arg);
		else if (phase === "devices-check") await phaseDevicesCheck(url, out, arg, arg2);
		else throw new Error("unknown phase " + phase);
	} catch (e) {
		counts.fails++;
		console.log("FAIL " + phase + ": " + e.message.split("\n")[0]);
	}
	console.log(counts.passes + " passed, " + counts.fails + " failed");
	process.exit(counts.fails ? 1 : 0);
})();
