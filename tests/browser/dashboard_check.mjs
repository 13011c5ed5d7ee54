// The dashboard in a real browser: headless Debian Chromium driven over the
// DevTools protocol on a pipe (--remote-debugging-pipe; no npm package, no
// browser download).  Loads the exporter's page, waits for it to draw, and
// checks that
//   - the charts are drawn, with the values /metrics serves,
//   - nothing was logged as an error and no request failed,
//   - no request went anywhere but the exporter,
//   - a custom collector's family is listed and can be charted,
// then saves screenshots (laptop and phone sizes).
//
//   node tests/browser/dashboard_check.mjs URL SCREENSHOT_DIR CUSTOM_FAMILY CUSTOM_VALUE
// Prints "ok - ..." / "not ok - ..." lines; exits 1 when a check failed.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, shotDir, customFamily, customValue] = process.argv.slice(2);
const origin = new URL(url).origin;
let failures = 0;
const ok = (what) => console.log("ok - " + what);
const notOk = (what) => { console.log("not ok - " + what); failures++; };
const check = (what, cond, detail) => (cond ? ok(what) : notOk(what + (detail ? ": " + detail : "")));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const profile = mkdtempSync(join(tmpdir(), "shm-chromium-"));
const chrome = spawn("/usr/bin/chromium", [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-extensions", "--disable-default-apps", "--mute-audio",
  "--user-data-dir=" + profile, "--remote-debugging-pipe", "about:blank",
], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
let chromeLog = "";
chrome.stderr.on("data", (d) => { chromeLog = (chromeLog + d).slice(-4000); });

const deadline = setTimeout(() => {
  notOk("the browser check finished within 90 s");
  finish(1);
}, 90000);

function finish(code) {
  clearTimeout(deadline);
  try { chrome.kill("SIGKILL"); } catch { /* gone */ }
  rmSync(profile, { recursive: true, force: true });
  if (code && chromeLog) console.log("--- chromium stderr (tail):\n" + chromeLog);
  process.exit(code);
}

/* ---- the DevTools protocol over fds 3 (to chromium) and 4 (from it) ---- */

const toChrome = chrome.stdio[3], fromChrome = chrome.stdio[4];
let nextId = 1, inbuf = "";
const pending = new Map(), listeners = [];
fromChrome.on("data", (chunk) => {
  inbuf += chunk.toString("utf8");
  let nul;
  while ((nul = inbuf.indexOf("\0")) >= 0) {
    const msg = JSON.parse(inbuf.slice(0, nul));
    inbuf = inbuf.slice(nul + 1);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      msg.error ? reject(new Error(msg.error.message)) : resolve(msg.result);
    } else if (msg.method) listeners.forEach((fn) => fn(msg));
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  const msg = { id, method, params };
  if (sessionId) msg.sessionId = sessionId;
  toChrome.write(JSON.stringify(msg) + "\0");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

/* ---- what the page did ---- */

const requests = [], problems = [];
listeners.push((msg) => {
  const p = msg.params;
  if (msg.method === "Network.requestWillBeSent") requests.push(p.request.url);
  if (msg.method === "Network.responseReceived" && p.response.status >= 400)
    problems.push("HTTP " + p.response.status + " for " + p.response.url);
  if (msg.method === "Network.loadingFailed" && !p.canceled) problems.push("request failed: " + p.errorText);
  if (msg.method === "Runtime.exceptionThrown")
    problems.push("exception: " + (p.exceptionDetails.exception?.description || p.exceptionDetails.text));
  if (msg.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert"))
    problems.push("console." + p.type + ": " + p.args.map((a) => a.value ?? a.description).join(" "));
  if (msg.method === "Log.entryAdded" && p.entry.level === "error")
    problems.push("log: " + p.entry.text + (p.entry.url ? " (" + p.entry.url + ")" : ""));
});

async function evaluate(session, expr) {
  const r = await send("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true }, session);
  if (r.exceptionDetails) throw new Error("evaluating " + expr + ": " + r.exceptionDetails.text);
  return r.result.value;
}
async function waitFor(session, expr, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await evaluate(session, expr)) return true;
    await sleep(200);
  }
  return false;
}

/* ---- /metrics ---- */

function parseText(text) {
  const out = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (x, c) => (c === "n" ? "\n" : c));
    out.push({ name: m[1], labels, value: m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : parseFloat(m[3]) });
  }
  return out;
}
function value(samples, name, labels = {}) {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s ? s.value : undefined;
}
async function get(path) {
  const res = await fetch(origin + path);
  return res;
}
async function publishTimes() {
  const doc = await (await get("/metrics.json")).json();
  return Object.fromEntries(doc.collectors.map((c) => [c.name, c.last_publish_timestamp_seconds]));
}

/* The page's last samples and /metrics from the same publish: pause the page,
 * read what it drew, and accept /metrics when the collectors' publish times
 * before and after reading it are those of the page's samples. */
async function consistentSnapshot(session, collectors, sampleOf) {
  for (let attempt = 0; attempt < 12; attempt++) {
    const panels = await evaluate(session, "window.shmDashboard.pause()");
    const before = await publishTimes();
    const text = await (await get("/metrics")).text();
    const after = await publishTimes();
    const same = collectors.every((c) => {
      const t = sampleOf(panels, c);
      return t != null && before[c] === after[c] && Math.abs(before[c] - t) < 0.002;
    });
    if (same) return { panels, samples: parseText(text) };
    await evaluate(session, "window.shmDashboard.resume(), true");
    await sleep(700 + attempt * 150);
  }
  return null;
}

const lineOf = (panels, id, label) => (panels[id]?.lines || []).find((l) => l.label === label);
const near = (a, b) => a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));

