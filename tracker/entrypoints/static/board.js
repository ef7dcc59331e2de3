"use strict";
// The supervisor board: live orders, alerts, machines and a planned-vs-actual Gantt chart; the
// orders and machine cards are in board_cards.js, alerts in board_alerts.js, and the shift's
// OEE, downtime Pareto and incidents in board_floor.js.
// State comes from the event stream (/api/v1/events): a snapshot on connect, then the current
// state of whatever each commit changed. The stream is read with fetch() because EventSource
// cannot send the X-API-Key header, and keys do not belong in URLs.

const KEY = "shopfloor.key";
const WHO = "shopfloor.who";
const RANK = { late: 0, at_risk: 1, on_track: 2 };

const state = {
  orders: new Map(),
  alerts: new Map(),
  machines: new Map(),
  schedule: null, // operations from /api/v1/schedule; null: derive them from the orders
  scheduleApi: true, // false once /api/v1/schedule answered 404 (not on this server)
  machinesApi: true, // the same for /api/v1/machines
  machineFacts: new Map(), // machine id -> its row of /api/v1/machines (utilisation)
  me: null, // /api/v1/me: the key's role and the machines it may start and end jobs on
  picking: null, // the machine whose dispatch list is open: { machine, jobs, selected, error }
  jobErrors: new Map(), // machine id -> the last refused start or end
};
let stream = null; // the AbortController of the open event stream

const $ = (selector) => document.querySelector(selector);
translatePage(); // the static labels, in the browser's language (i18n.js)
document.title = t("board.page_title");
const apiKey = () => sessionStorage.getItem(KEY) || "";

// ---- signing in -------------------------------------------------------------------------

function showLogin(message) {
  if (stream) stream.abort();
  sessionStorage.removeItem(KEY);
  $("#board").hidden = true;
  $("#signout").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
  $("#who").value = sessionStorage.getItem(WHO) || "";
  $("#key").focus();
}

$("#login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("#key").value.trim());
  sessionStorage.setItem(WHO, $("#who").value.trim() || "supervisor");
  $("#key").value = "";
  openBoard();
});
$("#signout").addEventListener("click", () => showLogin(t("board.signed_out")));

function openBoard() {
  $("#login").hidden = true;
  $("#board").hidden = false;
  $("#signout").hidden = false;
  state.me = null;
  getJson("/api/v1/me")
    .then((got) => {
      state.me = got.status === 200 ? got.body : null;
      renderMachines();
    })
    .catch(() => {}); // older servers: no job buttons
  listen();
}

// ---- the event stream -------------------------------------------------------------------

function setLive(on, text) {
  $("#live").textContent = text || (on ? t("board.live") : t("board.reconnecting"));
  $("#live").classList.toggle("on", on);
}

/** Keep one stream open, reconnecting with backoff; a refused key goes back to sign-in. */
async function listen() {
  let delay = 1000;
  const controller = (stream = new AbortController());
  while (!controller.signal.aborted) {
    try {
      const response = await fetch("/api/v1/events", {
        headers: { "X-API-Key": apiKey() },
        signal: controller.signal,
        cache: "no-store",
      });
      if (response.status === 401) return showLogin(t("board.key_refused"));
      if (response.status === 403) return showLogin(t("board.key_forbidden"));
      if (!response.ok) throw new Error(`event stream: HTTP ${response.status}`);
      setLive(true);
      delay = 1000;
      await readEvents(response.body, controller, onEvent);
    } catch (error) {
      if (controller.signal.aborted) return;
      console.warn(error);
    }
    setLive(false);
    await sleep(delay);
    delay = Math.min(delay * 2, 15000);
  }
}

/** Parse Server-Sent Events from a byte stream; give up on a silent one (heartbeats stop). */
async function readEvents(body, controller, handle) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let heard = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - heard > 40000) reader.cancel(); // missed two heartbeats: reconnect
  }, 5000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || controller.signal.aborted) return;
      heard = Date.now();
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (data) handle(name, JSON.parse(data));
      }
    }
  } finally {
    clearInterval(watchdog);
  }
}

