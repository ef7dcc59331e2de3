"use strict";
// The board's shift view: OEE tiles per machine (A, P, Q and the biggest loss), the downtime
// Pareto of the shift, and the open incidents (a stopped machine and the orders it delays),
// each acknowledged once for itself and all its orders' alerts. They are read again when the
// stream brings changes: once changes pause for a moment, and at the latest after a max wait,
// since on a busy floor changes never pause and a wait restarted by each would never end.
// Uses board.js's state and getJson, and board_alerts.js's postAck.

const shift = { oee: null, pareto: null, incidents: [], drafts: new Map() };
const LOSSES = { unplanned_stop: "unplanned stops", performance: "slow cycles", quality: "scrap" };

// name -> { quiet, max } timers: `fn` runs `quietMs` after the last call, or `maxMs` after the
// first call of a burst, whichever comes first
const waits = {};
function debounced(name, quietMs, maxMs, fn) {
  const wait = (waits[name] = waits[name] || { quiet: null, max: null });
  const run = () => {
    clearTimeout(wait.quiet);
    clearTimeout(wait.max);
    wait.quiet = wait.max = null;
    fn();
  };
  clearTimeout(wait.quiet);
  wait.quiet = setTimeout(run, quietMs);
  if (!wait.max) wait.max = setTimeout(run, maxMs);
}

/** board.js calls this for every snapshot and change the stream brings. */
function floorChanged(name, data) {
  const machines = name === "snapshot" || data.ids.machines.length > 0;
  const alerts = name === "snapshot" || data.ids.alerts.length > 0;
  if (machines) debounced("cards", 300, 2000, fetchCards);
  if (machines) debounced("shift", 1500, 8000, fetchShift);
  if (machines || alerts) debounced("incidents", 300, 2000, fetchIncidents);
  if (name === "snapshot") fetchClearedAlerts();
}

const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);

/** OEE of the current shift, then the downtime Pareto over the same window. */
async function fetchShift() {
  const oee = await getJson("/api/v1/oee").catch(() => ({ status: 0 }));
  if (oee.status === 200) shift.oee = oee.body;
  const from = shift.oee ? `?from=${encodeURIComponent(shift.oee.from)}` : "";
  const pareto = await getJson(`/api/v1/downtime/pareto${from}`).catch(() => ({ status: 0 }));
  if (pareto.status === 200) shift.pareto = pareto.body;
  renderShift();
}

function renderShift() {
  const oee = shift.oee;
  $("#shift-window").textContent = oee ? `since ${fmtTime(oee.from)}` : "";
  $("#oee").replaceChildren(...(oee && oee.machines.length ? oee.machines.map(oeeTile) : [el("li", { class: "muted" }, "No OEE yet.")]));
  const bars = shift.pareto ? shift.pareto.bars : [];
  const most = Math.max(1, ...bars.map((b) => b.minutes));
  $("#pareto").replaceChildren(
    ...(bars.length
      ? bars.map((b) =>
          el("li", { class: "pareto-bar", "data-key": b.key },
            el("span", { class: "pareto-key" }, b.key),
            bar((100 * b.minutes) / most),
            el("span", { class: "small" }, `${b.minutes < 1 ? `${Math.round(b.minutes * 60)} s` : `${b.minutes.toFixed(1)} min`} · ${b.count} stop${b.count === 1 ? "" : "s"}`)))
      : [el("li", { class: "muted" }, "No downtime this shift.")]),
  );
}

/** The biggest loss, and how much of the shift had no data (before the machine reported, or
 * OFFLINE): counted as lost, it is why a machine heard from for minutes of a shift reads ~0%. */
