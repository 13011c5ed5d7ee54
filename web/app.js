/*
 * The shmetrics dashboard: polls the exporter's history once a second
 * (api/v1/query with a range selector, raw samples) and draws it with uPlot.
 * Every request goes to the page's own origin, by relative URL.
 *
 * For tests and the curious, window.shmDashboard holds what was drawn: for
 * each panel, each line's label and last point, and for lines drawn straight
 * from one series, that series' last raw sample.
 */
(function () {
  "use strict";

  const POLL_MS = 1000;
  const META_MS = 5000;
  const MAX_LINES = 24;
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#ad494a"];
  const CPU_COLORS = { user: "#1f77b4", nice: "#2ca02c", system: "#d62728", iowait: "#ff7f0e",
    irq: "#9467bd", softirq: "#8c564b", steal: "#e377c2", idle: "#a0a8b4" };

  const $ = (id) => document.getElementById(id);
  const state = {
    windowSec: 300, paused: false, store: new Map(), byName: new Map(), lastPoll: 0,
    panels: [], custom: new Map(), families: [], fetchedNames: new Set(), timer: null,
    newest: 0, newestAt: 0, /* the newest sample's time, and when (browser clock) it was seen */
  };
  const exposed = {
    ready: false, polls: 0, errors: [], panels: {},
    pause: () => setPaused(true), resume: () => setPaused(false),
    chartFamily: (name) => addCustomChart(name),
  };
  window.shmDashboard = exposed;

  /* ---- formatting ---- */

  function sig(v) {
    const a = Math.abs(v);
    return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
  function fmtBinary(v) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return sig(v) + " " + units[i];
  }
  function fmtSI(v) {
    const units = ["", "k", "M", "G", "T", "P"];
    let i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return sig(v) + (units[i] ? " " + units[i] : "");
  }
  function fmtSeconds(v) {
    const a = Math.abs(v);
    if (a === 0) return "0 s";
    if (a < 1e-3) return sig(v * 1e6) + " µs";
    if (a < 1) return sig(v * 1e3) + " ms";
    return sig(v) + " s";
  }
  /* Axis steps in powers of two for bytes, so that ticks read 512 MiB, 1 GiB. */
  const BINARY_STEPS = [];
  for (let k = 0; k <= 50; k++) BINARY_STEPS.push(2 ** k);
  /* floor: the smallest top of the y axis, so that a flat zero line is labelled sensibly */
  const UNITS = {
    "bytes": { name: "bytes", fmt: fmtBinary, floor: 1024, incrs: BINARY_STEPS },
    "bytes/s": { name: "bytes per second", fmt: (v) => fmtBinary(v) + "/s", floor: 1024, incrs: BINARY_STEPS },
    "percent": { name: "%", fmt: (v) => sig(v) + " %", floor: 1 },
    "seconds": { name: "seconds", fmt: fmtSeconds, floor: 1e-3 },
    "/s": { name: "per second", fmt: (v) => fmtSI(v) + "/s", floor: 1 },
    "": { name: "", fmt: fmtSI, floor: 1 },
  };
  function fmtValue(unit, v) {
    if (v == null || Number.isNaN(v)) return "–";
    if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
    return UNITS[unit].fmt(v);
  }

  /* ---- the store of raw samples ---- */

  function parseValue(s) {
    if (s === "+Inf") return Infinity;
    if (s === "-Inf") return -Infinity;
    return parseFloat(s);
  }
  function keyOf(metric) {
    return Object.keys(metric).sort().map((k) => k + "=" + metric[k]).join("\u0000");
  }
  function merge(result) {
    for (const r of result) {
      const key = keyOf(r.metric);
      let s = state.store.get(key);
      if (!s) {
        s = { metric: r.metric, t: [], v: [] };
        state.store.set(key, s);
        const name = r.metric.__name__;
        if (!state.byName.has(name)) state.byName.set(name, []);
        state.byName.get(name).push(s);
      }
      for (const [t, v] of r.values) {
        if (s.t.length && t <= s.t[s.t.length - 1]) continue;
        s.t.push(t);
        s.v.push(parseValue(v));
        if (t > state.newest) { state.newest = t; state.newestAt = Date.now(); }
      }
    }
  }
  /* The exporter's clock, estimated from its newest sample: the browser's may be off. */
  function serverNow() {
    return state.newest ? state.newest + (Date.now() - state.newestAt) / 1000 : Date.now() / 1000;
  }
  function trim(now) {
    const cutoff = now - state.windowSec - 5;
    for (const [key, s] of state.store) {
      let i = 0;
      while (i < s.t.length && s.t[i] < cutoff) i++;
      if (i) { s.t.splice(0, i); s.v.splice(0, i); }
      if (!s.t.length) {
        state.store.delete(key);
        const list = state.byName.get(s.metric.__name__);
        list.splice(list.indexOf(s), 1);
      }
    }
  }
  function series(name, filter) {
    const list = state.byName.get(name) || [];
    return filter ? list.filter((s) => filter(s.metric)) : list;
  }

  /* ---- transformations: each gives {t: [], y: []} ---- */

  function gapLimit(t) {
    const d = [];
    for (let i = 1; i < t.length; i++) d.push(t[i] - t[i - 1]);
    d.sort((a, b) => a - b);
    return d.length ? Math.max(d[d.length >> 1] * 3, 2) : Infinity;
  }
  /* Per-second rate between neighbouring samples; a counter reset counts from 0. */
  function rate(s) {
    const out = { t: [], y: [] }, limit = gapLimit(s.t);
    for (let i = 1; i < s.t.length; i++) {
      const dt = s.t[i] - s.t[i - 1];
      let dv = s.v[i] - s.v[i - 1];
      if (dv < 0) dv = s.v[i];
      out.t.push(s.t[i]);
      out.y.push(dt > 0 && dt <= limit ? dv / dt : null);
    }
    return out;
  }
  function raw(s) {
    return { t: s.t.slice(), y: s.v.slice() };
  }
  /* Combines lines point by point on equal timestamps (one collector's series share them). */
  function combine(lines, fn) {
    if (!lines.length || lines.some((l) => !l)) return { t: [], y: [] };
    const maps = lines.slice(1).map((l) => new Map(l.t.map((t, i) => [t, l.y[i]])));
    const out = { t: [], y: [] };
    lines[0].t.forEach((t, i) => {
      const args = [lines[0].y[i]];
      for (const m of maps) {
        if (!m.has(t)) return;
        args.push(m.get(t));
      }
      out.t.push(t);
      out.y.push(args.some((a) => a == null) ? null : fn(...args));
    });
    return out;
  }
  function sum(lines) {
    return combine(lines, (...a) => a.reduce((x, y) => x + y, 0));
  }
  function scale(line, k) {
    return { t: line.t, y: line.y.map((v) => (v == null ? null : v * k)) };
  }
  function groupBy(list, label) {
    const groups = new Map();
    for (const s of list) {
      const k = s.metric[label] || "";
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(s);
    }
    return [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0], undefined, { numeric: true }));
  }
  function last(line) {
    for (let i = line.y.length - 1; i >= 0; i--) if (line.y[i] != null) return line.y[i];
    return null;
  }
  function direct(label, s, color) {
    return { label, line: raw(s), color, source: s };
  }

  /* ---- the host panels ---- */

  const skipNet = (m) => m.device !== "lo";
  const PANELS = [
    {
      id: "cpu", title: "CPU by mode", unit: "percent", names: ["node_cpu_seconds_total"],
      lines() {
        const all = series("node_cpu_seconds_total");
        const ncpu = new Set(all.map((s) => s.metric.cpu)).size || 1;
        return groupBy(all, "mode").map(([mode, list]) => ({
          label: mode, color: CPU_COLORS[mode], hidden: mode === "idle",
          line: scale(sum(list.map(rate)), 100 / ncpu),
        }));
      },
    },
    {
      id: "load", title: "Load average", unit: "", names: ["node_load1", "node_load5", "node_load15"],
      lines() {
        return ["node_load1", "node_load5", "node_load15"].flatMap((n, i) =>
          series(n).map((s) => direct(n.replace("node_", ""), s, PALETTE[i])));
      },
    },
    {
      id: "memory", title: "Memory and swap", unit: "bytes",
      names: ["node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes", "node_memory_MemFree_bytes",
        "node_memory_Buffers_bytes", "node_memory_Cached_bytes", "node_memory_SwapTotal_bytes",
        "node_memory_SwapFree_bytes"],
      lines() {
        const g = (n) => { const s = series("node_memory_" + n + "_bytes")[0]; return s && raw(s); };
        return [
          { label: "used", color: PALETTE[3], line: combine([g("MemTotal"), g("MemAvailable")], (t, a) => t - a) },
          { label: "cache and buffers", color: PALETTE[0], line: sum([g("Cached"), g("Buffers")]) },
          { label: "free", color: PALETTE[2], line: g("MemFree") || { t: [], y: [] } },
          { label: "total", color: PALETTE[9], line: g("MemTotal") || { t: [], y: [] } },
          { label: "swap used", color: PALETTE[1], line: combine([g("SwapTotal"), g("SwapFree")], (t, f) => t - f) },
        ].filter((l) => l.line.t.length);
      },
    },
    {
      id: "disk-io", title: "Disk throughput", unit: "bytes/s",
      names: ["node_disk_read_bytes_total", "node_disk_written_bytes_total"],
      lines() {
        const out = [];
        for (const [name, dir] of [["node_disk_read_bytes_total", "read"], ["node_disk_written_bytes_total", "write"]])
          for (const s of series(name)) out.push({ label: s.metric.device + " " + dir, line: rate(s) });
        return out;
      },
    },
    {
      id: "disk-util", title: "Disk utilisation (time busy)", unit: "percent",
      names: ["node_disk_io_time_seconds_total"],
      lines() {
        return series("node_disk_io_time_seconds_total").map((s) =>
          ({ label: s.metric.device, line: scale(rate(s), 100) }));
      },
    },
    {
      id: "filesystem", title: "Filesystem fill", unit: "percent",
      names: ["node_filesystem_size_bytes", "node_filesystem_avail_bytes"],
      lines() {
        const avail = new Map(series("node_filesystem_avail_bytes").map((s) => [s.metric.mountpoint, s]));
        return series("node_filesystem_size_bytes", (m) => avail.has(m.mountpoint))
          .filter((s) => last(raw(s)) > 0)
          .map((s) => ({
            label: s.metric.mountpoint,
            line: combine([raw(s), raw(avail.get(s.metric.mountpoint))], (size, a) => (size > 0 ? (1 - a / size) * 100 : null)),
          }));
      },
    },
    {
      id: "network", title: "Network traffic", unit: "bytes/s",
      names: ["node_network_receive_bytes_total", "node_network_transmit_bytes_total"],
      lines() {
        const out = [];
        for (const [name, dir] of [["node_network_receive_bytes_total", "in"], ["node_network_transmit_bytes_total", "out"]])
          for (const s of series(name, skipNet)) out.push({ label: s.metric.device + " " + dir, line: rate(s) });
        return out;
      },
    },
    {
      id: "network-errors", title: "Network errors and drops", unit: "/s",
      names: ["node_network_receive_errs_total", "node_network_transmit_errs_total",
        "node_network_receive_drop_total", "node_network_transmit_drop_total"],
      lines() {
        const out = [];
        for (const [kind, a, b] of [["errors", "receive_errs", "transmit_errs"], ["drops", "receive_drop", "transmit_drop"]]) {
          const rx = groupBy(series("node_network_" + a + "_total", skipNet), "device");
          const tx = new Map(groupBy(series("node_network_" + b + "_total", skipNet), "device"));
          for (const [dev, list] of rx)
            out.push({ label: dev + " " + kind, line: sum([rate(list[0]), tx.has(dev) ? rate(tx.get(dev)[0]) : null].filter(Boolean)) });
        }
        return out;
      },
    },
    {
      id: "pressure", title: "Pressure stall (PSI), share of time", unit: "percent",
      names: ["node_pressure_cpu_waiting_seconds_total", "node_pressure_memory_waiting_seconds_total",
        "node_pressure_memory_stalled_seconds_total", "node_pressure_io_waiting_seconds_total",
        "node_pressure_io_stalled_seconds_total"],
      lines() {
        return this.names.flatMap((n, i) => series(n).map((s) => ({
          label: n.replace("node_pressure_", "").replace("_seconds_total", "").replace("_", " "),
          color: PALETTE[i], line: scale(rate(s), 100),
        })));
      },
    },
    {
      id: "collectors", title: "Collection time, slowest collectors", unit: "seconds",
      names: ["node_scrape_collector_duration_seconds"],
      lines() {
        /* the 8 slowest over the window, in name order so that the chart is stable */
        const mean = (l) => l.y.reduce((x, y) => x + y, 0) / (l.y.length || 1);
        return series("node_scrape_collector_duration_seconds")
          .map((s) => direct(s.metric.collector, s))
          .sort((a, b) => mean(b.line) - mean(a.line)).slice(0, 8)
          .sort((a, b) => a.label.localeCompare(b.label));
      },
    },
  ];

  /* ---- charts ---- */

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function chartHeight() {
    return window.innerWidth < 520 ? 170 : 200;
  }
  function createPanel(def, container) {
    const el = document.createElement("article");
    el.className = "panel";
    el.id = "panel-" + def.id;
    const h = document.createElement("h3");
    const title = document.createElement("span");
    title.textContent = def.title;
    const unit = document.createElement("span");
    unit.className = "unit";
    unit.textContent = UNITS[def.unit].name;
    h.append(title, unit);
    if (def.onClose) {
      const close = document.createElement("button");
      close.className = "close";
      close.type = "button";
      close.textContent = "×";
      close.title = "Remove this chart";
      close.addEventListener("click", def.onClose);
      h.append(close);
    }
    const body = document.createElement("div");
    el.append(h, body);
    container.append(el);
    return { def, el, body, chart: null, signature: "" };
  }

  function align(lines) {
    const ts = [...new Set(lines.flatMap((l) => l.line.t))].sort((a, b) => a - b);
    const index = new Map(ts.map((t, i) => [t, i]));
    const data = [ts];
    for (const l of lines) {
      const ys = new Array(ts.length).fill(null);
      l.line.t.forEach((t, i) => { ys[index.get(t)] = l.line.y[i]; });
      data.push(ys);
    }
    return data;
  }

  function chartOptions(p, lines) {
    const unit = p.def.unit, axis = cssVar("--muted"), grid = cssVar("--grid");
    return {
      width: Math.max(200, p.body.clientWidth),
      height: chartHeight(),
      scales: {
        x: { time: true },
        y: { range: (u, min, max) => [Math.min(0, min), Math.max(max * 1.05, UNITS[unit].floor)] },
      },
      axes: [
        { stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid } },
        { stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid }, size: 84,
          incrs: UNITS[unit].incrs, values: (u, vals) => vals.map((v) => fmtValue(unit, v)) },
      ],
      series: [{}].concat(lines.map((l, i) => ({
        label: l.label, stroke: l.color || PALETTE[i % PALETTE.length], width: 1.5,
        show: !l.hidden, points: { show: false }, value: (u, v) => fmtValue(unit, v),
      }))),
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      hooks: { ready: [(u) => u.setLegend({ idx: u.data[0].length - 1 })] },
    };
  }

  function draw(p) {
    let lines = p.def.lines().filter((l) => l.line.t.length).slice(0, MAX_LINES);
    const shown = {};
    if (!lines.length) {
      if (p.chart) { p.chart.destroy(); p.chart = null; }
      p.signature = "";
      p.body.innerHTML = '<p class="empty">no data yet</p>';
      exposed.panels[p.def.id] = { title: p.def.title, unit: p.def.unit, lines: [] };
      return;
    }
    const signature = lines.map((l) => l.label).join("\u0000");
    const data = align(lines);
    if (!p.chart || signature !== p.signature) {
      if (p.chart) p.chart.destroy();
      p.body.textContent = "";
      p.chart = new uPlot(chartOptions(p, lines), data, p.body);
      p.signature = signature;
    } else {
      p.chart.setData(data);
    }
    /* Away from the cursor, the legend shows the newest values. */
    if (!(p.chart.cursor.left >= 0)) p.chart.setLegend({ idx: data[0].length - 1 });
    const out = lines.map((l) => {
      let i = l.line.y.length - 1;
      while (i > 0 && l.line.y[i] == null) i--;
      const src = l.source;
      shown[l.label] = l.line.y[i];
      return {
        label: l.label, t: l.line.t[i], y: l.line.y[i], points: l.line.t.length,
        source: src ? { metric: src.metric, t: src.t[src.t.length - 1], v: src.v[src.v.length - 1] } : null,
      };
    });
    exposed.panels[p.def.id] = { title: p.def.title, unit: p.def.unit, lines: out };
    p.el.setAttribute("data-drawn", JSON.stringify(shown));
  }

  function drawAll() {
    for (const p of state.panels) draw(p);
    for (const p of state.custom.values()) draw(p);
  }

  /* ---- polling ---- */

  function wantedNames() {
    const names = new Set();
    for (const p of state.panels) p.def.names.forEach((n) => names.add(n));
    for (const p of state.custom.values()) p.def.names.forEach((n) => names.add(n));
    return [...names];
  }
  function selector(names) {
    return '{__name__=~"' + names.join("|") + '"}';
  }
  async function api(path) {
    const res = await fetch("api/v1/" + path, { cache: "no-store" });
    const body = await res.json();
    if (body.status !== "success") throw new Error(body.error || "HTTP " + res.status);
    return body.data;
  }
  async function fetchRange(names, seconds) {
    const q = selector(names) + "[" + Math.max(1, Math.ceil(seconds)) + "s]";
    const data = await api("query?query=" + encodeURIComponent(q));
    merge(data.result);
  }

  async function poll() {
    const started = performance.now(), now = Date.now() / 1000;
    const names = wantedNames(), fresh = names.filter((n) => !state.fetchedNames.has(n));
    try {
      if (fresh.length) await fetchRange(fresh, state.windowSec);
      fresh.forEach((n) => state.fetchedNames.add(n));
      const old = names.filter((n) => !fresh.includes(n));
      if (old.length) await fetchRange(old, Math.min(state.windowSec, now - state.lastPoll + 5));
      state.lastPoll = now;
      trim(serverNow());
      drawAll();
      exposed.polls++;
      exposed.ready = true;
      setStatus("Updated " + new Date().toLocaleTimeString() + " · " + state.store.size + " series · " +
        Math.round(performance.now() - started) + " ms", false);
    } catch (e) {
      exposed.errors.push(String(e));
      setStatus("Cannot reach the exporter: " + e.message, true);
    }
  }

  function schedule() {
    clearTimeout(state.timer);
    if (state.paused) return;
    state.timer = setTimeout(async () => {
      await poll();
      schedule();
    }, POLL_MS);
  }

  function setPaused(paused) {
    state.paused = paused;
    $("pause").textContent = paused ? "Resume" : "Pause";
    if (!paused) { poll().then(schedule); } else clearTimeout(state.timer);
    return exposed.panels;
  }
  function setStatus(text, error) {
    const el = $("status");
    el.textContent = state.paused ? "Paused · " + text : text;
    el.className = error ? "error" : "";
  }

  /* ---- collectors and families (/metrics.json, every few seconds) ---- */

  function ago(ts) {
    if (ts == null) return "never";
    const s = Math.max(0, serverNow() - ts);
    return s < 90 ? Math.round(s) + " s ago" : Math.round(s / 60) + " min ago";
  }
  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
  }
  function renderHealth(collectors) {
    const tbody = $("health").querySelector("tbody");
    tbody.textContent = "";
    for (const c of collectors) {
      const tr = document.createElement("tr");
      cell(tr, c.name);
      cell(tr, !c.up ? "down" : c.success ? "up" : "failed", !c.up ? "down" : c.success ? "up" : "failed");
      cell(tr, c.duration_seconds == null ? "–" : fmtSeconds(c.duration_seconds));
      cell(tr, String(c.series));
      cell(tr, ago(c.last_publish_timestamp_seconds));
      cell(tr, c.error || "", "error");
      tbody.append(tr);
    }
  }

  function isCustomCollector(name, families) {
    if (name === "exporter" || name === "agent") return false;
    return families.some((f) => !f.name.startsWith("node_"));
  }
  function renderFamilies() {
    const filter = $("family-filter").value.trim().toLowerCase();
    const byCollector = new Map();
    for (const f of state.families) {
      if (filter && !f.name.toLowerCase().includes(filter) && !f.collector.includes(filter)) continue;
      if (!byCollector.has(f.collector)) byCollector.set(f.collector, []);
      byCollector.get(f.collector).push(f);
    }
    const groups = [...byCollector.entries()].map(([c, fams]) => ({ c, fams, custom: isCustomCollector(c, fams) }))
      .sort((a, b) => (b.custom - a.custom) || a.c.localeCompare(b.c));
    const root = $("families");
    const open = new Set([...root.querySelectorAll("details[open]")].map((d) => d.dataset.collector));
    root.textContent = "";
    for (const g of groups) {
      const d = document.createElement("details");
      d.dataset.collector = g.c;
      d.open = open.has(g.c) || g.custom || Boolean(filter);
      const s = document.createElement("summary");
      s.textContent = g.c + (g.custom ? " (custom)" : "") + " ";
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = g.fams.length + " families";
      s.append(count);
      const ul = document.createElement("ul");
      for (const f of g.fams) {
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = f.name;
        b.title = f.help;
        b.addEventListener("click", () => addCustomChart(f.name));
        const t = document.createElement("span");
        t.className = "type";
        t.textContent = f.type;
        li.append(b, t);
        ul.append(li);
      }
      d.append(s, ul);
      root.append(d);
    }
  }

  async function refreshMeta() {
    try {
      const res = await fetch("metrics.json", { cache: "no-store" });
      const doc = await res.json();
      renderHealth(doc.collectors);
      state.families = doc.families.map((f) => ({ name: f.name, type: f.type, help: f.help, collector: f.collector }));
      renderFamilies();
      const uname = doc.families.find((f) => f.name === "node_uname_info");
      if (uname && uname.series[0]) $("host").textContent = uname.series[0].labels.nodename || "";
    } catch (e) {
      exposed.errors.push(String(e));
    }
  }

  /* ---- charts of any family ---- */

  function unitOf(name, counter) {
    const base = name.replace(/_total$/, "");
    if (/_bytes$/.test(base)) return counter ? "bytes/s" : "bytes";
    if (/_seconds$/.test(base)) return counter ? "" : "seconds";
    return counter ? "/s" : "";
  }
  function labelOf(metric) {
    const parts = Object.keys(metric).filter((k) => k !== "__name__").sort().map((k) => k + "=" + metric[k]);
    return parts.length ? parts.join(", ") : metric.__name__;
  }
  function familyDef(f) {
    const n = f.name;
    if (f.type === "histogram")
      return { names: [n + "_sum", n + "_count"], unit: unitOf(n, false), title: n + " (mean per observation)",
        lines: () => series(n + "_count").map((c) => {
          const s = series(n + "_sum", (m) => labelOf(m) === labelOf(c.metric))[0];
          return { label: labelOf(c.metric), line: s ? combine([rate(s), rate(c)], (a, b) => (b > 0 ? a / b : null)) : { t: [], y: [] } };
        }) };
    if (f.type === "summary")
      return { names: [n], unit: unitOf(n, false), title: n + " (quantiles)",
        lines: () => series(n).map((s) => direct(labelOf(s.metric), s)) };
    if (f.type === "counter")
      return { names: [n], unit: unitOf(n, true), title: n + " (rate)",
        lines: () => series(n).map((s) => ({ label: labelOf(s.metric), line: rate(s), source: s })) };
    return { names: [n], unit: unitOf(n, false), title: n,
      lines: () => series(n).map((s) => direct(labelOf(s.metric), s)) };
  }

  function addCustomChart(name) {
    const f = state.families.find((x) => x.name === name);
    if (!f) return null;
    const id = "family-" + name;
    if (state.custom.has(id)) return id;
    const def = Object.assign({ id }, familyDef(f));
    def.onClose = () => {
      const p = state.custom.get(id);
      if (p.chart) p.chart.destroy();
      p.el.remove();
      state.custom.delete(id);
      delete exposed.panels[id];
    };
    state.custom.set(id, createPanel(def, $("custom-panels")));
    poll();
    return id;
  }

  /* ---- start ---- */

  function resize() {
    for (const p of [...state.panels, ...state.custom.values()])
      if (p.chart) p.chart.setSize({ width: Math.max(200, p.body.clientWidth), height: chartHeight() });
  }

  function start() {
    const panels = $("panels");
    state.panels = PANELS.map((def) => createPanel(def, panels));
    $("window").addEventListener("change", (e) => {
      state.windowSec = Number(e.target.value);
      state.fetchedNames.clear();
      poll();
    });
    $("pause").addEventListener("click", () => setPaused(!state.paused));
    $("family-filter").addEventListener("input", renderFamilies);
    let pending = null;
    window.addEventListener("resize", () => { clearTimeout(pending); pending = setTimeout(resize, 100); });
    refreshMeta();
    setInterval(refreshMeta, META_MS);
    poll().then(schedule);
  }

  start();
})();
