"use strict";
// The board's machine view: click a machine card for its channels' charts (uPlot, shipped in
// static/), its states as bands behind them and its alarms as markers. Drag across a chart to
// zoom in (the range is read again at the finer bucket); the range buttons go back out.

const RANGES_H = { "15 min": 0.25, "1 h": 1, "8 h": 8, "24 h": 24, "7 d": 168 };
const STATE_COLOURS = {
  RUNNING: "#dcfce7", IDLE: "#f3f4f6", SETUP: "#e0e7ff", DOWN: "#fee2e2", OFFLINE: "#e5e7eb",
};
// the last hour first: what came before a stop; the buttons go out to a week
const machineView = { id: null, charts: [], from: null, to: null, hours: 1, seq: 0 };

/** Open the view on `machineId` over the last `hours` hours. */
function openMachine(machineId, hours = machineView.hours) {
  const to = new Date();
  machineView.hours = hours;
  loadMachine(machineId, new Date(to - hours * 3600e3), to);
}

function closeMachine() {
  machineView.id = null;
  destroyCharts();
  $("#machine-view").hidden = true;
}

function destroyCharts() {
  for (const chart of machineView.charts) chart.destroy();
  machineView.charts = [];
}

async function loadMachine(machineId, from, to) {
  const seq = ++machineView.seq; // a slower earlier answer must not replace a later one
  Object.assign(machineView, { id: machineId, from, to });
  const view = $("#machine-view");
  view.hidden = false;
  $("#machine-title").textContent = machineId;
  $("#machine-range").textContent = `${fmtTime(from.toISOString())} – ${fmtTime(to.toISOString())}`;
  $("#machine-status").textContent = t("track.loading");
  const width = Math.max(300, $("#machine-charts").clientWidth || 800);
  const query = new URLSearchParams({
    from: from.toISOString(), to: to.toISOString(), points: String(Math.min(2000, Math.round(width))),
  });
  const url = `/api/v1/machines/${encodeURIComponent(machineId)}/telemetry?${query}`;
  let response, body;
  try {
    response = await fetch(url, { headers: { "X-API-Key": apiKey() }, cache: "no-store" });
    body = await response.json().catch(() => null);
  } catch (error) {
    response = { ok: false, status: 0 };
  }
  if (seq !== machineView.seq) return;
  destroyCharts();
  if (!response.ok) {
    // a 503 says why (the store is down or none is configured); a 422 is a range too long
    const detail = body && typeof body.detail === "string" ? `: ${body.detail}` : "";
    $("#machine-status").textContent = response.status
      ? `${t("board.no_telemetry_http", { status: response.status })}${detail}`
      : t("board.unreachable");
    $("#machine-charts").replaceChildren();
    return;
  }
  renderMachineCharts(body, width);
}

/** One chart per channel, the x scale shared (zoom one, all follow). */
function renderMachineCharts(body, width) {
  const names = Object.keys(body.channels).sort();
  const alarms = body.alarms || [];
  $("#machine-status").textContent = names.length
    ? t("board.channels", { n: names.length, bucket: body.bucket_s, alarms: alarms.length })
    : t("board.no_telemetry");
  $("#machine-legend").replaceChildren(
    ...Object.entries(STATE_COLOURS).map(([s, colour]) => el("span", { class: "legend-item" }, swatch(colour), s)),
    el("span", { class: "legend-item" }, swatch("#b91c1c"), "alarm"),
  );
  const holder = $("#machine-charts");
  holder.replaceChildren();
  const range = [Date.parse(body.from) / 1000, Date.parse(body.to) / 1000];
  for (const name of names) {
    const points = body.channels[name];
    const box = el("div", { class: "channel", "data-channel": name });
    holder.append(box);
    const data = [points.map((p) => p[0]), points.map((p) => p[1])];
    machineView.charts.push(new uPlot(chartOptions(name, width, range, body), data, box));
  }
}

function swatch(colour) {
  const s = el("span", { class: "swatch" });
  s.style.background = colour;
  return s;
}

function chartOptions(name, width, range, body) {
  return {
    width: width - 8,
    height: 150,
    scales: { x: { time: true, min: range[0], max: range[1] } },
    series: [{}, { label: name, stroke: "#1d4ed8", width: 1.5, spanGaps: false }],
    cursor: { sync: { key: "machine-view" }, drag: { x: true, y: false } },
    legend: { show: true },
    hooks: {
      drawClear: [(u) => drawBands(u, body.states || [])],
      draw: [(u) => drawAlarms(u, body.alarms || [])],
      setSelect: [(u) => zoomTo(u)],
    },
  };
}

/** The machine's states as coloured bands behind the line. */
function drawBands(u, states) {
  const { ctx, bbox } = u;
  ctx.save();
  for (const band of states) {
    const x0 = u.valToPos(Date.parse(band.from) / 1000, "x", true);
    const x1 = u.valToPos(Date.parse(band.to) / 1000, "x", true);
    const left = Math.max(bbox.left, x0), right = Math.min(bbox.left + bbox.width, x1);
    if (right <= left) continue;
    ctx.fillStyle = STATE_COLOURS[band.state] || "#f9fafb";
    ctx.fillRect(left, bbox.top, right - left, bbox.height);
  }
  ctx.restore();
}

/** Each alarm as a red line with its code. */
function drawAlarms(u, alarms) {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.strokeStyle = ctx.fillStyle = "#b91c1c";
  ctx.lineWidth = 2;
  ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
  ctx.textAlign = "left"; // uPlot leaves its axes' alignment on the context
  ctx.textBaseline = "top";
  for (const alarm of alarms) {
    const x = u.valToPos(Date.parse(alarm.at) / 1000, "x", true);
    if (x < bbox.left || x > bbox.left + bbox.width) continue;
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    ctx.fillText(alarm.code, x + 4 * devicePixelRatio, bbox.top + 2 * devicePixelRatio);
  }
  ctx.restore();
}

/** A drag across a chart: read that range again, at the bucket its width allows. */
function zoomTo(u) {
  if (u.select.width < 5) return;
  const from = u.posToVal(u.select.left, "x"), to = u.posToVal(u.select.left + u.select.width, "x");
  u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
  loadMachine(machineView.id, new Date(from * 1000), new Date(to * 1000));
}

function machineRangeButtons() {
  return Object.entries(RANGES_H).map(([label, hours]) =>
    el("button", { type: "button", class: "range", "data-hours": hours, onclick: () => openMachine(machineView.id, hours) }, label),
  );
}

$("#machine-ranges").replaceChildren(...machineRangeButtons());
$("#machine-close").addEventListener("click", closeMachine);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && machineView.id) closeMachine();
});
