// SPDX-License-Identifier: MIT
/*
 * The dashboard's health views (docs/DASHBOARD.md, docs/API.md "health"):
 * a health column in the client table (state in its colour and score, the
 * explanation as the cell's tooltip), the verdict with its explanation and
 * signals on a client's page, and the fleet page #/health: clients per
 * state, the group verdicts, the clients not ok and the event timeline
 * from /api/v1/events. The verdicts are per interval, so everything here
 * is read again once per stream event (one request in flight at a time),
 * and the events incrementally with ?after= (the last seq seen). Plugged
 * into app.js through window.xtelExt (app.js, X).
 */
(function () {
	"use strict";

	// worst first when the column is sorted the other way
	const RANK = { warmup: 0, ok: 1, anomalous: 2, congested: 3, degraded: 4, silent: 5 };
	const EVENTS_KEPT = 1000;

	(window.xtelExt = window.xtelExt || []).push(function (X) {
		const { el, api, fmtNum, fmtInt } = X;
		const H = {
			byId: new Map(),	// client id -> verdict of /api/v1/health
			last: null,		// that reply (groups, counts)
			off: false,		// --no-health: 404 health_off
			busy: false,
			events: [],		// oldest first, at most EVENTS_KEPT
			after: 0, evTotal: 0, evDropped: 0,
		};
		X.S.health = H;

		const stateCell = (s) => el("span", { class: "hs hs-" + s, "data-state": s, text: s });
		const when = (ns) => (ns ? new Date(ns / 1e6).toLocaleTimeString() : "–");

		async function loadHealth() {
			if (H.busy) return;
			H.busy = true;
			try {
				const r = await api("/api/v1/health?limit=10000");
				if (r.status === 404) H.off = true;
				if (r.status !== 200) return;
				H.off = false;
				H.last = r.body;
				H.byId = new Map(r.body.clients.map((c) => [c.client_id, c]));
			} catch (e) { /* the login prompt is up */ } finally { H.busy = false; }
		}
		async function loadEvents() {
			let r;
			try { r = await api("/api/v1/events?limit=10000&after=" + H.after); } catch (e) { return; }
			if (r.status !== 200) return;
			H.evTotal = r.body.total;
			H.evDropped = r.body.dropped;
			for (const e of r.body.events) {
				H.events.push(e);
				H.after = Math.max(H.after, e.seq);
			}
			if (H.events.length > EVENTS_KEPT) H.events.splice(0, H.events.length - EVENTS_KEPT);
		}
		const onTable = () => /^#\/clients/.test(location.hash);

		// ---- the client table's column ----
		X.columns.push({
			k: "health", t: "health", w: "minmax(125px, 1.2fr)", after: "state",
			v: (r) => {
				const c = H.byId.get(r.client_id);
				return c ? RANK[c.state] * 1e6 + Math.min(c.score || 0, 999999) : -1;
			},
			f: (v, r) => {
				const c = H.byId.get(r.client_id);
				if (!c) return H.off ? "off" : "–";
				return c.state === "ok" || c.state === "warmup" ? c.state : c.state + " " + fmtNum(c.score, 1);
			},
			cell: (cell, r) => {
				const c = H.byId.get(r.client_id);
				cell.className = "hs-" + (c ? c.state : "none");
				const tip = c ? c.why || c.state : "";
				if (cell.title !== tip) cell.title = tip;
			},
		});
		X.onEvent.push(async () => {
			if (!onTable()) return;
			await loadHealth();
			// repaint the table with the new verdicts now, not an interval later
			if (onTable() && X.S.view && X.S.view.update) X.S.view.update(null);
		});

		// ---- one client's verdict ----
		X.clientParts.push(function (root, id) {
			const box = el("div", { class: "health-one", id: "client-health" });
			root.append(el("h3", { text: "Health verdict" }), box);
			async function draw() {
				let r;
				try { r = await api("/api/v1/health/" + id); } catch (e) { return; }
				box.textContent = "";
				if (r.status !== 200) {
					box.append(el("p", { class: "note", text: r.body && r.body.error ? r.body.error.message : "status " + r.status }));
					return;
				}
				const c = r.body.client;
				box.dataset.state = c.state;
				box.append(el("p", {}, stateCell(c.state),
					" score " + fmtNum(c.score, 1) + (c.since_ns ? " · since " + when(c.since_ns) : "") +
					" · group " + c.group),
				el("p", { class: "why", "data-why": "", text: c.why || "no fault found" }));
				const t = el("table", { class: "plain", id: "health-signals" });
				t.append(el("tr", {}, ...["signal", "value", "baseline", "scale", "z"].map((h) => el("th", { text: h }))));
				const rows = Object.entries(c.signals || {}).concat(Object.entries(c.metrics || {}));
				for (const [k, s] of rows) {
					const z = s && s.z !== null ? s.z : null;
					t.append(el("tr", { "data-signal": k, class: z !== null && Math.abs(z) >= 5 ? "far" : "" },
						el("td", { text: k }),
						...[s.value, s.baseline, s.scale, z].map((v) => el("td", { class: "num", text: fmtNum(v, 3) }))));
				}
				box.append(t);
			}
			draw();
			return { update: draw };
		});

		// ---- the fleet page ----
		function viewHealth(root) {
			root.append(el("h2", { text: "Health" }));
			const note = el("p", { class: "note", id: "health-note" });
			const tiles = el("div", { class: "tiles", id: "health-counts" });
			for (const s of Object.keys(RANK)) tiles.append(X.tile(s, s));
			const groups = el("table", { class: "plain", id: "health-groups" });
			const bad = el("table", { class: "plain", id: "health-clients" });
			const lanes = el("div", { class: "lanes", id: "health-lanes" });
			const events = el("table", { class: "plain", id: "health-events" });
			root.append(tiles, note, el("h3", { text: "Groups" }), groups,
				el("h3", { text: "Clients not ok" }), bad,
				el("h3", { text: "Timeline: each client's state since its first transition" }), lanes,
				el("h3", { text: "Events (newest first)" }), events);

			function drawVerdicts() {
				const h = H.last;
				if (!h) {
					note.textContent = H.off ? "Health inference is off (--no-health)." : "Waiting for the first verdicts…";
					return;
				}
				note.textContent = "Verdicts of the interval ending " + when(h.ts_ns) + ". " +
					"A client is judged after its warm-up (docs/HEALTH.md).";
				for (const s of Object.keys(RANK))
					X.setTile(root, s, fmtInt(h.counts[s] || 0), s !== "ok" && s !== "warmup" && h.counts[s] > 0);
				groups.textContent = "";
				groups.append(el("tr", {}, ...["group", "state", "since", "members", "why"].map((x) => el("th", { text: x }))));
				for (const g of h.groups)
					groups.append(el("tr", { "data-group": g.label }, el("td", { text: g.label }),
						el("td", { "data-col": "state" }, stateCell(g.state)),
						el("td", { text: when(g.since_ns) }), el("td", { class: "num", text: fmtInt(g.members) }),
						el("td", { text: g.why || "" })));
				bad.textContent = "";
				bad.append(el("tr", {}, ...["client", "state", "score", "since", "why"].map((x) => el("th", { text: x }))));
				for (const c of h.clients) {
					if (c.state === "ok" || c.state === "warmup") continue;
					bad.append(el("tr", { "data-client": c.client_id },
						el("td", {}, el("a", { href: "#/client/" + c.client_id, text: String(c.client_id) })),
						el("td", { "data-col": "state" }, stateCell(c.state)),
						el("td", { class: "num", text: fmtNum(c.score, 1) }), el("td", { text: when(c.since_ns) }),
						el("td", { text: c.why })));
				}
				if (bad.children.length === 1) bad.append(el("tr", {}, el("td", { colspan: 5, text: "none" })));
			}
			function drawEvents() {
				const now = H.last ? H.last.ts_ns : Date.now() * 1e6;
				events.textContent = "";
				events.append(el("tr", {}, ...["time", "scope", "client", "group", "from", "to", "score", "why"]
					.map((x) => el("th", { text: x }))));
				for (let i = H.events.length - 1; i >= 0; i--) {
					const e = H.events[i];
					events.append(el("tr", { "data-seq": e.seq, "data-scope": e.scope,
								 "data-client": e.scope === "client" ? e.client_id : "" },
						el("td", { text: when(e.ts_ns) }), el("td", { text: e.scope }),
						el("td", { text: e.scope === "client" ? String(e.client_id) : "" }), el("td", { text: e.group }),
						el("td", {}, stateCell(e.from)), el("td", {}, stateCell(e.to)),
						el("td", { class: "num", text: fmtNum(e.score, 1) }), el("td", { text: e.why })));
				}
				events.append(el("caption", { text: fmtInt(H.evTotal) + " transitions recorded" +
					(H.evDropped ? ", " + fmtInt(H.evDropped) + " overwritten in the collector's ring" : "") }));
				// lanes: one per client or group with events, segments from each transition on
				lanes.textContent = "";
				if (!H.events.length) { lanes.append(el("p", { class: "note", text: "No transition yet." })); return; }
				const t0 = H.events[0].ts_ns, span = Math.max(1, now - t0);
				const by = new Map();
				for (const e of H.events) {
					const key = e.scope === "client" ? "client " + e.client_id : "group " + e.group;
					if (!by.has(key)) by.set(key, []);
					by.get(key).push(e);
				}
				for (const [key, list] of by) {
					const bar = el("div", { class: "lane-bar" });
					list.forEach((e, i) => {
						const end = i + 1 < list.length ? list[i + 1].ts_ns : now;
						bar.append(el("span", { class: "seg hs-bg-" + e.to, "data-state": e.to,
							title: e.to + " from " + when(e.ts_ns) + (e.why ? ": " + e.why : ""),
							style: "left:" + (100 * (e.ts_ns - t0) / span).toFixed(3) + "%;width:" +
								Math.max(0.3, 100 * (end - e.ts_ns) / span).toFixed(3) + "%" }));
					});
					lanes.append(el("div", { class: "lane", "data-lane": key }, el("span", { class: "lane-k", text: key }), bar));
				}
				lanes.append(el("div", { class: "lane lane-axis" }, el("span", { class: "lane-k" }),
					el("span", { class: "lane-bar axis" }, el("span", { text: when(t0) }), el("span", { text: when(now) }))));
			}
			async function update() {
				await Promise.all([loadHealth(), loadEvents()]);
				drawVerdicts();
				drawEvents();
			}
			drawVerdicts();
			drawEvents();
			update();
			return { update };
		}
		X.routes.push({ re: /^\/health$/, nav: "health", view: viewHealth });
	});
})();
