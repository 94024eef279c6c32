// SPDX-License-Identifier: MIT
/*
 * The dashboard's probes page #/probes (docs/DASHBOARD.md, docs/PROBES.md):
 * the download probes' results as the collector's history (--db) holds
 * them, from the probes API: the per-device table from
 * /api/v1/probes/summary, the speed and response time over time from
 * /api/v1/probes/series (one request per device shown), and the
 * hour-of-day profile, the busiest hour with its confidence and the
 * congestion episodes from /api/v1/probes/analysis (of the fleet, or of
 * the device picked: #/probes?device=ID). Live shows the last 24 hours,
 * read again every few seconds; the other ranges of the bar read theirs
 * once. Plugged into app.js through window.xtelExt (app.js, X).
 */
(function () {
	"use strict";

	const SERIES_DEVICES = 8;	// speed lines drawn for the fleet
	const LIVE_SPAN = 86400;	// s: what Live shows
	const RELOAD_MS = 5000;		// Live: read again at most this often
	// the analysis' parameters (docs/API.md, "Probes"), kept across views
	const P = { congested_frac: 0.5, min_episode: 0, tz_offset: 0 };

	(window.xtelExt = window.xtelExt || []).push(function (X) {
		const { el, api, fmtNum, fmtInt } = X;
		const hh = (h) => String(h).padStart(2, "0") + ":00";
		const kindsText = (k) => Object.entries(k || {}).filter(([n, v]) => n !== "ok" && v)
			.map(([n, v]) => n + " " + v).join(", ");

		function viewProbes(root) {
			const q = new URLSearchParams(location.hash.split("?")[1] || "");
			const device = q.has("device") ? Number(q.get("device")) : null;
			root.append(el("h2", { text: "Download probes" + (device === null ? "" : ": device " + device) }));
			const note = el("p", { class: "note", id: "probe-note" });
			const input = (k, label, attrs) => el("label", {}, label + " ",
				el("input", Object.assign({ type: "number", id: "probe-" + k, value: P[k], onchange: (e) => {
					const v = Number(e.target.value);
					if (e.target.checkValidity() && Number.isFinite(v)) { P[k] = v; load(); }
				} }, attrs)));
			const tools = el("div", { class: "toolbar", id: "probe-params" },
				input("congested_frac", "congested below (fraction of the baseline)", { min: 0.01, max: 1, step: 0.01 }),
				input("min_episode", "shortest episode s", { min: 0, max: 1e7, step: 1 }),
				input("tz_offset", "hours of day at UTC + minutes", { min: -1440, max: 1440, step: 1 }));
			const tiles = el("div", { class: "tiles", id: "probe-tiles" },
				X.tile("downloads", "downloads"), X.tile("ok", "ok"), X.tile("failed", "failed"),
				X.tile("speed", "speed Mbit/s (mean)"), X.tile("ttfb", "TTFB ms (mean)"),
				X.tile("busy_speed", "busiest hour (lowest speed)"),
				X.tile("busy_ttfb", "busiest hour (highest TTFB)"));
			const table = el("table", { class: "plain", id: "probe-devices" });
			const grid = el("div", { class: "charts" });
			const boxes = {};
			for (const k of ["speed", "ttfb", "hours", "hours_ttfb"]) grid.append((boxes[k] = el("div", { class: "chart", "data-chart": k })));
			const busy = el("p", { class: "note", id: "probe-busiest" });
			const episodes = el("table", { class: "plain", id: "probe-episodes" });
			root.append(tools, tiles, note,
				el("h3", { text: "Per device (click a row for its own analysis)" }), table,
				el("h3", { text: "Speed and response time over time; hour-of-day profile" }), grid, busy,
				el("h3", { text: "Congestion episodes (speed under a fraction of the device's p90 baseline)" }), episodes);

			let last = 0, loading = false, again = false;
			const zone = () => (P.tz_offset ? "UTC" + (P.tz_offset > 0 ? "+" : "−") +
				Math.floor(Math.abs(P.tz_offset) / 60) + (Math.abs(P.tz_offset) % 60 ? ":" +
				String(Math.abs(P.tz_offset) % 60).padStart(2, "0") : "") : "UTC");
			function bounds() {
				const now = Date.now() / 1000;
				return X.S.range === "live" ? { from: now - LIVE_SPAN, to: now } : X.rangeBounds();
			}
			function drawTable(s) {
				table.textContent = "";
				table.append(el("tr", {}, ...["device", "downloads", "ok", "failed", "failures", "speed avg", "min", "max",
					"p10", "p90", "TTFB avg ms", "TTFB p90 ms", "total avg ms"].map((h) => el("th", { text: h }))));
				const row = (d, label, href) => {
					const sp = d.speed_mbps || {}, tt = d.ttfb_ms || {}, to = d.total_ms || {};
					return el("tr", { "data-device": label, class: label === String(device) ? "sel" : "" },
						el("td", {}, el("a", { href, text: label })),
						...[["downloads", fmtInt(d.downloads)], ["ok", fmtInt(d.ok)], ["failed", fmtInt(d.failed)]]
							.map(([k, v]) => el("td", { class: "num", "data-col": k, text: v })),
						el("td", { "data-col": "kinds", text: kindsText(d.kinds) }),
						...[sp.mean, sp.min, sp.max, sp.p10, sp.p90].map((v, i) =>
							el("td", { class: "num", "data-col": ["speed_mean", "speed_min", "speed_max", "speed_p10", "speed_p90"][i], text: fmtNum(v, 2) })),
						...[tt.mean, tt.p90, to.mean].map((v) => el("td", { class: "num", text: fmtNum(v, 1) })));
				};
				for (const d of s.devices) table.append(row(d, String(d.device), "#/probes?device=" + d.device));
				table.append(row(s.fleet, "fleet", "#/probes"));
				table.append(el("caption", { text: s.samples + " samples from tier " + s.tier + "; speeds in Mbit/s" }));
			}
			function drawAnalysis(a) {
				const b = a.busiest_hour || {};
				const one = (x) => (x && x.hour !== undefined && x.hour !== null
					? hh(x.hour) + " (" + x.confidence + ")"
					: "–");
				X.setTile(root, "busy_speed", one(b.by_speed), false,
					b.by_speed ? fmtNum(b.by_speed.speed_mean, 1) + " Mbit/s over " + fmtInt(b.by_speed.n) : "");
				X.setTile(root, "busy_ttfb", one(b.by_response_time), false,
					b.by_response_time ? fmtNum(b.by_response_time.ttfb_mean, 1) + " ms over " + fmtInt(b.by_response_time.n) : "");
				const say = (x, name, v, unit) => x ? "By " + name + ": " + hh(x.hour) + ", mean " + fmtNum(x[v], 2) + " " + unit +
					" over " + fmtInt(x.n) + " downloads; " +
					(x.runner_up_hour === null || x.runner_up_hour === undefined ? "no other hour has downloads" :
						"runner-up " + hh(x.runner_up_hour) + " (" + fmtNum(x.runner_up_value, 2) + " over " +
						fmtInt(x.runner_up_n) + "), margin " + fmtNum(x.margin_se, 1) + " standard errors") +
					": confidence " + x.confidence + "." : "";
				busy.textContent = "Busiest hour (" + zone() + ") of " + (device === null ? "the fleet" : "device " + device) + ". " +
					say(b.by_speed, "lowest speed", "speed_mean", "Mbit/s") + " " +
					say(b.by_response_time, "highest TTFB", "ttfb_mean", "ms") +
					(a.trend && a.trend.n && a.trend.mbps_per_day !== null ? " Trend: " + fmtNum(a.trend.mbps_per_day, 2) + " Mbit/s per day." : "");
				busy.dataset.hour = b.by_speed ? b.by_speed.hour : "";
				busy.dataset.confidence = b.by_speed ? b.by_speed.confidence : "";
				episodes.textContent = "";
				episodes.append(el("tr", {}, ...["device", "start", "end", "duration s", "samples", "timeouts",
					"baseline Mbit/s", "threshold", "mean", "min"].map((h) => el("th", { text: h }))));
				for (const e of a.episodes)
					episodes.append(el("tr", { "data-device": e.device, "data-start": e.start_s, "data-end": e.end_s },
						el("td", { text: String(e.device) }),
						el("td", { text: new Date(e.start_s * 1000).toLocaleString() }),
						el("td", { text: new Date(e.end_s * 1000).toLocaleString() }),
						...[fmtNum(e.duration_s, 0), fmtInt(e.samples), fmtInt(e.timeouts), fmtNum(e.baseline_mbps, 2),
							fmtNum(e.threshold_mbps, 2), fmtNum(e.mean_mbps, 2), fmtNum(e.min_mbps, 2)]
							.map((v) => el("td", { class: "num", text: v }))));
				if (!a.episodes.length) episodes.append(el("tr", {}, el("td", { colspan: 10, text: "none in the range" })));
			}
			// A uPlot of ours among the view's charts (destroyed, resized with them).
			function ownChart(box, title, x, series, data, fmt) {
				const opts = {
					title, width: Math.max(300, box.clientWidth - 12), height: 200, series,
					scales: { x, y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.15 : 1] } },
					axes: [x.time ? {} : { values: (u, v) => v.map((h) => (Number.isInteger(h) ? String(h) : "")) },
					       { values: (u, v) => v.map((y) => fmt(y)), size: 60 }],
					legend: { live: true },
				};
				const c = { zoomed: false, data, box, labels: series.slice(1).map((z) => z.label) };
				c.u = new uPlot(opts, data(), box);
				X.S.charts.push(c);
			}
			const val = (fmt) => (u, v) => (v === null || v === undefined ? "–" : fmt(v));
			// The 24 hours as bars (x: hour of day, not time).
			function hourChart(box, title, label, ys, fmt) {
				const xs = [...Array(24).keys()];
				ownChart(box, title, { time: false, range: [-0.5, 23.5] },
					 [{ value: (u, v) => (v === null ? "–" : hh(v)) },
					  { label, stroke: X.PALETTE[0], fill: "rgba(35,97,199,.35)", value: val(fmt),
					    paths: uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8] }) : undefined }],
					 () => [xs, ys], fmt);
			}
			// One line (and its points) per device over the buckets' starts;
			// the x axis is the samples' span with a margin (a short run is
			// a few seconds, where a whole day would hide it).
			function timeChart(box, title, labels, ts, cols, fmt) {
				const pad = Math.max(30, (ts[ts.length - 1] - ts[0]) * 0.03);
				ownChart(box, title, { time: true, range: () => [ts[0] - pad, ts[ts.length - 1] + pad] },
					 [{}].concat(labels.map((l, i) => ({ label: l, stroke: X.PALETTE[i % X.PALETTE.length], width: 1.5,
						points: { show: ts.length <= 200, size: 5 }, spanGaps: true, value: val(fmt) }))),
					 () => [ts].concat(cols), fmt);
			}
			// one load at a time; a change meanwhile (range, parameters) loads again after it
			async function load() {
				if (loading) { again = true; return; }
				loading = true;
				again = false;
				last = Date.now();
				const b = bounds();
				const rq = "from=" + Math.floor(b.from) + "&to=" + Math.ceil(b.to);
				const aq = "&congested_frac=" + P.congested_frac + "&min_episode=" + P.min_episode + "&tz_offset=" + P.tz_offset;
				try {
					const [s, a] = await Promise.all([api("/api/v1/probes/summary?" + rq),
						api("/api/v1/probes/analysis?" + rq + aq + (device === null ? "" : "&device=" + device))]);
					if (s.status !== 200) {
						const e = s.body && s.body.error ? s.body.error : {};
						note.textContent = e.code === "no_history" ? "No probe results: the collector keeps no history (run it with --db FILE)."
							: "No probe results: " + (e.message || "status " + s.status) + ".";
						note.dataset.state = "error";
						return;
					}
					note.dataset.state = "ok";
					note.textContent = (X.S.range === "live" ? "The last 24 hours, read again every " + RELOAD_MS / 1000 + " s." :
						"The range picked.") + " " + fmtInt(s.body.devices.length) + " devices probed.";
					const f = device === null ? s.body.fleet : (s.body.devices.find((d) => d.device === device) || {});
					X.setTile(root, "downloads", fmtInt(f.downloads));
					X.setTile(root, "ok", fmtInt(f.ok));
					X.setTile(root, "failed", fmtInt(f.failed), f.failed > 0, kindsText(f.kinds));
					X.setTile(root, "speed", fmtNum(f.speed_mbps && f.speed_mbps.mean, 2));
					X.setTile(root, "ttfb", fmtNum(f.ttfb_ms && f.ttfb_ms.mean, 1));
					drawTable(s.body);
					if (a.status === 200) drawAnalysis(a.body);
					const ids = device === null ? s.body.devices.slice(0, SERIES_DEVICES).map((d) => d.device) : [device];
					const series = await Promise.all(ids.map((id) => api("/api/v1/probes/series?" + rq + "&device=" + id)));
					// one x axis: the union of the devices' bucket starts
					const ts = [...new Set(series.flatMap((r) => (r.status === 200 ? r.body.points.map((p) => p.ts) : [])))].sort((x, y) => x - y);
					const at = new Map(ts.map((t, i) => [t, i]));
					const col = (r, k) => {
						const v = ts.map(() => null);
						if (r.status === 200) for (const p of r.body.points) v[at.get(p.ts)] = p[k];
						return v;
					};
					X.destroyCharts();
					for (const bx of Object.values(boxes)) bx.textContent = "";
					const labels = ids.map((id) => "device " + id);
					const sp = series.map((r) => col(r, "speed_mbps")), tt = series.map((r) => col(r, "ttfb_ms"));
					if (ts.length) {
						timeChart(boxes.speed, "Download speed Mbit/s", labels, ts, sp, (v) => fmtNum(v, 1));
						timeChart(boxes.ttfb, "Response time (TTFB) ms", labels, ts, tt, (v) => fmtNum(v, 1));
					} else {
						boxes.speed.append(el("div", { class: "empty", text: "No download in the range" }));
						boxes.ttfb.append(el("div", { class: "empty", text: "No download in the range" }));
					}
					boxes.speed.dataset.points = ts.length;
					if (a.status === 200) {
						const hrs = a.body.hours;
						hourChart(boxes.hours, "Hour of day (" + zone() + "): mean speed Mbit/s", "speed",
							  hrs.map((h) => (h.n ? h.speed_mean : null)), (v) => fmtNum(v, 1));
						hourChart(boxes.hours_ttfb, "Hour of day (" + zone() + "): mean TTFB ms", "TTFB",
							  hrs.map((h) => (h.n ? h.ttfb_mean : null)), (v) => fmtNum(v, 1));
					}
				} catch (e) { /* the login prompt is up */ } finally {
					loading = false;
					if (again) load();
				}
			}
			load();
			return {
				update() { if (X.S.range === "live" && Date.now() - last > RELOAD_MS) load(); },
				range: load,
			};
		}
		X.routes.push({ re: /^\/probes$/, nav: "probes", view: viewProbes });
	});
})();
