"use strict";
// The board's alerts: each open alert says what its order's status says now (the stored text is
// the last version delivered, and a refresh of figures alone is not delivered), and the alerts
// cleared lately stay below, as history. Uses board.js's state, getJson, apiKey and WHO.

const HISTORY = 10; // cleared alerts kept on the board
const clearedAlerts = new Map(); // id -> alert, from /api/v1/alerts?state=cleared and the stream

// What a supervisor is typing into an alert's comment, by alert id: the list is rebuilt on every
// change the stream brings, and on a busy floor that is several times a second.
const drafts = new Map();

/** The order behind an open alert as it stands now, if the board has it and it is not on track. */
function alertOrder(a) {
  const order = state.orders.get(a.order_id);
  return order && order.schedule_status !== "on_track" && order.reasons.length ? order : null;
}

/** The alert's text as of now: its order's current status and reasons, else what was sent. */
function alertText(a) {
  const order = alertOrder(a);
  if (!order) return a.message;
  return `order ${a.order_id} is ${STATUS_LABELS[order.schedule_status]}: ${order.reasons.join("; ")}`;
}

/** Cleared alerts the stream brought move to the history. */
function keepCleared() {
  for (const [id, a] of state.alerts) {
    if (a.state !== "cleared") continue;
    clearedAlerts.set(id, a);
    state.alerts.delete(id);
  }
}

async function fetchClearedAlerts() {
  const got = await getJson(`/api/v1/alerts?state=cleared&limit=${HISTORY}`).catch(() => ({ status: 0 }));
  if (got.status !== 200) return;
  for (const a of got.body) clearedAlerts.set(a.id, a);
  renderAlerts();
}

function renderAlerts() {
  keepCleared();
  const alerts = [...state.alerts.values()].sort((a, b) => b.id - a.id);
  const focused = document.activeElement;
  const typing = focused?.matches?.("#alerts input[name=comment]") ? focused.closest("li.alert") : null;
  const caret = typing ? [focused.selectionStart, focused.selectionEnd] : null;
  $("#alert-count").textContent = `(${alerts.length})`;
  $("#alerts").replaceChildren(
    ...(alerts.length ? alerts.map(alertItem) : [el("li", { class: "muted" }, "No open alerts.")]),
  );
  for (const id of drafts.keys()) if (!alerts.some((a) => a.id === id && a.state !== "acknowledged")) drafts.delete(id);
  if (typing) {
    const input = $(`#alerts li.alert[data-alert-id="${typing.dataset.alertId}"] input[name=comment]`);
    if (input) {
      input.focus();
      input.setSelectionRange(...caret);
    }
  }
  renderHistory();
  renderIncidents(); // board_floor.js: its orders' statuses follow the stream too
}

function renderHistory() {
  const cleared = [...clearedAlerts.values()].sort((a, b) => b.id - a.id).slice(0, HISTORY);
  $("#cleared-count").textContent = `(${cleared.length})`;
  $("#cleared").replaceChildren(
    ...(cleared.length
      ? cleared.map((a) =>
          el(
            "li",
            { class: "cleared-alert small", "data-alert-id": a.id },
            el("strong", {}, a.order_id),
            el("span", { class: "muted" }, ` cleared ${fmtTime(a.cleared_at)} (raised ${fmtTime(a.raised_at)}): `),
            a.message,
          ),
        )
      : [el("li", { class: "muted small" }, "None cleared lately.")]),
  );
}

function alertItem(a) {
  const status = (alertOrder(a) || a).schedule_status;
  const item = el(
    "li",
    { class: `alert sev-${a.severity} ${a.state}`, "data-alert-id": a.id },
    el("div", {}, el("span", { class: `badge s-${status}` }, STATUS_LABELS[status] || status), " ", el("strong", {}, a.order_id), el("span", { class: "muted small" }, ` raised ${fmtTime(a.raised_at)}`)),
    el("div", { class: "small alert-text", title: `as last sent: ${a.message}` }, alertText(a)),
  );
  if (a.state === "acknowledged") {
    item.append(el("div", { class: "muted small acked" }, `Acknowledged by ${a.acked_by} at ${fmtTime(a.acked_at)}${a.ack_comment ? `: ${a.ack_comment}` : ""}`));
    return item;
  }
  const comment = el("input", {
    name: "comment",
    placeholder: "comment (optional)",
    maxlength: 2000,
    oninput: (event) => drafts.set(a.id, event.target.value),
  });
  comment.value = drafts.get(a.id) ?? "";
  const error = el("span", { class: "error small", role: "alert" });
  item.append(
    el(
      "form",
      { class: "ack", onsubmit: (event) => { event.preventDefault(); acknowledge(a.id, comment.value, error); } },
      comment,
      el("button", { type: "submit" }, "Acknowledge"),
      error,
    ),
  );
  return item;
}

/** POST an acknowledgement (an alert's or an incident's); the answer, or null with `error` set. */
async function postAck(path, comment, error, what) {
  error.textContent = "";
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "X-API-Key": apiKey(), "Content-Type": "application/json" },
      body: JSON.stringify({ by: sessionStorage.getItem(WHO) || "supervisor", comment: comment.trim() || null }),
    });
    if (response.ok) return await response.json(); // the stream says so too, a moment later
    if (response.status === 403) error.textContent = `This key may not acknowledge ${what}s.`;
    else if (response.status === 409) error.textContent = `The ${what} is already closed.`;
    else error.textContent = `Could not acknowledge (HTTP ${response.status}).`;
  } catch (e) {
    error.textContent = "Could not reach the tracker.";
  }
  return null;
}

async function acknowledge(id, comment, error) {
  const acked = await postAck(`/api/v1/alerts/${id}/ack`, comment, error, "alert");
  if (acked) {
    state.alerts.set(id, acked);
    renderAlerts();
  }
}