function lossLines(m) {
  const known = Object.entries(m.losses_min).filter(([name, min]) => name !== "unknown" && min > 0);
  const [name, min] = known.sort((a, b) => b[1] - a[1])[0] || [];
  const lines = [name ? `biggest loss: ${LOSSES[name] || name}, ${min.toFixed(1)} min` : "no loss known"];
  if (m.losses_min.unknown > 0) lines.push(`no data for ${m.losses_min.unknown.toFixed(0)} of ${m.planned_min.toFixed(0)} min`);
  return lines.map((line) => el("div", { class: "small muted loss" }, line));
}

function oeeTile(m) {
  return el(
    "li",
    { class: "tile", "data-machine-id": m.machine_id, "data-stop-min": m.losses_min.unplanned_stop },
    el("div", {}, el("strong", {}, m.machine_id), el("span", { class: "oee-value" }, ` OEE ${pct(m.oee)}`)),
    el("div", { class: "small apq" }, `A ${pct(m.availability)} · P ${pct(m.performance)} · Q ${pct(m.quality)}`),
    ...lossLines(m),
  );
}

async function fetchIncidents() {
  const got = await getJson("/api/v1/incidents").catch(() => ({ status: 0 }));
  if (got.status !== 200) return;
  shift.incidents = got.body;
  renderIncidents();
}

function renderIncidents() {
  if ($("#incidents").contains(document.activeElement)) return debounced("incidents-render", 2000, 10000, renderIncidents); // not while typing
  const open = shift.incidents;
  $("#incident-count").textContent = `(${open.length})`;
  $("#incidents").replaceChildren(...(open.length ? open.map(incidentItem) : [el("li", { class: "muted" }, "No open incidents.")]));
}

/** An order the incident delays: its status now (as its alert shows it) and its alert's state. */
function affectedOrder(o) {
  const status = (alertOrder(o) || o).schedule_status;
  return el("li", { "data-order-id": o.order_id }, el("strong", {}, o.order_id), " ", el("span", { class: `badge s-${status}` }, STATUS_LABELS[status] || status), el("span", { class: "muted" }, ` alert ${o.state}`));
}

function incidentItem(i) {
  const why = i.reason_code || i.reason ? ` · ${[i.reason_code, i.reason].filter(Boolean).join(" ")}` : "";
  const item = el(
    "li",
    { class: `incident ${i.state}`, "data-incident-id": i.id },
    el("div", {}, el("span", { class: `badge m-${i.cause}` }, i.cause), " ", el("strong", {}, i.machine_id), el("span", { class: "small" }, ` since ${fmtTime(i.started_at)}${why}`)),
    el("ul", { class: "plain affected small" }, ...i.orders.map(affectedOrder)),
  );
  const card = stopCard(i.machine_id, i.cause);
  if (card) item.append(expectedLine(card));
  if (i.state === "acknowledged") {
    item.append(el("div", { class: "muted small acked" }, `Acknowledged by ${i.acked_by} at ${fmtTime(i.acked_at)}${i.ack_comment ? `: ${i.ack_comment}` : ""}`));
    return item;
  }
  const comment = el("input", { name: "comment", placeholder: "comment (optional)", maxlength: 2000, oninput: (e) => shift.drafts.set(i.id, e.target.value) });
  comment.value = shift.drafts.get(i.id) ?? "";
  const error = el("span", { class: "error small", role: "alert" });
  const label = `Acknowledge${i.orders.length ? ` with its ${i.orders.length} order alert${i.orders.length === 1 ? "" : "s"}` : ""}`;
  const submit = async (event) => {
    event.preventDefault();
    const acked = await postAck(`/api/v1/incidents/${i.id}/ack`, comment.value, error, "incident");
    if (!acked) return;
    shift.drafts.delete(i.id);
    shift.incidents = shift.incidents.map((x) => (x.id === i.id ? acked : x));
    document.activeElement.blur();
    renderIncidents();
  };
  item.append(el("form", { class: "ack", onsubmit: submit }, comment, el("button", { type: "submit" }, label), error));
  return item;
}

setInterval(() => { if (apiKey() && !$("#board").hidden) fetchShift(); }, 30000); // OEE moves with time
