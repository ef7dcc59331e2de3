"use strict";
// The board's Gantt chart: a row per machine (the plant file's first, in its order), each
// operation's plan as an outline and what actually ran as a solid bar split by what the machine
// was doing (running, setup, idle, down), off-shift and downtime shading behind them, a time
// axis in plant time and a now-line. The chart scrolls inside its card and opens on "now".
// Rows come from /api/v1/schedule/machines; uses board.js's state, $ and getJson.

const GANTT_NS = "http://www.w3.org/2000/svg";
const GANTT_HOUR = 3600e3;
// rowH and axisH are also the heights of .gantt-name and .gantt-corner in board_gantt.css
const GANTT_LAYOUT = { rowH: 48, axisH: 36, minPxPerHour: 110, planY: 5, planH: 18, actY: 27, actH: 14 };
const GANTT_STATES = { RUNNING: "running", SETUP: "setup", IDLE: "idle", DOWN: "down", OFFLINE: "offline" };
const GANTT_LEGEND = [
  "planned", "running", "setup", "idle", "down", "offline", "unknown", "off-shift", "downtime", "now",
].map((kind) => [kind, t(kind === "now" ? "board.now" : `gantt.legend.${kind}`)]);
const gantt = {
  rows: null, // the last /api/v1/schedule/machines answer
  asked: null, // { from, to, at, machines }: what it was asked for, when, at which machine states
  api: true, // false once the endpoint answered 404 (an older server)
  loading: false,
  userScrolled: false, // the user moved the chart: keep their place instead of following now
  zoom: null, // hours in view (a zoom button); null: readable labels (minPxPerHour), Infinity: all
};

/** Operations for the chart: the schedule endpoint's, else each order's own operations. */
function ganttOperations() {
  if (state.schedule) return state.schedule;
  return [...state.orders.values()].flatMap((o) => o.operations.map((op) => ({ order_id: o.order_id, ...op, machine: op.planned_machine || op.machine })));
}

/** `node` with `tip` as its tooltip and as what a tap on it shows under the chart (phones
 * have no hover). */
function tipped(node, tip) {
  node.dataset.tip = tip;
  node.append(svgEl("title", {}, tip));
  return node;
}

