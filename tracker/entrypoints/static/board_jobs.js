"use strict";
// The board's job buttons: a key that may start and end jobs (operator and above, see
// /api/v1/me) gets "Start job…" (the machine's dispatch list) and "End job" on the machine
// cards it may work. Uses board.js's state, getJson, apiKey and renderMachines.

/** Whether the board's key may start and end jobs on this machine. */
function mayWork(machineId) {
  const me = state.me;
  return Boolean(me && me.may_work && (me.machines === null || me.machines.includes(machineId)));
}

function jobControls(m) {
  const box = el("div", { class: "jobs" });
  const picking = state.picking && state.picking.machine === m.machine_id ? state.picking : null;
  if (m.order_id) {
    box.append(el("button", { type: "button", "data-action": "end-job", onclick: () => jobAction(m.machine_id, { action: "end", order_id: m.order_id, operation: m.seq }) }, t("board.end_job")));
  }
  if (!picking) {
    box.append(el("button", { type: "button", "data-action": "pick-job", onclick: () => pickJob(m.machine_id) }, t("board.start_job")));
  } else if (!picking.jobs.length) {
    box.append(el("span", { class: "muted small" }, t("board.nothing_dispatched")), el("button", { type: "button", onclick: closePicker }, t("board.close")));
  } else {
    const select = el("select", { "data-role": "job", onchange: (event) => { picking.selected = event.target.value; } });
    for (const job of picking.jobs) {
      const value = `${job.order_id}/${job.operation}`;
      const option = el("option", { value }, `${value} ${job.name} ×${job.quantity}${job.ready ? "" : ` ${t("board.not_ready")}`}`);
      if (value === picking.selected) option.selected = true;
      select.append(option);
    }
    const start = () => {
      const [orderId, operation] = (picking.selected || select.value).split("/");
      jobAction(m.machine_id, { action: "start", order_id: orderId, operation: Number(operation) });
    };
    box.append(select, el("button", { type: "button", "data-action": "start-job", onclick: start }, t("board.start")), el("button", { type: "button", onclick: closePicker }, t("board.cancel")));
  }
  const error = state.jobErrors.get(m.machine_id);
  if (error) box.append(el("span", { class: "error small", role: "alert" }, error));
  return box;
}

function closePicker() {
  state.picking = null;
  renderMachines();
}

/** Open a machine's dispatch list (ready jobs first) to start one of them. */
async function pickJob(machineId) {
  state.jobErrors.delete(machineId);
  const got = await getJson(`/api/v1/machines/${encodeURIComponent(machineId)}/dispatch`).catch(() => ({ status: 0 }));
  if (got.status !== 200) {
    state.jobErrors.set(machineId, t("board.dispatch_failed", { status: got.status }));
  } else {
    const jobs = [...got.body.jobs].sort((a, b) => Number(b.ready) - Number(a.ready));
    state.picking = { machine: machineId, jobs, selected: jobs.length ? `${jobs[0].order_id}/${jobs[0].operation}` : null };
  }
  renderMachines();
}

async function jobAction(machineId, body) {
  state.jobErrors.delete(machineId);
  try {
    const response = await fetch(`/api/v1/machines/${encodeURIComponent(machineId)}/job`, {
      method: "POST",
      headers: { "X-API-Key": apiKey(), "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.ok) {
      const bound = await response.json(); // the stream says so too, a moment later
      const m = state.machines.get(machineId);
      if (m) state.machines.set(machineId, { ...m, order_id: bound.order_id, seq: bound.operation });
      if (body.action === "start") state.picking = null;
    } else {
      const problem = await response.json().catch(() => ({}));
      const detail = Array.isArray(problem.detail) ? problem.detail.map((d) => d.msg).join("; ") : problem.detail;
      state.jobErrors.set(machineId, detail || t("board.refused", { status: response.status }));
    }
  } catch (e) {
    state.jobErrors.set(machineId, t("board.unreachable"));
  }
  renderMachines();
}