async function checkValues(session) {
  const snap = await consistentSnapshot(session, ["loadavg", "meminfo"], (panels, c) =>
    c === "loadavg" ? lineOf(panels, "load", "load1")?.source?.t : lineOf(panels, "memory", "total")?.t);
  if (!snap) return notOk("the page and /metrics agree on a publish (12 tries)");
  const { panels, samples } = snap;
  for (const n of ["load1", "load5", "load15"]) {
    const l = lineOf(panels, "load", n);
    const want = value(samples, "node_" + n);
    check(`load panel draws node_${n} = ${want} as in /metrics`, l && l.y === want && l.source.v === want,
      l ? `drew ${l.y}` : "no line");
  }
  const total = value(samples, "node_memory_MemTotal_bytes"), avail = value(samples, "node_memory_MemAvailable_bytes");
  const memTotal = lineOf(panels, "memory", "total"), used = lineOf(panels, "memory", "used");
  check(`memory panel draws total = ${total} bytes as in /metrics`, memTotal && memTotal.y === total, memTotal && `drew ${memTotal.y}`);
  check(`memory panel draws used = MemTotal - MemAvailable = ${total - avail}`, used && used.y === total - avail, used && `drew ${used.y}`);
  const cpu = panels.cpu?.lines || [];
  const cpuSum = cpu.reduce((a, l) => a + (l.y || 0), 0);
  check(`CPU panel: the modes add up to about 100 % (${cpuSum.toFixed(1)} %, ${cpu.length} modes)`,
    cpu.length >= 4 && cpuSum > 80 && cpuSum < 120);
  const sizes = samples.filter((s) => s.name === "node_filesystem_size_bytes");
  for (const l of panels.filesystem?.lines || []) {
    const size = value(samples, "node_filesystem_size_bytes", { mountpoint: l.label });
    const av = value(samples, "node_filesystem_avail_bytes", { mountpoint: l.label });
    if (size === undefined) continue; /* published after the snapshot */
    check(`filesystem panel draws ${l.label} at ${(100 * (1 - av / size)).toFixed(2)} % full as in /metrics`,
      near(l.y, (1 - av / size) * 100), `drew ${l.y}`);
    break;
  }
  if (!sizes.length) console.log("ok - # SKIP no filesystem on this host");
  await evaluate(session, "window.shmDashboard.resume(), true");
}

