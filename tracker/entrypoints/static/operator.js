"use strict";
// The operator terminal at /operator/{machine}: the machine's state, job and progress, its
// dispatch list (start and end jobs), scrap with a reason, and its current or last stop
// classified from the plant's reasons. Polls the tracker every few seconds. Uses common.js.

const KEY = "shopfloor-terminal-key";
const POLL_MS = 3000;
const DISPATCH_EVERY = 3; // polls between dispatch list reads (the plan changes slowly)
const MACHINE = decodeURIComponent(location.pathname.replace(/^\/operator\//, "").replace(/\/+$/, ""));
const M = encodeURIComponent(MACHINE);
const $ = (selector) => document.querySelector(selector);
const apiKey = () => sessionStorage.getItem(KEY) || "";
const state = { terminal: null, scrapReason: null, stopId: null, polls: 0, timer: null, shown: {} };

translatePage(); // the static labels, in the browser's language (i18n.js)
document.title = t("op.page_title", { machine: MACHINE });
$("#machine").textContent = MACHINE;

// ---- talking to the tracker ---------------------------------------------------------------

/** A JSON request with the terminal's key: { status, body } (status 0: no answer). */
async function request(method, path, body) {
  const headers = { "X-API-Key": apiKey() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    const response = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: await response.json().catch(() => ({})) };
  } catch (e) {
    return { status: 0, body: {} };
  }
}

/** Why the tracker refused, in words. */
function problem(got) {
  if (got.status === 0) return t("op.unreachable");
  const detail = got.body && got.body.detail;
  const text = Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : detail;
  if (got.status === 403) return t("op.not_allowed", { detail: text || t("op.not_allowed_default") });
  if (got.status === 409) return t("op.not_now", { detail: text || t("op.conflict") });
  return text || t("board.refused", { status: got.status });
}

function say(text, error = false) {
  const box = $("#message");
  box.textContent = text;
  box.classList.toggle("error", error);
  box.hidden = !text;
}

// ---- signing in ---------------------------------------------------------------------------

function showLogin(message) {
  clearTimeout(state.timer);
  sessionStorage.removeItem(KEY);
  $("#terminal").hidden = true;
  $("#signout").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
  $("#key").focus();
}

$("#login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("#key").value.trim());
  $("#key").value = "";
  open();
});
$("#signout").addEventListener("click", () => showLogin(t("board.signed_out")));

async function open() {
  state.polls = 0;
  state.shown = {};
  if (await refresh()) {
    $("#login").hidden = true;
    $("#terminal").hidden = false;
    $("#signout").hidden = false;
  }
}

// ---- reading ------------------------------------------------------------------------------

/** Read the terminal's view (and now and then the dispatch list); false when signed out. */
async function refresh() {
  clearTimeout(state.timer);
  const got = await request("GET", `/api/v1/machines/${M}/terminal`);
  if (got.status === 401) return showLogin(t("op.key_unknown")), false;
  if (got.status === 403) return showLogin(problem(got)), false;
  if (got.status === 429) return showLogin(t("op.too_many")), false;
  $("#live").classList.toggle("on", got.status === 200);
  $("#live").textContent = t(got.status === 200 ? "board.live" : "board.offline");
  if (got.status === 404) say(t("op.machine_unknown", { machine: MACHINE }), true);
  if (got.status === 200) {
    state.terminal = got.body;
    render();
    const actions = await request("GET", `/api/v1/machines/${M}/actions?limit=8`);
    if (actions.status === 200) show("actions", actions.body, renderActions);
    if (state.polls % DISPATCH_EVERY === 0) {
      const dispatch = await request("GET", `/api/v1/machines/${M}/dispatch`);
      if (dispatch.status === 200) show("dispatch", dispatch.body.jobs, renderDispatch);
    }
    state.polls += 1;
  }
  state.timer = setTimeout(refresh, POLL_MS);
  return true;
}

/** Render a part only when its data changed: a tap never lands on a button being replaced. */
function show(part, data, renderer) {
  const text = JSON.stringify(data);
  if (state.shown[part] === text) return;
  state.shown[part] = text;
  renderer(data);
}

