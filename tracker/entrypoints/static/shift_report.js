"use strict";
// The shift report page: one line's shift from /api/v1/reports/shift, printable (print CSS)
// and downloadable as CSV. The key is kept as the board keeps it (sessionStorage, sent in the
// X-API-Key header, never in a URL); the line, date and shift are in the page's URL.

const KEY = "shopfloor.key";
const $ = (selector) => document.querySelector(selector);
const apiKey = () => sessionStorage.getItem(KEY) || "";
let current = null; // the last report shown

translatePage(); // the static labels, in the browser's language (i18n.js)
document.title = t("report.page_title");

function showLogin(message) {
  sessionStorage.removeItem(KEY);
  $("#report").hidden = true;
  $("#signout").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
  $("#key").focus();
}

$("#login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("#key").value.trim());
  $("#key").value = "";
  openReport();
});
$("#signout").addEventListener("click", () => showLogin(t("board.signed_out")));

function query(format) {
  const params = new URLSearchParams(location.search);
  const kept = new URLSearchParams();
  for (const name of ["line", "date", "shift"]) {
    if (params.get(name)) kept.set(name, params.get(name));
  }
  const path = format === "csv" ? "/api/v1/reports/shift.csv" : "/api/v1/reports/shift";
  return kept.toString() ? `${path}?${kept}` : path;
}

async function fetchReport(format) {
  return fetch(query(format), { headers: { "X-API-Key": apiKey() }, cache: "no-store" });
}

async function openReport() {
  $("#login").hidden = true;
  $("#report").hidden = false;
  $("#signout").hidden = false;
  $("#error").textContent = "";
  let response;
  try {
    response = await fetchReport("json");
  } catch (error) {
    $("#error").textContent = t("report.no_answer");
    return;
  }
  if (response.status === 401 || response.status === 403) {
    showLogin(t(response.status === 401 ? "report.key_invalid" : "report.key_forbidden"));
    return;
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    $("#error").textContent = detail || t("report.answered", { status: response.status });
    return;
  }
  current = await response.json();
  render(current);
}

// ---- the picker --------------------------------------------------------------------------

function choose(params) {
  const url = new URL(location.href);
  const lang = url.searchParams.get("lang"); // a forced language stays with the address
  url.search = new URLSearchParams(lang ? { ...params, lang } : params).toString();
  history.replaceState(null, "", url);
  openReport();
}

$("#pick").addEventListener("submit", (event) => {
  event.preventDefault();
  const params = {};
  if ($("#line").value) params.line = $("#line").value;
  if ($("#date").value) params.date = $("#date").value;
  if ($("#date").value && $("#shift").value) params.shift = $("#shift").value;
  choose(params);
});
$("#date").addEventListener("change", () => { $("#shift").replaceChildren(option("1", "1")); });
$("#current").addEventListener("click", () => choose($("#line").value ? { line: $("#line").value } : {}));
$("#print").addEventListener("click", () => window.print());
$("#csv").addEventListener("click", async () => {
  const response = await fetchReport("csv");
  if (!response.ok) {
    $("#error").textContent = t("report.csv_failed", { status: response.status });
    return;
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name ? name[1] : "shift-report.csv";
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
});

function option(value, text, selected) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  o.selected = Boolean(selected);
  return o;
}

// ---- the report --------------------------------------------------------------------------

