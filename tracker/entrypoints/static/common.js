"use strict";
// Small helpers shared by the board and the tracking page (no framework, no build step).

/** An element with attributes (class, data-*, on* handlers) and children (nodes or text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/** A local date-time for people: only the time when it is today. */
function fmtTime(iso) {
  if (!iso) return "–";
  const t = new Date(iso);
  const sameDay = t.toDateString() === new Date().toDateString();
  const opts = sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
  return t.toLocaleString([], opts);
}

/** A duration in milliseconds as "2d 3h", "1h 20m" or "5m". */
function fmtSpan(ms) {
  const m = Math.round(Math.abs(ms) / 60000);
  if (m >= 2880) return `${Math.floor(m / 1440)}d ${Math.floor((m % 1440) / 60)}h`;
  if (m >= 60) return `${Math.floor(m / 60)}h ${m % 60}m`;
  return `${m}m`;
}

/** ETA against the due date: "3h 5m late" or "40m spare". */
function fmtSlack(eta, due) {
  if (!eta || !due) return "–";
  const ms = new Date(due) - new Date(eta);
  return ms < 0 ? `${fmtSpan(ms)} late` : `${fmtSpan(ms)} spare`;
}

const STATUS_LABELS = { on_track: "on track", at_risk: "at risk", late: "late" };

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