function render() {
  const term = state.terminal;
  const badge = $("#state");
  badge.textContent = term.state || t("op.not_heard");
  badge.className = `state ${term.state || ""}`;
  show("job", term.job, renderJob);
  // an open stop's duration goes on: drawn again every half minute
  const tick = term.stops.some((s) => !s.ended_at) ? Math.floor(Date.now() / 30000) : 0;
  show("stop", [term.stops, term.reasons, state.stopId, tick], renderStop);
  show("scrap", [term.reasons, state.scrapReason, Boolean(term.job)], renderScrapReasons);
}

// ---- the parts of the page ----------------------------------------------------------------

function renderJob(job) {
  const box = $("#job");
  box.replaceChildren();
  if (!job) {
    box.append(el("p", { class: "muted" }, t("op.no_job")));
    return;
  }
  const share = job.quantity ? Math.min(100, (100 * job.good) / job.quantity) : 0;
  box.append(
    el("div", { class: "job-name" }, `${job.order_id} · ${job.operation} ${job.name}`),
    el("div", { class: "muted" }, job.bound ? job.product : `${job.product} · ${t("op.last_job")}`),
    el("div", { class: "bar", role: "progressbar", "aria-valuenow": Math.round(share), "aria-valuemin": 0, "aria-valuemax": 100 }, el("span", { style: null })),
    el("div", { class: "figures", id: "job-progress" },
      el("span", {}, el("b", {}, `${job.good} / ${job.quantity}`), ` ${t("op.good")}`),
      el("span", {}, el("b", {}, String(job.scrap)), ` ${t("op.scrap_count")}`),
      el("span", {}, `${t("op.due")} `, el("b", {}, fmtTime(job.due_at)))),
  );
  box.querySelector(".bar span").style.width = `${share}%`; // CSSOM: the policy allows no inline style attribute
  if (job.bound) {
    box.append(el("button", { type: "button", id: "end-job", class: "big end", onclick: () => jobAction({ action: "end", order_id: job.order_id, operation: job.operation }) }, t("board.end_job")));
  }
}

function reasonButton(reason, pressed, onclick) {
  return el("button", { type: "button", "data-reason": reason.code, "aria-pressed": String(pressed), onclick }, reason.name, el("small", {}, t(`category.${reason.category}`)));
}

/** The stop the reason buttons classify: the one tapped, else the newest no person classified. */
function chosenStop(stops) {
  return stops.find((s) => s.id === state.stopId) || stops.find((s) => s.source !== "person") || stops[0] || null;
}

function stopLine(stop, reasons, chosen) {
  const open = !stop.ended_at;
  const ms = (open ? Date.now() : new Date(stop.ended_at)) - new Date(stop.started_at);
  const lasted = fmtSpan(Math.max(0, ms));
  const known = reasons.find((r) => r.code === stop.reason);
  const reason = known ? known.name : stop.reason;
  const why = stop.reason && stop.source === "person"
    ? t("op.by", { reason, by: stop.classified_by, at: fmtTime(stop.classified_at) })
    : stop.reason ? t("op.from_alarm", { reason }) : t("op.not_classified");
  return el("button", { type: "button", class: "stop", "data-stop": stop.id, "data-state": stop.state, "aria-pressed": String(chosen),
    onclick: () => { state.stopId = stop.id; render(); } },
    el("b", {}, open ? `${stop.state} ${t("op.now")}` : stop.state),
    ` ${fmtTime(stop.started_at)}${open ? "" : `–${fmtTime(stop.ended_at)}`} (${lasted})`,
    el("small", { class: stop.source === "person" ? "" : "error" }, why),
    stop.alarm_code ? el("small", {}, t("op.alarm", { code: stop.alarm_code, text: stop.alarm_text || "" })) : null);
}

function renderStop([stops, reasons, stopId]) {
  const box = $("#stop");
  const buttons = $("#stop-reasons");
  box.replaceChildren();
  buttons.replaceChildren();
  if (!stops.length) {
    box.append(el("p", { class: "muted" }, t("op.no_stop")));
    return;
  }
  const chosen = chosenStop(stops);
  for (const stop of stops) box.append(stopLine(stop, reasons, stop === chosen));
  box.append(el("p", { class: "small muted", id: "stop-hint" }, t("op.why", { state: chosen.state, at: fmtTime(chosen.started_at) })));
  if (!reasons.length) buttons.append(el("p", { class: "muted" }, t("op.no_reasons")));
  for (const reason of reasons) {
    const given = reason.code === chosen.reason && chosen.source === "person";
    buttons.append(reasonButton(reason, given, () => classify(chosen.id, reason)));
  }
}

