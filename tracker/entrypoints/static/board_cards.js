"use strict";
// The board's orders and machine cards. Machines come in one stable order (by id) and include
// every machine the plant file declares: one never heard from is UNKNOWN, and an order with
// work left on it is marked "unverified" rather than reading on track, since nothing can show
// that it runs. A DOWN card shows its alarm and when it is expected back (GET /api/v1/board),
// and a demo run at speed S says what a second on the board is in the plant.
// Uses board.js's state, getJson, RANK and its event handling.

const cards = { byId: new Map(), speed: 1 }; // /api/v1/board: machine id -> card, the speed

async function fetchCards() {
  const got = await getJson("/api/v1/board").catch(() => ({ status: 0 }));
  if (got.status !== 200) return;
  cards.byId = new Map(got.body.machines.map((c) => [c.machine_id, c]));
  cards.speed = got.body.speed;
  renderTimescale();
  renderMachines();
  renderOrders();
  renderIncidents(); // board_floor.js: an incident shows when its machine is expected back
}

/** "1 min" for 60: how long one real second is in the plant. */
function plantSecond(speed) {
  if (speed >= 3600) return `${+(speed / 3600).toFixed(1)} h`;
  if (speed >= 60) return `${+(speed / 60).toFixed(1)} min`;
  return `${+speed.toFixed(2)} s`;
}

function renderTimescale() {
  const banner = $("#timescale");
  banner.hidden = cards.speed === 1;
  banner.textContent = t("board.demo_speed", { speed: +cards.speed.toFixed(2), second: plantSecond(cards.speed) });
}

/** Machines the plant file declares that never reported (the stream knows every one heard). */
function neverReported() {
  return new Set([...cards.byId.values()].filter((c) => !c.reported && !state.machines.has(c.machine_id)).map((c) => c.machine_id));
}

/** An open order's work left on machines that never reported: "machine (operation)" each. */
function unseenWork(order, unseen) {
  if (!unseen.size || !["received", "released", "in_progress"].includes(order.status)) return [];
  return order.operations
    .filter((op) => op.state !== "completed" && unseen.has(op.planned_machine || op.machine))
    .map((op) => `${op.planned_machine || op.machine} (operation ${op.seq} ${op.name})`);
}

function bar(percent) {
  const fill = el("div");
  fill.style.width = `${Math.max(0, Math.min(100, percent))}%`;
  return el("div", { class: "bar" }, fill);
}

function statusBadge(order, unseen) {
  const open = ["received", "released", "in_progress"].includes(order.status);
  if (!open) return el("span", { class: "badge closed" }, t(`order.status.${order.status}`));
  const status = order.schedule_status;
  if (status === "on_track" && unseen.length) return el("span", { class: "badge s-unverified" }, t("board.unverified"));
  return el("span", { class: `badge s-${status}` }, STATUS_LABELS[status] || status);
}

function renderOrders() {
  const unseen = neverReported();
  const orders = [...state.orders.values()].sort(
    (a, b) =>
      (RANK[a.schedule_status] ?? 3) - (RANK[b.schedule_status] ?? 3) ||
      a.due_at.localeCompare(b.due_at),
  );
  $("#order-count").textContent = `(${orders.length})`;
  $("#orders tbody").replaceChildren(
    ...orders.map((o) => {
      const blind = unseenWork(o, unseen);
      const reasons = [...o.reasons, ...blind.map((m) => t("board.never_reported_reason", { machine: m }))];
      return el(
        "tr",
        { "data-order-id": o.order_id, "data-status": o.schedule_status, "data-unverified": blind.length ? "yes" : null, class: `row-${o.schedule_status}` },
        el("td", {}, el("strong", {}, o.order_id), el("div", { class: "muted small" }, `${o.customer} · ${o.product} ×${o.quantity}`)),
        el(
          "td",
          {},
          statusBadge(o, blind),
          reasons.length ? el("div", { class: "small reasons" }, reasons.join("; ")) : null,
          // rounded down as in the status reasons: 0.499 reads 49%, never the 50% it is under
          o.p_on_time != null
            ? el("div", { class: "small muted", title: o.p_on_time_reason || "" }, t("board.p_on_time", { p: fmtPercent(Math.floor(100 * o.p_on_time + 1e-9)) }))
            : null,
        ),
        el("td", {}, bar(o.percent_complete), el("span", { class: "small" }, fmtPercent(o.percent_complete)), o.current_operation ? el("div", { class: "muted small" }, o.current_operation) : null),
        el("td", { class: "wide" }, fmtTime(o.eta)),
        el("td", { class: "wide" }, fmtTime(o.due_at)),
        el("td", { class: o.on_time === false ? "late-text" : "" }, fmtSlack(o.eta, o.due_at)),
      );
    }),
  );
}

