// SPDX-License-Identifier: MIT
/*
 * The XTel dashboard (docs/DASHBOARD.md): plain JavaScript, no build step
 * beyond gen_assets.py embedding it. One EventSource on /api/v1/stream
 * feeds everything live: the fleet totals of each interval become points of
 * the overview's charts, and the client rows of each event (the whole table
 * first, then only the rows that changed) update one Map of clients, which
 * the virtualized table draws (only the rows in sight are in the DOM, so
 * 10,000 clients scroll and sort without freezing the page). A client's
 * page adds /api/v1/clients/{id} once per event for its metrics. Past time
 * ranges come from the history API when the collector has one.
 *
 * Routes are the hash: #/ (overview), #/clients, #/client/ID, #/devices,
 * and those other files add (health.js, probes.js: see X below).
 */
(function () {
	"use strict";

	const LIVE_POINTS = 900;	// points per live series (15 min at 1 s)
	const ROW_H = 26;		// px, as --row in app.css

	const S = {
		token: sessionStorage.getItem("xtel_token") || "",
		es: null,
		seq: 0,
		cols: null,		// the stream's row columns
		clients: new Map(),	// id -> row object
		totals: null, prevTotals: null, lastEvent: null,
		live: newSeries(),	// the overview's live series
		one: null,		// the open client's live series
		range: "live",		// "live", seconds back, or "custom"
		custom: null,		// {from, to} Unix seconds
		charts: [],		// uPlot instances of the current view
		view: null,		// the current view's update(), on each event
		devices: null,		// Map id -> device (devices API), or null
		hasHistory: null,	// the history API answers
	};
	/*
	 * Pages of other files (health.js, probes.js), loaded before this one:
	 * each queues a function on window.xtelExt, called with X at start.
	 * routes: {re, nav, view(root, match)}; columns: client table columns
	 * as COLS plus after (a key), v(row) (the value, for sorting) and
	 * cell(div, row); clientParts: f(root, id) -> {update(ev)} on a
	 * client's page; onEvent: f(ev) on each stream event.
	 */
	const X = { routes: [], columns: [], clientParts: [], onEvent: [] };

	// ---- helpers ----

	function $(sel, root) { return (root || document).querySelector(sel); }
	function el(tag, attrs, ...kids) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (k === "class") e.className = v;
			else if (k === "text") e.textContent = v;
			else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
			else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
		}
		for (const k of kids) if (k !== null && k !== undefined) e.append(k);
		return e;
	}
	const nf = new Intl.NumberFormat("en-US");
	function fmtInt(v) { return v === null || v === undefined ? "–" : nf.format(v); }
	function fmtNum(v, d) {
		if (v === null || v === undefined || Number.isNaN(v)) return "–";
		return v.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
	}
	function fmtRate(v) {
		if (v === null || v === undefined) return "–";
		if (v >= 1e6) return fmtNum(v / 1e6, 2) + " M";
		if (v >= 1e4) return fmtNum(v / 1e3, 1) + " k";
		return fmtNum(v, v < 10 ? 2 : 0);
	}
	function fmtAge(s) {
		if (s === null || s === undefined) return "–";
		if (s < 1) return "now";
		if (s < 120) return Math.round(s) + " s ago";
		if (s < 7200) return Math.round(s / 60) + " min ago";
		return Math.round(s / 3600) + " h ago";
	}

	async function api(path, opts) {
		const o = Object.assign({ headers: {} }, opts || {});
		if (S.token) o.headers.Authorization = "Bearer " + S.token;
		const r = await fetch(path, o);
		if (r.status === 401) {
			showLogin("the collector refused the token");
			throw new Error("unauthorized");
		}
		let body = null;
		const ct = r.headers.get("Content-Type") || "";
		if (ct.startsWith("application/json")) body = await r.json();
		else body = await r.text();
		return { status: r.status, body };
	}

	function setStatus(state, text) {
		const s = $("#status");
		s.dataset.state = state;
		s.textContent = text;
	}

	// ---- series ----

	// The overview's series: columns of one uPlot data array each.
	function newSeries() {
		return { t: [], pkt_s: [], mb_s: [], loss: [], dtls: [], xdp: [],
			 drops: {}, lat_p50: [], lat_p99: [] };
	}
	function pushCapped(a, v) {
		a.push(v);
		if (a.length > LIVE_POINTS) a.shift();
	}

	/*
	 * One interval's figures from two successive totals: rates per second
	 * and the interval's loss % (new gaps / (unique received + new gaps) of
	 * the interval, not of the run). New gaps count those still pending: a
	 * gap is confirmed lost only when the 1,024-wide sequence window passes
	 * it, which at 100 datagrams/s is 10 s later (the health inference
	 * counts them the same way).
	 */
	function gapsOf(c, p) {
		return p ? Math.max(0, c.lost + c.pending - (p.lost + p.pending)) : 0;
	}
	function intervalOf(t, p, dt) {
		const d = (k) => (p ? Math.max(0, t[k] - p[k]) : 0);
		const uniq = d("received") - d("duplicates");
		const lost = d("lost"), gaps = gapsOf(t, p);
		return {
			loss: uniq + gaps > 0 ? (100 * gaps) / (uniq + gaps) : 0,
			errors: dt > 0 ? (lost + d("duplicates") + d("too_late")) / dt : 0,
			dropsPerS: (name) => (p && dt > 0 ? Math.max(0, t.drops[name] - p.drops[name]) / dt : 0),
			xdpPerS: p && dt > 0 ? Math.max(0, t.xdp.dropped - p.xdp.dropped) / dt : 0,
		};
	}

	function addLive(ev) {
		const t = ev.totals, p = S.prevTotals, L = S.live;
		const iv = intervalOf(t, p, ev.dt_s);
		const ts = ev.taken_ns / 1e9;
		pushCapped(L.t, ts);
		pushCapped(L.pkt_s, t.pkt_s);
		pushCapped(L.mb_s, t.mb_s);
		pushCapped(L.loss, iv.loss);
		pushCapped(L.dtls, t.dtls_sessions);
		pushCapped(L.xdp, iv.xdpPerS);
		pushCapped(L.lat_p50, t.latency_us.p50);
		pushCapped(L.lat_p99, t.latency_us.p99);
		// a reason gets a series once it was ever counted
		for (const name of Object.keys(t.drops)) {
			if (!L.drops[name] && t.drops[name] > 0)
				L.drops[name] = L.t.slice(0, -1).map(() => 0);
			if (L.drops[name]) pushCapped(L.drops[name], iv.dropsPerS(name));
		}
	}

	// ---- the stream ----

	function applyRows(ev) {
		if (!ev.rows) return;
		if (ev.cols) S.cols = ev.cols;
		if (ev.full) S.clients.clear();
		const c = S.cols;
		for (const r of ev.rows) {
			const o = {};
			for (let i = 0; i < c.length; i++) o[c[i]] = r[i];
			S.clients.set(o.client_id, o);
		}
	}

	function connect() {
		if (S.es) S.es.close();
		const url = "/api/v1/stream" + (S.token ? "?token=" + encodeURIComponent(S.token) : "");
		const es = new EventSource(url);
		S.es = es;
		es.addEventListener("interval", (m) => {
			const ev = JSON.parse(m.data);
			S.seq = ev.seq;
			applyRows(ev);
			if (!S.lastEvent || ev.seq !== S.lastEvent.seq) {
				addLive(ev);
				S.prevTotals = ev.totals;
			}
			S.totals = ev.totals;
			S.lastEvent = ev;
			setStatus("live", "live · view " + ev.seq + (ev.final ? " (final)" : "") +
				  " · " + fmtInt(ev.totals.clients) + " clients");
			for (const f of X.onEvent) f(ev);
			if (S.view && S.view.update) S.view.update(ev);
		});
		es.onerror = () => {
			setStatus("error", "stream lost: reconnecting…");
			// a refused token closes the stream for good: ask for one
			if (es.readyState === EventSource.CLOSED) probeAuth();
		};
	}

	async function probeAuth() {
		try {
			const r = await api("/api/v1/totals");
			if (r.status === 200 || r.status === 503) connect();
		} catch (e) { /* showLogin was called */ }
	}

	function showLogin(msg) {
		$("#login").hidden = false;
		$("#login-err").textContent = S.token ? msg : "";
		$("#login-token").focus();
	}

	// ---- charts ----

	const PALETTE = ["#2361c7", "#c0392b", "#2e8540", "#b7791f", "#7d3cb5",
			 "#138d90", "#d35400", "#5d6d7e", "#e84393", "#16a085"];

	function destroyCharts() {
		for (const c of S.charts) c.u.destroy();
		S.charts = [];
	}

	/*
	 * A chart in box: title, y label, series labels. data() gives the
	 * uPlot data array. Dragging zooms the x axis; a double click
	 * resets it, and live updates follow the data again.
	 */
	function chart(box, title, labels, data, fmt) {
		const width = Math.max(300, box.clientWidth - 12);
		const series = [{}].concat(labels.map((l, i) => ({
			label: l, stroke: PALETTE[i % PALETTE.length], width: 1.5,
			value: (u, v) => (v === null || v === undefined ? "–" : fmt(v)),
		})));
		const c = { zoomed: false, data };
		const opts = {
			title, width, height: 200, series,
			// a flat series gets a y range from 0, not uPlot's +-100
			// a past range spans its bounds, whatever points it has
			scales: { x: { time: true, range: (u, lo, hi) => {
				const b = S.range !== "live" && !c.zoomed ? S.bounds : null;
				return b ? [b.from, b.to] : (lo === hi ? [lo - 1, hi + 1] : [lo, hi]);
			} }, y: { range: (u, lo, hi) =>
				(lo === hi || lo === null ? [Math.min(0, lo || 0), hi > 0 ? hi * 1.25 : 1]
					: uPlot.rangeNum(Math.min(0, lo), hi, 0.1, true)) } },
			axes: [{}, { values: (u, vals) => vals.map((v) => fmt(v)), size: 70 }],
			cursor: { drag: { x: true, y: false } },
			legend: { live: true },
			hooks: { setSelect: [() => { c.zoomed = true; }] },
		};
		c.u = new uPlot(opts, data(), box);
		box.addEventListener("dblclick", () => { c.zoomed = false; c.u.setData(data(), true); });
		c.box = box;
		c.labels = labels;
		S.charts.push(c);
		return c;
	}
	function refresh() {
		for (const c of S.charts) c.u.setData(c.data(), !c.zoomed);
	}
	window.addEventListener("resize", () => {
		for (const c of S.charts)
			c.u.setSize({ width: Math.max(300, c.box.clientWidth - 12), height: 200 });
	});

	// ---- history (past ranges) ----

	function rangeBounds() {
		const now = Date.now() / 1000;
		if (S.range === "custom" && S.custom) return S.custom;
		return { from: now - Number(S.range), to: now };
	}
	/*
	 * Seconds per point for about 600 points: the first "round" step that
	 * gives at most that many. The history API wants a multiple of 10 for
	 * one client (its finest tier is 10 s) and of 1 for the fleet (1 s).
	 */
	const STEPS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400];
	function stepFor(b, min) {
		const want = (b.to - b.from) / 600;
		return STEPS.find((x) => x >= min && x >= want) || 86400;
	}
	function rangeQuery(b, min) {
		return "from=" + Math.floor(b.from) + "&to=" + Math.ceil(b.to) + "&step=" + stepFor(b, min);
	}
	/*
	 * Whether the collector has --db (history and the inventory):
	 * /api/v1/stats says so ("db" null without), so the page never asks
	 * an endpoint that would answer 404.
	 */
	let dbProbe = null;
	function hasDb() {
		if (!dbProbe)
			dbProbe = api("/api/v1/stats").then((r) => r.status === 200 && r.body.db !== null,
							 () => { dbProbe = null; return false; });
		return dbProbe;
	}

	function historyError(r) {
		if (r.body && r.body.error && r.body.error.code === "no_history")
			return NO_DB;
		return r.body && r.body.error ? r.body.error.message : "status " + r.status;
	}
	const perS = (v, dt) => (v === null || v === undefined || !dt ? null : v / dt);

	/*
	 * The fleet over a past range (GET /api/v1/history/totals) in the
	 * overview's series, and what the note says of it: points, step, and
	 * the datagrams received and lost in the range.
	 */
	const NO_DB = "the collector keeps no history (run it with --db FILE)";
	async function loadTotalsHistory(b) {
		if (!(await hasDb())) return { err: NO_DB };
		const r = await api("/api/v1/history/totals?" + rangeQuery(b, 1));
		if (r.status !== 200 || typeof r.body !== "object") {
			S.hasHistory = false;
			return { err: historyError(r) };
		}
		S.hasHistory = true;
		const L = newSeries();
		let received = 0, lost = 0;
		L.drops["all reasons"] = [];
		for (const p of r.body.points) {
			L.t.push(p.ts);
			L.pkt_s.push(p.pkt_s);
			L.mb_s.push(p.mb_s);
			L.loss.push(p.loss_pct);
			L.dtls.push(p.dtls_sessions);
			L.xdp.push(perS(p.xdp_dropped, p.dt_s));
			L.drops["all reasons"].push(perS(p.dropped, p.dt_s));
			L.lat_p50.push(p.latency.p50);
			L.lat_p99.push(p.latency.p99);
			received += p.received;
			lost += p.lost;
		}
		return { s: L, step: r.body.step, received, lost };
	}

	/*
	 * One client over a past range: its counters and latency
	 * (metric=acct) and each of its metrics (metric=KEY, the mean of
	 * each point), in the client page's series.
	 */
	async function loadClientHistory(id, b, keys) {
		if (!(await hasDb())) return { err: NO_DB };
		const q = "client_id=" + id + "&" + rangeQuery(b, 10);
		const r = await api("/api/v1/history?" + q);
		if (r.status !== 200 || typeof r.body !== "object") return { err: historyError(r) };
		const step = r.body.step;
		const O = { id, t: [], mb_s: [], pkt_s: [], loss: [], dup: [], reord: [], err: [],
			    p50: [], p99: [], max: [], metrics: {} };
		for (const p of r.body.points) {
			O.t.push(p.ts);
			O.mb_s.push(p.bytes / step / 1e6);
			O.pkt_s.push(p.received / step);
			O.loss.push(p.loss_pct);
			O.dup.push(p.duplicates / step);
			O.reord.push(p.reordered / step);
			O.err.push((p.lost + p.duplicates + p.too_late) / step);
			O.p50.push(p.latency.p50);
			O.p99.push(p.latency.p99);
			O.max.push(p.latency.max);
		}
		const at = new Map(O.t.map((t, i) => [t, i]));
		await Promise.all(keys.map(async (k) => {
			const m = await api("/api/v1/history?client_id=" + id + "&metric=" + encodeURIComponent(k) +
					    "&" + rangeQuery(b, 10));
			O.metrics[k] = O.t.map(() => null);
			if (m.status !== 200) return;
			for (const p of m.body.points)
				if (at.has(p.ts)) O.metrics[k][at.get(p.ts)] = p.mean;
		}));
		return { O, step };
	}

	// ---- overview ----

	function tile(key, label) {
		return el("div", { class: "tile", "data-tile": key },
			  el("div", { class: "k", text: label }), el("div", { class: "v", text: "–" }));
	}
	function setTile(root, key, text, bad, sub) {
		const t = $('[data-tile="' + key + '"]', root);
		if (!t) return;
		$(".v", t).textContent = text;
		t.classList.toggle("bad", !!bad);
		if (sub !== undefined) {
			let s = $(".s", t);
			if (!s) t.append((s = el("div", { class: "s" })));
			s.textContent = sub;
		}
	}

	// The lost tile's note: gaps not yet confirmed (they are lost or late
	// reordered; the window decides within 1,024 sequence numbers).
	function pendingNote(c) {
		return c.pending > 0 ? "+" + fmtInt(c.pending) + " pending" : "";
	}

	function viewOverview(root) {
		root.append(el("h2", { text: "Fleet" }));
		const tiles = el("div", { class: "tiles" },
			tile("clients", "clients"), tile("pkt_s", "datagrams/s"),
			tile("mb_s", "MB/s"), tile("loss", "loss % (run)"), tile("received", "received"),
			tile("lost", "lost"), tile("duplicates", "duplicates"), tile("reordered", "reordered"),
			tile("dropped", "dropped (all reasons)"), tile("xdp", "XDP drops"),
			tile("dtls", "DTLS sessions"), tile("p99", "latency p99 (µs)"));
		root.append(tiles);
		const note = el("p", { class: "note" });
		root.append(note);
		const grid = el("div", { class: "charts" });
		root.append(grid);
		const boxes = {};
		for (const k of ["rate", "mbs", "loss", "drops", "xdp", "dtls", "lat"]) {
			boxes[k] = el("div", { class: "chart", "data-chart": k });
			grid.append(boxes[k]);
		}
		let src = S.live;
		let dropNames = [];
		function build() {
			destroyCharts();
			for (const b of Object.values(boxes)) b.textContent = "";
			chart(boxes.rate, "Datagrams/s", ["datagrams/s"], () => [src.t, src.pkt_s], fmtRate);
			chart(boxes.mbs, "MB/s", ["MB/s"], () => [src.t, src.mb_s], (v) => fmtNum(v, 3));
			chart(boxes.loss, "Loss % (per interval)", ["loss %"], () => [src.t, src.loss], (v) => fmtNum(v, 3));
			dropNames = Object.keys(src.drops);
			if (dropNames.length)
				chart(boxes.drops, "Drops/s by reason", dropNames,
				      () => [src.t].concat(dropNames.map((n) => src.drops[n])), fmtRate);
			else
				boxes.drops.append(el("div", { class: "empty", text: "Drops/s by reason: none counted" }));
			chart(boxes.xdp, "XDP drops/s", ["XDP drops/s"], () => [src.t, src.xdp], fmtRate);
			chart(boxes.dtls, "DTLS sessions", ["sessions"], () => [src.t, src.dtls], fmtInt);
			chart(boxes.lat, "Latency (µs, whole run)", ["p50", "p99"],
			      () => [src.t, src.lat_p50, src.lat_p99], (v) => fmtNum(v, 1));
		}
		function tiles_(t) {
			setTile(root, "clients", fmtInt(t.clients), false,
				t.live + " live · " + t.stale + " stale · " + t.bye + " bye");
			setTile(root, "pkt_s", fmtRate(t.pkt_s));
			setTile(root, "mb_s", fmtNum(t.mb_s, 3));
			setTile(root, "loss", fmtNum(t.loss_pct, 3), t.loss_pct > 0);
			setTile(root, "received", fmtInt(t.received));
			setTile(root, "lost", fmtInt(t.lost), t.lost > 0, pendingNote(t));
			setTile(root, "duplicates", fmtInt(t.duplicates));
			setTile(root, "reordered", fmtInt(t.reordered));
			setTile(root, "dropped", fmtInt(t.dropped_total), t.dropped_total > 0);
			setTile(root, "xdp", t.xdp.on ? fmtInt(t.xdp.dropped) : "off");
			setTile(root, "dtls", fmtInt(t.dtls_sessions));
			setTile(root, "p99", fmtNum(t.latency_us.p99, 1));
		}
		async function load() {
			if (S.range === "live") {
				src = S.live;
				note.textContent = "Live: one point per collector interval, the last " + LIVE_POINTS +
					" kept in the page. Drag across a chart to zoom, double-click to reset.";
				build();
				return;
			}
			note.textContent = "Loading history…";
			const h = await loadTotalsHistory((S.bounds = rangeBounds()));
			if (h.err) {
				note.textContent = "No history: " + h.err + ".";
				note.dataset.history = "none";
				src = newSeries();
			} else {
				src = h.s;
				note.dataset.history = src.t.length;
				note.dataset.received = h.received;
				note.textContent = "History: " + src.t.length + " points of " + h.step + " s, " +
					fmtInt(h.received) + " datagrams received and " + fmtInt(h.lost) +
					" lost in the range. Drops are all reasons together here.";
			}
			build();
		}
		if (S.totals) tiles_(S.totals);
		load();
		return {
			update(ev) {
				tiles_(ev.totals);
				if (S.range !== "live") return;
				if (Object.keys(S.live.drops).length !== dropNames.length) build();
				else refresh();
			},
			range: load,
		};
	}

	// ---- the client table ----

	const COLS = [
		{ k: "client_id", t: "client", w: "90px", num: true, f: (v) => String(v) },
		{ k: "name", t: "name", w: "minmax(80px, 1.3fr)", f: (v) => v || "" },
		{ k: "state", t: "state", w: "70px", f: (v) => v },
		{ k: "pkt_s", t: "datagrams/s", w: "1fr", num: true, f: fmtRate },
		{ k: "mb_s", t: "MB/s", w: "1fr", num: true, f: (v) => fmtNum(v, 4) },
		{ k: "received", t: "received", w: "1fr", num: true, f: fmtInt },
		{ k: "lost", t: "lost", w: "0.8fr", num: true, f: fmtInt },
		{ k: "pending", t: "pending", w: "0.8fr", num: true, f: fmtInt },
		{ k: "duplicates", t: "dup", w: "0.8fr", num: true, f: fmtInt },
		{ k: "reordered", t: "reord", w: "0.8fr", num: true, f: fmtInt },
		{ k: "too_late", t: "late", w: "0.7fr", num: true, f: fmtInt },
		{ k: "loss_pct", t: "loss %", w: "0.8fr", num: true, f: (v) => fmtNum(v, 3) },
		{ k: "latency_p50_us", t: "p50 µs", w: "0.8fr", num: true, f: (v) => fmtNum(v, 1) },
		{ k: "latency_p99_us", t: "p99 µs", w: "0.8fr", num: true, f: (v) => fmtNum(v, 1) },
		{ k: "latency_max_us", t: "max µs", w: "0.8fr", num: true, f: (v) => fmtNum(v, 1) },
		{ k: "last_seen_age_s", t: "last seen", w: "0.9fr", num: true, f: fmtAge },
	];

	// The name column: the device's name, "(unknown)" for a client not in
	// the inventory, "(disabled)" after the name of a disabled device.
	function rowValue(r, k) {
		const xc = X.columns.find((c) => c.k === k);
		if (xc) return xc.v(r);
		if (k !== "name") return r[k];
		if (!S.devices) return "";
		const d = S.devices.get(r.client_id);
		if (!d) return "(unknown)";
		return d.name + (d.enabled ? "" : " (disabled)");
	}

	function viewClients(root) {
		const q = new URLSearchParams(location.hash.split("?")[1] || "");
		let sortKey = q.get("sort") || "client_id", sortDir = sortKey === "client_id" ? 1 : -1;
		let filter = q.get("q") || "", stateF = q.get("state") || "";
		let list = [];		// the filtered, sorted rows
		let dirty = true;
		const count = el("span", { class: "note", "data-count": "" });
		const fi = el("input", { type: "search", placeholder: "filter: id, range 10-20, name", value: filter,
					 "aria-label": "filter", id: "client-filter" });
		const sf = el("select", { "aria-label": "state", id: "client-state" },
			      ...["", "live", "stale", "bye"].map((s) => el("option", { value: s, text: s || "all states" })));
		sf.value = stateF;
		root.append(el("h2", { text: "Clients" }), el("div", { class: "toolbar" }, fi, sf, count));
		const cols = COLS.map((c) => c.w).join(" ");
		const head = el("div", { class: "vt-head" });
		for (const c of COLS) {
			const h = el("div", { class: c.num ? "num" : "", text: c.t, "data-sort": c.k });
			h.addEventListener("click", () => {
				if (sortKey === c.k) sortDir = -sortDir;
				else { sortKey = c.k; sortDir = c.k === "client_id" || c.k === "name" ? 1 : -1; }
				dirty = true; draw();
			});
			head.append(h);
		}
		const body = el("div", { class: "vt-body" });
		const spacer = el("div", {});
		const rows = el("div", { class: "vt-rows" });
		body.append(spacer, rows);
		const box = el("div", { class: "vt", style: "--cols: " + cols }, head, body);
		root.append(box);
		fi.addEventListener("input", () => { filter = fi.value.trim(); dirty = true; draw(); });
		sf.addEventListener("change", () => { stateF = sf.value; dirty = true; draw(); });
		body.addEventListener("scroll", () => requestAnimationFrame(paint));
		rows.addEventListener("click", (e) => {
			const r = e.target.closest(".vt-row");
			if (r) location.hash = "#/client/" + r.dataset.id;
		});

		function matcher() {
			if (!filter) return () => true;
			const m = /^(\d+)\s*-\s*(\d+)$/.exec(filter);
			if (m) { const lo = +m[1], hi = +m[2]; return (r) => r.client_id >= lo && r.client_id <= hi; }
			const f = filter.toLowerCase();
			return (r) => String(r.client_id).includes(f) || String(rowValue(r, "name")).toLowerCase().includes(f);
		}
		function rebuild() {
			const ok = matcher();
			list = [];
			for (const r of S.clients.values())
				if ((!stateF || r.state === stateF) && ok(r)) list.push(r);
			const k = sortKey, d = sortDir;
			list.sort((a, b) => {
				const x = rowValue(a, k), y = rowValue(b, k);
				if (x < y) return -d;
				if (x > y) return d;
				return a.client_id - b.client_id;
			});
			dirty = false;
		}
		function paint() {
			const n = list.length;
			spacer.style.height = n * ROW_H + "px";
			const first = Math.max(0, Math.floor(body.scrollTop / ROW_H) - 5);
			const want = Math.min(n - first, Math.ceil(body.clientHeight / ROW_H) + 10);
			rows.style.top = first * ROW_H + "px";
			while (rows.children.length > Math.max(0, want)) rows.lastChild.remove();
			while (rows.children.length < want) {
				const r = el("div", { class: "vt-row" });
				for (const c of COLS) r.append(el("div", { class: c.num ? "num" : "", "data-col": c.k }));
				rows.append(r);
			}
			for (let i = 0; i < want; i++) {
				const r = list[first + i], dom = rows.children[i];
				dom.dataset.id = r.client_id;
				for (let j = 0; j < COLS.length; j++) {
					const c = COLS[j], cell = dom.children[j];
					const text = c.f(rowValue(r, c.k), r);
					if (cell.textContent !== text) cell.textContent = text;
					if (c.k === "state") cell.className = "st-" + r.state;
					if (c.cell) c.cell(cell, r);
				}
			}
		}
		function draw() {
			if (dirty) rebuild();
			for (const h of head.children) {
				h.classList.toggle("asc", h.dataset.sort === sortKey && sortDir > 0);
				h.classList.toggle("desc", h.dataset.sort === sortKey && sortDir < 0);
			}
			count.textContent = fmtInt(list.length) + " of " + fmtInt(S.clients.size) + " clients";
			paint();
		}
		draw();
		return { update() { dirty = true; draw(); } };
	}

	// ---- one client ----

	function viewClient(root, id) {
		root.append(el("h2", { text: "Client " + id }));
		const info = el("div", { class: "tiles" },
			tile("state", "state"), tile("pkt_s", "datagrams/s"), tile("mb_s", "MB/s"),
			tile("received", "received"), tile("lost", "lost"), tile("duplicates", "duplicates"),
			tile("reordered", "reordered"), tile("too_late", "too late"), tile("loss", "loss %"),
			tile("p50", "latency p50 µs"), tile("p99", "latency p99 µs"), tile("max", "latency max µs"));
		root.append(info);
		const note = el("p", { class: "note" });
		const hnote = el("p", { class: "note", id: "client-history" });
		root.append(note, hnote);
		const parts = X.clientParts.map((f) => f(root, id));
		root.append(el("h3", { text: "Device health: rate, bandwidth, packet loss, latency, CPU, memory, error rate" }));
		const grid = el("div", { class: "charts" });
		root.append(grid);
		root.append(el("h3", { text: "Every metric over time (the interval's mean)" }));
		const mgrid = el("div", { class: "charts" });
		root.append(mgrid);
		root.append(el("h3", { text: "Metrics over the run" }));
		const mtable = el("table", { class: "plain", id: "metric-table" });
		root.append(mtable);

		if (!S.one || S.one.id !== id)
			S.one = { id, t: [], mb_s: [], pkt_s: [], loss: [], dup: [], reord: [], err: [],
				  p50: [], p99: [], max: [], metrics: {}, prev: null };
		const O = S.one;
		const boxes = {};
		for (const k of ["rate", "bw", "loss", "lat", "cpu", "mem", "err"]) {
			boxes[k] = el("div", { class: "chart", "data-chart": k });
			grid.append(boxes[k]);
		}
		let metricNames = [];
		let src = O;		// live, or a past range's series
		const mboxes = {};
		const metricKey = (re) => metricNames.find((n) => re.test(n));
		function build() {
			destroyCharts();
			for (const b of Object.values(boxes)) b.textContent = "";
			mgrid.textContent = "";
			const O = src;
			chart(boxes.rate, "Rate", ["datagrams/s"], () => [O.t, O.pkt_s], fmtRate);
			chart(boxes.bw, "Bandwidth", ["MB/s"], () => [O.t, O.mb_s], (v) => fmtNum(v, 4));
			chart(boxes.loss, "Packet loss, duplicates, reordering", ["loss % (interval)", "duplicates/s", "reordered/s"],
			      () => [O.t, O.loss, O.dup, O.reord], (v) => fmtNum(v, 2));
			chart(boxes.lat, O === S.one ? "Latency µs (whole run)" : "Latency µs (per point)", ["p50", "p99", "max"],
			      () => [O.t, O.p50, O.p99, O.max], (v) => fmtNum(v, 1));
			for (const [k, re, title] of [["cpu", /^cpu/i, "CPU"], ["mem", /^mem/i, "Memory"]]) {
				const m = metricKey(re);
				if (m) chart(boxes[k], title + " (" + m + ")", [m], () => [O.t, O.metrics[m]], (v) => fmtNum(v, 1));
				else boxes[k].append(el("div", { class: "empty", text: title + ": the device sends no cpu*/mem* metric" }));
			}
			chart(boxes.err, "Error rate (lost + duplicates + too late)/s", ["errors/s"], () => [O.t, O.err], (v) => fmtNum(v, 2));
			for (const m of metricNames) {
				mboxes[m] = el("div", { class: "chart", "data-metric": m });
				mgrid.append(mboxes[m]);
				chart(mboxes[m], m, [m], () => [O.t, O.metrics[m]], (v) => fmtNum(v, 2));
			}
		}
		function tiles_(r) {
			setTile(root, "state", r.state, r.state !== "live");
			setTile(root, "pkt_s", fmtRate(r.pkt_s));
			setTile(root, "mb_s", fmtNum(r.mb_s, 4));
			setTile(root, "received", fmtInt(r.received));
			setTile(root, "lost", fmtInt(r.lost), r.lost > 0, pendingNote(r));
			setTile(root, "duplicates", fmtInt(r.duplicates));
			setTile(root, "reordered", fmtInt(r.reordered));
			setTile(root, "too_late", fmtInt(r.too_late));
			setTile(root, "loss", fmtNum(r.loss_pct, 3), r.loss_pct > 0);
			setTile(root, "p50", fmtNum(r.latency_p50_us, 1));
			setTile(root, "p99", fmtNum(r.latency_p99_us, 1));
			setTile(root, "max", fmtNum(r.latency_max_us, 1));
		}
		function metricsTable(c) {
			mtable.textContent = "";
			mtable.append(el("tr", {}, ...["metric", "last", "min", "max", "mean", "samples", "age"].map((h) => el("th", { text: h }))));
			for (const [k, m] of Object.entries(c.metrics || {}))
				mtable.append(el("tr", { "data-metric": k }, el("td", { text: k }),
					...[fmtNum(m.last, 3), fmtNum(m.min, 3), fmtNum(m.max, 3), fmtNum(m.mean, 3), fmtInt(m.count), fmtAge(m.age_s)]
						.map((v) => el("td", { class: "num", text: v }))));
		}
		async function poll(ev) {
			let r;
			try { r = await api("/api/v1/clients/" + id); } catch (e) { return; }
			if (r.status !== 200) {
				note.textContent = r.body && r.body.error ? r.body.error.message : "status " + r.status;
				return;
			}
			const c = r.body.client;
			note.textContent = "First seen " + new Date(c.first_seen_ns / 1e6).toLocaleString() +
				", last datagram " + fmtAge(c.last_seen_age_s) + ", " + c.epochs + " epoch(s).";
			metricsTable(c);
			metricKeys = Object.keys(c.metrics || {});
			if (!ev || S.range !== "live") return;
			const ts = ev.taken_ns / 1e9, p = O.prev, dt = ev.dt_s;
			if (O.t.length && O.t[O.t.length - 1] >= ts) return;
			const d = (k) => (p ? Math.max(0, c[k] - p[k]) : 0);
			const uniq = d("received") - d("duplicates");
			pushCapped(O.t, ts);
			pushCapped(O.mb_s, c.mb_s);
			pushCapped(O.pkt_s, c.pkt_s);
			const gaps = gapsOf(c, p);
			pushCapped(O.loss, uniq + gaps > 0 ? (100 * gaps) / (uniq + gaps) : 0);
			pushCapped(O.dup, dt > 0 ? d("duplicates") / dt : 0);
			pushCapped(O.reord, dt > 0 ? d("reordered") / dt : 0);
			pushCapped(O.err, dt > 0 ? (d("lost") + d("duplicates") + d("too_late")) / dt : 0);
			pushCapped(O.p50, c.latency_us.p50);
			pushCapped(O.p99, c.latency_us.p99);
			pushCapped(O.max, c.latency_us.max);
			const im = c.interval_metrics || {};
			for (const k of Object.keys(c.metrics || {})) {
				if (!O.metrics[k]) O.metrics[k] = O.t.slice(0, -1).map(() => null);
				pushCapped(O.metrics[k], im[k] && im[k].count ? im[k].mean : null);
			}
			for (const k of Object.keys(O.metrics))
				if (O.metrics[k].length < O.t.length) pushCapped(O.metrics[k], null);
			O.prev = c;
			const names = Object.keys(O.metrics);
			if (names.join() !== metricNames.join()) { metricNames = names; build(); } else refresh();
		}
		let metricKeys = Object.keys(O.metrics);
		async function load() {
			if (S.range === "live") {
				src = O;
				metricNames = Object.keys(O.metrics);
				hnote.textContent = "";
				build();
				return;
			}
			hnote.textContent = "Loading history…";
			if (!metricKeys.length) await poll(null);
			const h = await loadClientHistory(id, (S.bounds = rangeBounds()), metricKeys);
			if (h.err) {
				hnote.textContent = "No history: " + h.err + ".";
				hnote.dataset.history = "none";
				src = { t: [], mb_s: [], pkt_s: [], loss: [], dup: [], reord: [], err: [], p50: [], p99: [], max: [], metrics: {} };
				metricNames = [];
			} else {
				src = h.O;
				metricNames = Object.keys(src.metrics);
				hnote.dataset.history = src.t.length;
				hnote.textContent = "History: " + src.t.length + " points of " + h.step + " s.";
			}
			build();
		}
		load();
		const row = S.clients.get(id);
		if (row) tiles_(row);
		poll(null);
		return {
			update(ev) {
				const r = S.clients.get(id);
				if (r) tiles_(r);
				poll(ev);
				for (const p of parts) p.update(ev);
			},
			range: load,
		};
	}

	// ---- devices (the inventory, docs/DEVICES.md) ----

	/*
	 * The inventory from GET /api/v1/devices into S.devices (names and
	 * labels for the table); the Devices page shows once it answers. A
	 * collector without --db answers 404 no_inventory: no page then.
	 */
	async function loadDevices() {
		let r;
		if (!(await hasDb())) {
			$("#nav-devices").hidden = true;
			return { status: 404, body: { error: { message: "the collector keeps no inventory (run it with --db FILE)" } } };
		}
		// Pages of at most 10,000 devices, following next_after to the end.
		const all = [];
		for (let after = null; ;) {
			const q = "/api/v1/devices?limit=10000" + (after === null ? "" : "&after=" + after);
			try { r = await api(q); } catch (e) { return null; }
			if (r.status !== 200) {
				S.devices = null;
				$("#nav-devices").hidden = true;
				return r;
			}
			all.push(...r.body.devices);
			if (r.body.next_after === null || r.body.next_after === undefined) break;
			after = r.body.next_after;
		}
		S.devices = new Map(all.map((d) => [d.id, d]));
		S.inventory = Object.assign({}, r.body, { devices: all, count: all.length });
		$("#nav-devices").hidden = false;
		return r;
	}

	function viewDevices(root) {
		root.append(el("h2", { text: "Devices" }));
		const msg = el("p", { class: "note", id: "device-msg" });
		const f = {};
		const field = (k, label, attrs) => {
			f[k] = el("input", Object.assign({ name: k, id: "dev-" + k }, attrs || {}));
			return el("label", {}, label, f[k]);
		};
		const form = el("form", { class: "dev", id: "device-form" },
			field("id", "client id", { type: "number", min: 0, max: 4294967295, required: true }),
			field("name", "name", { maxlength: 64 }),
			field("site", "site", { maxlength: 64 }), field("rack", "rack", { maxlength: 64 }),
			field("role", "role", { maxlength: 64 }),
			field("heartbeat_s", "heartbeat (s, 0: none)", { type: "number", min: 0, max: 86400, step: "any", value: 0 }),
			field("notes", "notes", { maxlength: 1024 }),
			el("label", {}, "enabled", (f.enabled = el("input", { type: "checkbox", name: "enabled", id: "dev-enabled", checked: true }))),
			el("label", {}, "\u00a0", el("button", { type: "submit", id: "dev-save", text: "Save device" })));
		const table = el("table", { class: "plain", id: "device-table" });
		root.append(el("p", { class: "note", text: "Changes take effect at once in the collector: a disabled device's " +
			"datagrams are refused (in XDP in plain mode, at the handshake with DTLS). Writes need a token of scope admin." }),
			form, msg, table);
		let editing = null;	// the id being edited, or null: a new device

		function body() {
			const labels = { site: f.site.value.trim(), rack: f.rack.value.trim(), role: f.role.value.trim() };
			return { id: Number(f.id.value), name: f.name.value.trim(), labels,
				 heartbeat_s: Number(f.heartbeat_s.value || 0), enabled: f.enabled.checked,
				 notes: f.notes.value };
		}
		function say(r, ok) {
			if (r.status < 300) { msg.className = "note"; msg.textContent = ok; return true; }
			msg.className = "note err";
			const e = r.body && r.body.error ? r.body.error : {};
			msg.textContent = (e.message || "status " + r.status) + (e.param ? " (" + e.param + ")" : "");
			if (r.status === 403) {
				msg.append(" ", el("button", { type: "button", text: "Use an admin token",
					onclick: () => showLogin("") }));
			}
			return false;
		}
		async function write(method, path, b, ok) {
			let r;
			try {
				r = await api(path, { method, body: b ? JSON.stringify(b) : undefined,
						      headers: { "Content-Type": "application/json" } });
			} catch (e) { return false; }
			const good = say(r, ok);
			if (good) await draw();
			return good;
		}
		form.addEventListener("submit", async (e) => {
			e.preventDefault();
			msg.className = "note";
			msg.textContent = "Saving…";
			const b = body();
			if (editing === null) {
				if (await write("POST", "/api/v1/devices", b, "Device " + b.id + " added.")) form.reset();
			} else {
				delete b.id;
				if (await write("PUT", "/api/v1/devices/" + editing, b, "Device " + editing + " saved.")) {
					editing = null; f.id.disabled = false; form.reset();
					$("#dev-save").textContent = "Save device";
				}
			}
		});
		function edit(d) {
			editing = d.id;
			f.id.value = d.id; f.id.disabled = true;
			f.name.value = d.name; f.site.value = d.labels.site || ""; f.rack.value = d.labels.rack || "";
			f.role.value = d.labels.role || ""; f.heartbeat_s.value = d.heartbeat_s; f.enabled.checked = d.enabled;
			f.notes.value = d.notes;
			$("#dev-save").textContent = "Save device " + d.id;
		}
		async function draw() {
			const r = await loadDevices();
			table.textContent = "";
			if (!r || r.status !== 200) {
				table.append(el("tr", {}, el("td", { text: r ? (r.body.error ? r.body.error.message : "status " + r.status) : "" })));
				return;
			}
			table.append(el("tr", {}, ...["id", "name", "site", "rack", "role", "heartbeat s", "enabled",
				"state", "silent", "received", "notes", ""].map((h) => el("th", { text: h }))));
			for (const d of r.body.devices) {
				const st = d.status || {};
				table.append(el("tr", { "data-device": d.id },
					el("td", { class: "num", text: String(d.id) }), el("td", { text: d.name }),
					el("td", { text: d.labels.site || "" }), el("td", { text: d.labels.rack || "" }),
					el("td", { text: d.labels.role || "" }),
					el("td", { class: "num", text: d.heartbeat_s ? fmtNum(d.heartbeat_s, 1) : "–" }),
					el("td", { "data-col": "enabled", class: d.enabled ? "st-live" : "st-disabled", text: d.enabled ? "yes" : "disabled" }),
					el("td", { "data-col": "state", class: "st-" + (st.stale ? "stale" : st.state), text: st.stale && st.state !== "stale" ? st.state + ", stale" : (st.state || "–") }),
					el("td", { class: "num", text: st.silent_s === null || st.silent_s === undefined ? "–" : fmtNum(st.silent_s, 1) + " s" }),
					el("td", { class: "num", "data-col": "received", text: fmtInt(st.received) }),
					el("td", { text: d.notes }),
					el("td", {},
						el("button", { type: "button", "data-act": "edit", text: "Edit", onclick: () => edit(d) }), " ",
						el("button", { type: "button", "data-act": "toggle", text: d.enabled ? "Disable" : "Enable",
							onclick: () => write("PATCH", "/api/v1/devices/" + d.id, { enabled: !d.enabled },
									     "Device " + d.id + (d.enabled ? " disabled." : " enabled.")) }), " ",
						el("button", { type: "button", "data-act": "remove", text: "Remove",
							onclick: () => { if (confirm("Remove device " + d.id + " from the inventory?"))
								write("DELETE", "/api/v1/devices/" + d.id, null, "Device " + d.id + " removed."); } }))));
			}
			table.append(el("caption", { text: fmtInt(r.body.count) + " devices, " + fmtInt(r.body.enabled) + " enabled" +
				(r.body.inventory_only ? "; --inventory-only: clients not listed are refused" : "") }));
		}
		draw();
		let last = 0;
		return {
			update() {
				// the status column (state, silent, received) every few seconds
				if (Date.now() - last > 3000 && editing === null) { last = Date.now(); draw(); }
			},
		};
	}

	// ---- routing ----

	function route() {
		const h = location.hash.replace(/^#/, "").split("?")[0] || "/";
		const root = $("#view");
		destroyCharts();
		root.textContent = "";
		let name = "overview", m;
		if (h === "/clients") { name = "clients"; S.view = viewClients(root); }
		else if ((m = /^\/client\/(\d+)$/.exec(h))) { name = "clients"; S.view = viewClient(root, Number(m[1])); }
		else if (h === "/devices") { name = "devices"; S.view = viewDevices(root); }
		else if ((m = X.routes.find((x) => x.re.test(h)))) { name = m.nav; S.view = m.view(root, m.re.exec(h)); }
		else S.view = viewOverview(root);
		for (const a of document.querySelectorAll("[data-nav]"))
			a.classList.toggle("on", a.dataset.nav === name);
	}

	function initRange() {
		const bar = $("#range");
		bar.addEventListener("click", (e) => {
			const b = e.target.closest("[data-range]");
			if (!b) return;
			for (const x of bar.querySelectorAll("[data-range]")) x.classList.toggle("on", x === b);
			$("#custom-range").hidden = b.dataset.range !== "custom";
			if (b.dataset.range === "custom") return;
			S.range = b.dataset.range;
			if (S.view && S.view.range) S.view.range();
		});
		$("#range-apply").addEventListener("click", () => {
			const f = Date.parse($("#range-from").value) / 1000, t = Date.parse($("#range-to").value) / 1000;
			if (!(f < t)) return;
			S.range = "custom";
			S.custom = { from: f, to: t };
			if (S.view && S.view.range) S.view.range();
		});
	}

	$("#login-form").addEventListener("submit", (e) => {
		e.preventDefault();
		S.token = $("#login-token").value.trim();
		sessionStorage.setItem("xtel_token", S.token);
		$("#login").hidden = true;
		probeAuth();
		loadDevices();
	});
	Object.assign(X, { S, el, api, fmtInt, fmtNum, PALETTE, destroyCharts,
			   rangeBounds, tile, setTile });
	for (const f of window.xtelExt || []) f(X);
	for (const c of X.columns) COLS.splice(COLS.findIndex((x) => x.k === c.after) + 1, 0, c);
	window.addEventListener("hashchange", route);
	initRange();
	route();
	connect();
	loadDevices();
	// names and labels of the table follow the inventory
	setInterval(() => { if (S.devices) loadDevices(); }, 10000);
	// for tests and the benchmark: the page's own state, read-only use
	window.xtel = S;
})();