/** Quality reasons first: scrap is mostly a quality matter. */
function renderScrapReasons([reasons, selected, hasJob]) {
  const box = $("#scrap-reasons");
  box.replaceChildren();
  const sorted = [...reasons].sort((a, b) => Number(b.category === "quality") - Number(a.category === "quality"));
  for (const reason of sorted) {
    box.append(reasonButton(reason, reason.code === selected, () => {
      state.scrapReason = reason.code === state.scrapReason ? null : reason.code;
      render();
    }));
  }
  const submit = $("#scrap-submit");
  submit.disabled = !selected || !hasJob;
  submit.textContent = t(hasJob ? "op.report_scrap" : "op.report_scrap_no_job");
}

function renderDispatch(jobs) {
  const list = $("#dispatch");
  list.replaceChildren();
  if (!jobs.length) list.append(el("li", { class: "muted" }, t("op.no_dispatch")));
  const job = state.terminal && state.terminal.job;
  for (const next of jobs) {
    const key = `${next.order_id}/${next.operation}`;
    const running = job && job.bound && `${job.order_id}/${job.operation}` === key;
    list.append(el("li", { "data-job": key },
      el("div", {},
        el("b", {}, `${key} ${next.name}`),
        el("div", { class: "small muted" }, t("op.next_line", { n: next.quantity, due: fmtTime(next.due_at), planned: fmtTime(next.planned_start) }) + (next.ready ? "" : t("op.not_ready")))),
      el("button", { type: "button", "data-action": "start", disabled: running, onclick: () => jobAction({ action: "start", order_id: next.order_id, operation: next.operation }) }, t(running ? "op.running" : "board.start"))));
  }
}

function renderActions(actions) {
  const list = $("#actions");
  list.replaceChildren();
  if (!actions.length) list.append(el("li", { class: "muted" }, t("op.nothing_yet")));
  for (const a of actions) {
    const job = a.order_id ? `${a.order_id}/${a.operation}` : "";
    const vars = { at: fmtTime(a.at), actor: a.actor, job, n: a.quantity, reason: a.reason, stop: a.stop_id };
    const known = ["start", "end", "scrap", "classify"].includes(a.action);
    list.append(el("li", { "data-action": a.action }, known ? t(`op.did.${a.action}`, vars) : `${vars.at} ${a.actor} ${a.action} ${job}`));
  }
}

// ---- acting -------------------------------------------------------------------------------

async function act(method, path, body, done) {
  const got = await request(method, path, body);
  if (got.status === 200) say(done(got.body));
  else say(problem(got), true);
  state.polls = 0; // read the dispatch list again too
  await refresh();
}

function jobAction(body) {
  return act("POST", `/api/v1/machines/${M}/job`, body, (bound) =>
    body.action === "start" ? t("op.started", { job: `${bound.order_id}/${bound.operation}` }) : t("op.ended", { job: `${body.order_id}/${body.operation}` }));
}

function classify(stopId, reason) {
  return act("PUT", `/api/v1/downtime/${stopId}/reason`, { reason: reason.code }, () => t("op.classified", { reason: reason.name }));
}

$("#scrap-minus").addEventListener("click", () => { $("#scrap-qty").value = Math.max(1, Number($("#scrap-qty").value || 1) - 1); });
$("#scrap-plus").addEventListener("click", () => { $("#scrap-qty").value = Math.min(100000, Number($("#scrap-qty").value || 0) + 1); });
$("#scrap-submit").addEventListener("click", () => {
  const quantity = Number($("#scrap-qty").value);
  if (!Number.isInteger(quantity) || quantity < 1) return say(t("op.scrap_whole"), true);
  return act("POST", `/api/v1/machines/${M}/scrap`, { quantity, reason: state.scrapReason }, (s) => {
    state.scrapReason = null;
    $("#scrap-qty").value = 1;
    return t("op.scrapped", { n: s.quantity, job: `${s.order_id}/${s.operation}`, good: s.good, scrap: s.scrap });
  });
});

if (apiKey()) open();
else showLogin();