// numbers and times in the page's language (i18n.js's LOCALE); times in the shift calendar's zone
const digits = (n) => new Intl.NumberFormat(LOCALE, { minimumFractionDigits: n, maximumFractionDigits: n, useGrouping: false });
const _percent = new Intl.NumberFormat(LOCALE, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
const pct = (v) => (v === null || v === undefined ? "–" : _percent.format(v));
const num = (v, n = 0) => (v === null || v === undefined ? "–" : digits(n).format(Number(v)));
const parts = (v) => (Number.isInteger(v) ? String(v) : num(v, 1));

function when(iso, zone) {
  return new Date(iso).toLocaleString(LOCALE, { timeZone: zone, dateStyle: "medium", timeStyle: "short" });
}
function clock(iso, zone) {
  return new Date(iso).toLocaleTimeString(LOCALE, { timeZone: zone, hour: "2-digit", minute: "2-digit" });
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fill(table, rows, columns, empty) {
  const body = $(`${table} tbody`);
  body.replaceChildren();
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell(empty, "empty");
    td.colSpan = columns;
    tr.append(td);
    body.append(tr);
    return;
  }
  for (const row of rows) {
    const tr = document.createElement("tr");
    tr.append(...row);
    body.append(tr);
  }
}

function renderPicker(r) {
  $("#line").replaceChildren(option("", t("report.all_machines"), r.line === null), ...r.lines.map((l) => option(l, l, l === r.line)));
  $("#date").value = r.date;
  const shifts = r.shifts.length ? r.shifts : [{ number: r.shift, from: r.from, to: r.to }];
  $("#shift").replaceChildren(
    ...shifts.map((s) => option(String(s.number), `${s.number} (${clock(s.from, r.timezone)}–${clock(s.to, r.timezone)})`, s.number === r.shift)),
  );
}

const lossName = (kind) => t(`report.loss.${kind}`);

function render(r) {
  renderPicker(r);
  $("#sheet").hidden = false;
  $("#title").textContent = t(r.line ? "report.of_line" : "report.of_all", { line: r.line, date: r.date, shift: r.shift });
  $("#span").textContent = `${when(r.from, r.timezone)} – ${clock(r.to, r.timezone)} (${r.timezone})` +
    (new Date(r.as_of) < new Date(r.to) ? t("report.so_far", { at: clock(r.as_of, r.timezone) }) : "");
  for (const k of ["oee", "availability", "performance", "quality"]) $(`#k-${k}`).textContent = pct(r.total[k]);
  $("#k-good").textContent = parts(r.total.good);
  $("#k-scrap").textContent = parts(r.total.scrap);
  fill("#output", r.output.map((o) => [
    cell(o.order_id), cell(o.customer), cell(o.product), cell(`${o.seq} ${o.operation}`), cell(o.machine_id),
    cell(parts(o.good), "num"), cell(parts(o.scrap), "num"), cell(String(o.quantity), "num"),
  ]), 8, t("report.no_output"));
  fill("#machines", r.machines.map((m) => [
    cell(m.machine_id), cell(pct(m.oee), "num"), cell(pct(m.availability), "num"), cell(pct(m.performance), "num"),
    cell(pct(m.quality), "num"), cell(num(m.planned_min, 1), "num"), cell(num(m.run_min, 1), "num"),
    cell(parts(m.good), "num"), cell(parts(m.scrap), "num"), cell(m.biggest_loss ? lossName(m.biggest_loss) : "–"),
  ]), 10, t("report.no_machines"));
  fill("#oee-losses", Object.entries(r.total.losses_min).map(([k, v]) => [
    cell(lossName(k)), cell(num(v, 1), "num"), cell(pct(r.total.losses_pct[k] / 100), "num"),
  ]), 3, "");
  const most = Math.max(1e-9, ...r.losses.map((l) => l.minutes));
  fill("#losses", r.losses.map((l) => {
    const bar = document.createElement("div");
    bar.className = "lossbar";
    bar.style.width = `${Math.round((100 * l.minutes) / most)}%`;
    const td = cell("");
    td.append(bar);
    return [cell(l.name), cell(num(l.minutes, 1), "num"), cell(String(l.stops), "num"), td];
  }), 4, t("report.no_downtime"));
  fill("#incidents", r.incidents.map((i) => [
    cell(String(i.id)), cell(i.machine_id), cell(i.cause + (i.reason_code ? ` ${i.reason_code}` : "")),
    cell(clock(i.started_at, r.timezone)), cell(i.closed_at ? clock(i.closed_at, r.timezone) : t("incident.open")),
    cell(t(`incident.${i.state}`)), cell(i.message), cell(i.acked_by || "–"),
  ]), 8, t("report.no_incidents"));
  $("#footer").textContent = t("report.footer", { at: when(new Date().toISOString(), r.timezone) });
}

if (apiKey()) openReport();
else showLogin("");