async function checkCustom(session) {
  const listed = await waitFor(session,
    `[...document.querySelectorAll('#families button')].some(b => b.textContent === ${JSON.stringify(customFamily)})`, 15000);
  check(`the custom family ${customFamily} is listed`, listed);
  const id = await evaluate(session, `window.shmDashboard.chartFamily(${JSON.stringify(customFamily)})`);
  const drawn = await waitFor(session, `(window.shmDashboard.panels[${JSON.stringify(id)}]?.lines || []).length > 0`, 10000);
  const lines = await evaluate(session, `window.shmDashboard.panels[${JSON.stringify(id)}]?.lines || []`);
  const want = parseFloat(customValue);
  check(`charting ${customFamily} draws ${want} as in /metrics`,
    drawn && lines.some((l) => l.y === want) &&
    value(parseText(await (await get("/metrics")).text()), customFamily) === want, JSON.stringify(lines));
}

async function screenshot(session, file, width, height, mobile) {
  await send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile }, session);
  await sleep(2500); /* two polls at the new size */
  const { data } = await send("Page.captureScreenshot", { format: "png", captureBeyondViewport: false }, session);
  writeFileSync(file, Buffer.from(data, "base64"));
  ok(`screenshot ${file} (${width}x${height})`);
}

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId: s } = await send("Target.attachToTarget", { targetId, flatten: true });
  for (const d of ["Network", "Runtime", "Log", "Page"]) await send(d + ".enable", {}, s);
  await send("Emulation.setDeviceMetricsOverride", { width: 1366, height: 1900, deviceScaleFactor: 1, mobile: false }, s);
  await send("Page.navigate", { url }, s);

  const ready = await waitFor(s, "window.shmDashboard && window.shmDashboard.polls >= 4", 30000);
  check("the page loads and polls the exporter every second", ready);
  if (!ready) return;
  const panels = await evaluate(s, "window.shmDashboard.panels");
  for (const id of ["cpu", "load", "memory", "network", "collectors"])
    check(`panel ${id} is drawn (${panels[id]?.lines?.length || 0} lines)`,
      (panels[id]?.lines || []).length > 0 &&
      await evaluate(s, `document.querySelector('#panel-${id} canvas') !== null`));
  for (const id of ["disk-io", "disk-util", "filesystem", "network-errors", "pressure"])
    if ((panels[id]?.lines || []).length) ok(`panel ${id} is drawn (${panels[id].lines.length} lines)`);
    else console.log(`ok - # SKIP panel ${id}: nothing to draw on this host`);
  const rows = await evaluate(s, "document.querySelectorAll('#health tbody tr').length");
  check(`the collectors table lists every collector (${rows} rows)`, rows > 3);
  check("the links to /metrics and /metrics.json are on the page",
    await evaluate(s, `['metrics','metrics.json'].every(h => document.querySelector('a[href="' + h + '"]'))`));

  await checkValues(s);
  await checkCustom(s);
  await screenshot(s, join(shotDir, "dashboard.png"), 1366, 1900, false);
  await screenshot(s, join(shotDir, "dashboard-phone.png"), 390, 1600, true);

  const foreign = requests.filter((r) => !r.startsWith(origin + "/") && !r.startsWith("data:"));
  check(`no request to another host (${requests.length} requests, all to ${origin})`, foreign.length === 0, foreign.slice(0, 5).join(" "));
  const errors = await evaluate(s, "window.shmDashboard.errors");
  check("no console error, exception, failed request or CSP violation", problems.length === 0 && errors.length === 0,
    problems.concat(errors).slice(0, 8).join(" | "));
}

main().then(() => finish(failures ? 1 : 0), (e) => { notOk("browser check: " + e.message); finish(1); });