/** A stopped machine's card from /api/v1/board, when it says the state the stream says. */
function stopCard(machineId, machineState) {
  const card = cards.byId.get(machineId);
  return card && card.state === machineState && card.expected_back ? card : null;
}

/** When a stopped machine is expected back, and on what basis. */
function expectedLine(card) {
  const basis = card.expected_basis === "repairs"
    ? t(card.repairs === 1 ? "board.basis_repair" : "board.basis_repairs", { code: card.alarm.code, n: card.repairs })
    : t("board.basis_allowance");
  const left = new Date(card.expected_back) - Date.now();
  if (left > 0) {
    const soon = fmtSpan(left);
    return el("div", { class: "expected small" }, t("board.expected_back", { at: fmtTime(card.expected_back), in: soon, basis }));
  }
  // past it: the plan (and every ETA) now takes it as back a while after its last replan
  return el("div", { class: "expected small late-text" }, t("board.overdue", { at: fmtTime(card.expected_back), basis, assumed: fmtTime(card.plan_back) }));
}

/** A stopped machine's alarm and expected return. */
function stopFacts(m) {
  const card = stopCard(m.machine_id, m.state);
  if (!card) return [];
  const alarm = card.alarm ? el("div", { class: "alarm small" }, el("strong", {}, card.alarm.code), ` ${card.alarm.text}`) : null;
  return [alarm, expectedLine(card)];
}

function renderMachines() {
  const unseen = neverReported();
  const ids = [...new Set([...state.machines.keys(), ...unseen])].sort();
  $("#machines").replaceChildren(
    ...(ids.length
      ? ids.map((id) => {
          const m = state.machines.get(id) || { machine_id: id, state: "UNKNOWN" };
          const facts = state.machineFacts.get(id) || {};
          const reported = state.machines.has(id);
          return el(
            "li",
            { class: `machine m-${m.state}`, "data-machine-id": id, onclick: (event) => chartsOnClick(event, id) },
            el("strong", {}, id),
            el("button", { type: "button", class: "charts-link", "aria-label": t("board.charts_of", { machine: id }) }, t("board.charts")),
            el("span", { class: `badge m-${m.state}` }, m.state),
            el("div", { class: "muted small" }, reported ? `${t("board.since", { at: fmtTime(m.state_since) })}${m.order_id ? ` · ${m.order_id}/${m.seq}` : ""}` : t("board.never_reported")),
            ...(m.state === "DOWN" || m.state === "OFFLINE" ? stopFacts(m) : []),
            typeof facts.utilisation === "number" ? el("div", { class: "small" }, t("board.utilisation", { pct: fmtPercent(Math.round(facts.utilisation * 100)) })) : null,
            reported && mayWork(id) ? jobControls(m) : null,
          );
        })
      : [el("li", { class: "muted" }, t("board.no_machines"))]),
  );
}

/** A click on a machine card opens its charts, unless it was on its job controls. */
function chartsOnClick(event, machineId) {
  const control = event.target.closest("select, input, form, button:not(.charts-link)");
  if (!control) openMachine(machineId);
}