function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS(GANTT_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

const ganttMs = (iso) => (iso ? new Date(iso).getTime() : null);

/** The machines' states as a signature: a change means the rows are out of date. */
function machineSignature() {
  return [...state.machines.values()].map((m) => `${m.machine_id}:${m.state}:${m.state_since}`).sort().join("|");
}

/** Read the rows for [t0, t1] unless the last read covers it, is fresh and no state changed. */
async function fetchGanttRows(t0, t1) {
  const a = gantt.asked;
  const signature = machineSignature();
  // a state change reads them again, but not more than every 10 s on a busy floor
  const age = a ? Date.now() - a.at : Infinity;
  const fresh = a && a.from <= t0 && a.to >= t1 && (age < 10000 || (age < 60000 && a.machines === signature));
  if (!gantt.api || gantt.loading || fresh) return;
  gantt.loading = true;
  const from = t0 - GANTT_HOUR, to = t1 + 6 * GANTT_HOUR;
  try {
    const query = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    const got = await getJson(`/api/v1/schedule/machines?${query}`);
    if (got.status === 404 || got.status === 405) gantt.api = false;
    gantt.asked = { from, to, at: Date.now(), machines: signature };
    if (got.status === 200) gantt.rows = got.body;
  } catch (error) {
    gantt.asked = { from, to, at: Date.now(), machines: signature }; // try again in a minute
  } finally {
    gantt.loading = false;
  }
  if (gantt.rows) renderGantt();
}

/** The plant's time zone (the first calendar's), else the browser's. */
function ganttZone() {
  const row = ((gantt.rows && gantt.rows.machines) || []).find((r) => r.timezone);
  return row ? row.timezone : undefined;
}

/** Minutes the zone is ahead of UTC at `ms`. */
function zoneOffset(ms, zone) {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" }).formatToParts(new Date(ms));
  const p = Object.fromEntries(parts.map((x) => [x.type, Number(x.value)]));
  return Math.round((Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(ms / 60000) * 60000) / 60000);
}

/** The time axis: hour ticks in the plant's zone, a day line and date at each midnight. */
function drawAxis(chart, g) {
  const step = [1 / 60, 2 / 60, 5 / 60, 10 / 60, 0.25, 0.5, 1, 2, 3, 6, 12, 24].map((h) => h * GANTT_HOUR).find((s) => (s / GANTT_HOUR) * g.pxPerHour >= 56) || 24 * GANTT_HOUR;
  const hm = new Intl.DateTimeFormat(LOCALE, { timeZone: g.zone, hour: "2-digit", minute: "2-digit" });
  const day = new Intl.DateTimeFormat(LOCALE, { timeZone: g.zone, weekday: "short", day: "numeric", month: "short" });
  const bottom = g.height;
  let lastDay = day.format(new Date(Date.now())); // today's date is in the corner already
  for (let local = Math.floor((g.t0 + zoneOffset(g.t0, g.zone) * 60000) / step) * step; ; local += step) {
    const tick = local - zoneOffset(local, g.zone) * 60000;
    if (tick > g.t1) break;
    if (tick < g.t0) continue;
    const x = g.x(tick);
    const date = day.format(new Date(tick));
    const midnight = local % (24 * GANTT_HOUR) === 0;
    chart.append(svgEl("line", { x1: x, x2: x, y1: 18, y2: bottom, class: midnight ? "tick day" : "tick" }));
    chart.append(svgEl("text", { x: x + 3, y: 30, class: "tick-label" }, hm.format(new Date(tick))));
    if (date !== lastDay) chart.append(svgEl("text", { x: x + 3, y: 13, class: "day-label" }, date));
    lastDay = date;
  }
}

/** The row's shading: off shift (hatched) and downtime (tinted), full row height. */
function drawShading(chart, g, row, y) {
  for (const s of row.off_shift || []) {
    const x0 = g.x(ganttMs(s.from));
    chart.append(tipped(svgEl("rect", { x: x0, y, width: Math.max(1, g.x(ganttMs(s.to)) - x0), height: GANTT_LAYOUT.rowH, class: "off-shift" }), t("gantt.off_tip", { machine: row.machine_id, kind: t(`gantt.off.${s.kind || "off shift"}`), calendar: row.calendar, from: fmtTime(s.from), to: fmtTime(s.to) })));
  }
  for (const d of row.downtime || []) {
    const x0 = g.x(ganttMs(d.from));
    const why = d.reason || d.alarm_code || t("gantt.no_reason");
    const what = t(d.state === "DOWN" ? "gantt.down" : "gantt.idle_job");
    const tip = t("gantt.down_tip", { machine: row.machine_id, what, from: fmtTime(d.from), to: d.open ? t("board.now") : fmtTime(d.to), span: fmtSpan(ganttMs(d.to) - ganttMs(d.from)), why });
    chart.append(tipped(svgEl("rect", { x: x0, y, width: Math.max(2, g.x(ganttMs(d.to)) - x0), height: GANTT_LAYOUT.rowH, class: `downtime dt-${d.state}`, "data-machine-id": row.machine_id }), tip));
  }
}

const ganttPen = document.createElement("canvas").getContext("2d");
if (ganttPen) ganttPen.font = "600 11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"; // .op-label's

/** The longest of "order/seq name", "order/seq", or "order/seq" cut short with "…" that fits
 * `width` px; none when not even three characters do. */
function fitLabel(full, short, width) {
  const fits = (text) => (ganttPen ? ganttPen.measureText(text).width : 7 * text.length) + 8 <= width;
  if (fits(full)) return full;
  if (fits(short)) return short;
  for (let n = short.length - 1; n >= 3; n--) if (fits(`${short.slice(0, n)}…`)) return `${short.slice(0, n)}…`;
  return null;
}

/** What the machine did while the operation ran: [from, to, class] pieces of [a, b]. */
function pieces(row, machineId, a, b) {
  const spans = ((row && row.states) || []).map((s) => [ganttMs(s.from), ganttMs(s.to), s.state]);
  const live = state.machines.get(machineId);
  const heard = gantt.rows ? ganttMs(gantt.rows.now) : 0;
  if (live && live.state_since) spans.push([Math.max(ganttMs(live.state_since), heard), Date.now(), live.state]);
  const out = [];
  let at = a;
  for (const [from, to, st] of spans.filter(([f, until]) => until > a && f < b).sort((p, q) => p[0] - q[0])) {
    if (from > at) out.push([at, from, "unknown"]);
    const start = Math.max(from, at), end = Math.min(to, b);
    if (end > start) out.push([start, end, GANTT_STATES[st] || "unknown"]);
    at = Math.max(at, end);
  }
  if (at < b) out.push([at, b, "unknown"]);
  return out;
}

function drawOperation(chart, g, row, machineId, op, y) {
  const L = GANTT_LAYOUT;
  const short = `${op.order_id}/${op.seq}`;
  const text = `${short}${op.name ? ` ${op.name}` : ""}`;
  const tip = t("board.gantt_tip", { op: text, from: fmtTime(op.planned_start), to: fmtTime(op.planned_end), start: fmtTime(op.started_at), end: op.completed_at ? fmtTime(op.completed_at) : op.started_at ? "…" : "–" });
  const attrs = { "data-order-id": op.order_id, "data-seq": op.seq };
  const span = [Infinity, -Infinity]; // where the label may go: under its planned and actual bars
  const cover = (x0, x1) => { span[0] = Math.min(span[0], x0); span[1] = Math.max(span[1], x1); };
  if (op.planned_start && op.planned_end) {
    const x0 = g.x(ganttMs(op.planned_start)), w = Math.max(2, g.x(ganttMs(op.planned_end)) - x0);
    chart.append(tipped(svgEl("rect", { ...attrs, x: x0, y: y + L.planY, width: w, height: L.planH, rx: 3, class: "planned" }), tip));
    cover(x0, x0 + w);
  }
  if (op.started_at) {
    const a = ganttMs(op.started_at), b = op.completed_at ? ganttMs(op.completed_at) : Date.now();
    const bar = svgEl("g", { ...attrs, class: "actual" });
    const spent = {};
    for (const [from, to, kind] of pieces(row, machineId, a, b)) {
      const x0 = g.x(from);
      bar.append(svgEl("rect", { x: x0, y: y + L.actY, width: Math.max(1, g.x(to) - x0), height: L.actH, class: `piece st-${kind}`, "data-state": kind }));
      spent[kind] = (spent[kind] || 0) + to - from;
    }
    const labels = Object.fromEntries(GANTT_LEGEND);
    tipped(bar, `${tip}; ${Object.entries(spent).map(([kind, ms]) => `${labels[kind]} ${fmtSpan(ms)}`).join(", ")}`);
    const x0 = g.x(a);
    bar.append(svgEl("rect", { x: x0, y: y + L.actY, width: Math.max(2, g.x(b) - x0), height: L.actH, class: "actual-frame" }));
    chart.append(bar);
    cover(x0, Math.max(x0 + 2, g.x(b)));
  }
  return span[0] < Infinity ? { x: span[0], width: span[1] - span[0], text, short } : null;
}

/** Labels in the row's top lane: each may run on past its bar up to the next one. */
function drawLabels(chart, labels, y, right) {
  labels.sort((a, b) => a.x - b.x);
  labels.forEach((label, i) => {
    const next = i + 1 < labels.length ? labels[i + 1].x : right;
    const fitted = fitLabel(label.text, label.short, Math.max(label.width, next - label.x - 4));
    if (fitted) chart.append(svgEl("text", { x: label.x + 4, y: y + GANTT_LAYOUT.planY + 13, class: "op-label" }, fitted));
  });
}

/** The rows: the endpoint's (declared machines first), then any other machine with work. */
function ganttRows(ops) {
  const rows = ((gantt.rows && gantt.rows.machines) || []).slice();
  const known = new Set(rows.map((r) => r.machine_id));
  const others = [...new Set([...ops.map((op) => op.machine), ...state.machines.keys()])].filter((m) => m && !known.has(m)).sort();
  return [...rows, ...others.map((m) => ({ machine_id: m, off_shift: [], states: [], downtime: [] }))];
}

/** The chart's window: what is planned or done (a day back and a week ahead at most) and a
 * quarter of an hour around now, on quarter hours. */
function ganttWindow(ops, now) {
  const times = ops.flatMap((op) => [ganttMs(op.planned_start), ganttMs(op.planned_end), ganttMs(op.started_at), ganttMs(op.completed_at)]).filter((x) => x !== null);
  const t0 = Math.max(Math.min(now - GANTT_HOUR / 4, ...times), now - 24 * GANTT_HOUR);
  const t1 = Math.min(Math.max(now + GANTT_HOUR / 4, ...times), now + 7 * 24 * GANTT_HOUR);
  const quarter = GANTT_HOUR / 4;
  return [Math.floor(t0 / quarter) * quarter, Math.ceil(t1 / quarter) * quarter];
}

/** The chart's frame, built once so that its scroll position survives re-renders. */
function ganttFrame(box) {
  let scroller = box.querySelector(".gantt-scroll");
  if (scroller) return scroller;
  const legend = el("div", { class: "legend gantt-legend small" }, ...GANTT_LEGEND.map(([kind, text]) => el("span", { class: "legend-item" }, el("span", { class: `swatch g-${kind}` }), text)));
  scroller = el("div", { class: "gantt-scroll", tabindex: "0", "aria-label": t("gantt.scroll_label") });
  for (const kind of ["pointerdown", "wheel", "touchstart", "keydown"]) scroller.addEventListener(kind, () => { gantt.userScrolled = true; }, { passive: true });
  const names = el("div", { class: "gantt-names" });
  const zoom = el("span", { class: "gantt-zoom", role: "group", "aria-label": t("gantt.zoom_label") }, ...[["close", null], ["24 h", 24], ["all", Infinity]].map(([name, hours]) => el("button", { type: "button", "data-zoom": name, "aria-pressed": String(gantt.zoom === hours), onclick: (event) => zoomGantt(hours, event.target) }, t(`gantt.zoom.${hours === 24 ? "24" : name}`))));
  const detail = el("p", { class: "gantt-detail small", role: "status" });
  scroller.addEventListener("click", (event) => {
    const hit = event.target.closest("[data-tip]");
    detail.textContent = hit ? hit.dataset.tip : "";
  });
  box.replaceChildren(legend, el("div", { class: "gantt-frame" }, names, scroller), detail, el("div", { class: "gantt-foot" }, el("p", { class: "gantt-note muted small" }), zoom));
  return scroller;
}

/** Show about `hours` hours across the card (null: close enough for labels), from now. */
function zoomGantt(hours, button) {
  gantt.zoom = hours;
  for (const other of button.parentNode.children) other.setAttribute("aria-pressed", String(other === button));
  gantt.userScrolled = false;
  renderGantt();
}

function renderGantt() {
  const now = Date.now();
  const ops = ganttOperations().filter((op) => op.planned_start || op.started_at);
  const box = $("#gantt");
  const [t0, t1] = ganttWindow(ops, now);
  fetchGanttRows(t0, t1);
  const rows = ganttRows(ops);
  if (!ops.length && !rows.length) return box.replaceChildren(el("p", { class: "muted" }, t("board.nothing_scheduled")));
  const scroller = ganttFrame(box);
  const L = GANTT_LAYOUT;
  const view = scroller.clientWidth || 640;
  const fit = (view - 4) / ((t1 - t0) / GANTT_HOUR);
  const pxPerHour = Math.max(gantt.zoom === null ? L.minPxPerHour : (view - 4) / gantt.zoom, fit);
  const width = Math.ceil(((t1 - t0) / GANTT_HOUR) * pxPerHour) + 4;
  const height = L.axisH + rows.length * L.rowH + 2;
  const g = { t0, t1, pxPerHour, height, zone: ganttZone(), x: (ms) => ((Math.min(Math.max(ms, t0), t1) - t0) / GANTT_HOUR) * pxPerHour };
  const chart = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t("gantt.chart_label") });
  const hatch = svgEl("pattern", { id: "gantt-hatch", width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, svgEl("rect", { width: 8, height: 8, class: "hatch-bg" }), svgEl("line", { x1: 0, y1: 0, x2: 0, y2: 8, class: "hatch-line" }));
  chart.append(svgEl("defs", {}, hatch));
  rows.forEach((row, i) => drawShading(chart, g, row, L.axisH + i * L.rowH));
  drawAxis(chart, g);
  rows.forEach((row, i) => {
    const y = L.axisH + i * L.rowH;
    chart.append(svgEl("line", { x1: 0, x2: width, y1: y + L.rowH, y2: y + L.rowH, class: "row-line" }));
    const labels = ops.filter((o) => o.machine === row.machine_id).map((op) => drawOperation(chart, g, row, row.machine_id, op, y));
    drawLabels(chart, labels.filter(Boolean), y, width);
  });
  chart.append(svgEl("line", { x1: g.x(now), x2: g.x(now), y1: 2, y2: height, class: "now-line" }));
  chart.append(svgEl("text", { x: g.x(now) + 4, y: 13, class: "now-label" }, t("board.now")));
  const left = scroller.scrollLeft;
  scroller.replaceChildren(chart);
  scroller.scrollLeft = gantt.userScrolled ? left : g.x(now) - view * 0.4; // some of the past too
  box.querySelector(".gantt-names").replaceChildren(
    el("div", { class: "gantt-corner small", title: t("gantt.today") }, new Intl.DateTimeFormat(LOCALE, { timeZone: g.zone, weekday: "short", day: "numeric", month: "short" }).format(new Date(now))),
    ...rows.map((r) => el("div", { class: "gantt-name", title: r.calendar ? t("gantt.calendar", { machine: r.machine_id, calendar: r.calendar }) : r.machine_id }, el("strong", {}, r.machine_id), r.calendar ? el("small", { class: "muted" }, r.calendar) : null)),
  );
  const truncated = gantt.rows && gantt.rows.truncated ? t("gantt.truncated") : "";
  const more = width > view ? t("gantt.scroll_more") : "";
  box.querySelector(".gantt-note").textContent = `${t("gantt.times_in", { zone: g.zone || t("gantt.browser_zone") })}${more}${truncated}.`;
}

window.addEventListener("resize", () => later("gantt", 200, renderGantt));