function replace(map, items, key) {
  map.clear();
  for (const item of items) map.set(item[key], item);
}

function upsert(map, ids, items, key) {
  for (const id of ids) map.delete(id); // an id without state is gone
  for (const item of items) map.set(item[key], item);
}

function onEvent(name, data) {
  if (name === "snapshot") {
    replace(state.orders, data.orders, "order_id");
    replace(state.alerts, data.alerts, "id");
    replace(state.machines, data.machines, "machine_id");
  } else if (name === "change") {
    upsert(state.orders, data.ids.orders, data.orders, "order_id");
    upsert(state.alerts, data.ids.alerts, data.alerts, "id");
    upsert(state.machines, data.ids.machines, data.machines, "machine_id");
  } else {
    return; // "reload": a snapshot follows
  }
  later("render", 150, render);
  later("extras", 1000, fetchExtras);
  floorChanged(name, data); // board_floor.js: cards, OEE, Pareto and incidents, debounced
}

// ---- debounced work and optional endpoints ---------------------------------------------

// At most one call of each kind is pending, and it runs `ms` after it was first asked for: on
// a busy floor changes arrive faster than `ms`, and a timer reset on every change would never
// fire (the board stood still). The call reads the state as it is when it runs.
const timers = {};
function later(name, ms, fn) {
  if (timers[name]) return;
  timers[name] = setTimeout(() => {
    timers[name] = null;
    fn();
  }, ms);
}

async function getJson(path) {
  const response = await fetch(path, { headers: { "X-API-Key": apiKey() }, cache: "no-store" });
  return response.ok ? { status: 200, body: await response.json() } : { status: response.status };
}

/** The Gantt data and machine utilisation, from endpoints older servers lack; fine without. */
async function fetchExtras() {
  if (state.scheduleApi) {
    try {
      const got = await getJson("/api/v1/schedule");
      if (got.status === 404 || got.status === 405) state.scheduleApi = false;
      state.schedule = got.status === 200 ? scheduleOperations(got.body) : null;
    } catch (error) {
      state.schedule = null;
    }
  }
  try {
    const got = state.machinesApi ? await getJson("/api/v1/machines") : { status: 404 };
    if (got.status === 404 || got.status === 405) state.machinesApi = false;
    const list = got.status === 200 ? (Array.isArray(got.body) ? got.body : got.body.items || []) : [];
    for (const m of list) state.machineFacts.set(m.machine_id, m);
  } catch (error) {
    // utilisation is a nicety
  }
  render();
}

/** /api/v1/schedule's lanes as one list of operations, each with its planned and actual
 * times; a started operation keeps the plan it had when it started (its baseline). */
function scheduleOperations(body) {
  const ops = new Map();
  for (const lane of body.machines || []) {
    for (const p of lane.planned || []) {
      const op = { order_id: p.order_id, seq: p.seq, name: p.name, planned_start: p.start, planned_end: p.end };
      ops.set(`${p.order_id}/${p.seq}`, { ...op, machine: lane.machine_id });
    }
    for (const a of lane.actual || []) {
      const known = ops.get(`${a.order_id}/${a.seq}`) || {};
      ops.set(`${a.order_id}/${a.seq}`, {
        ...a,
        machine: lane.machine_id,
        planned_start: a.planned_start || known.planned_start,
        planned_end: a.planned_end || known.planned_end,
      });
    }
  }
  return [...ops.values()];
}

// ---- rendering --------------------------------------------------------------------------

function render() {
  renderOrders();
  renderAlerts();
  renderMachines();
  renderGantt();
}

setInterval(() => later("render", 0, render), 30000); // the now-line and "late by" move on their own

if (apiKey()) openBoard();
else showLogin("");
