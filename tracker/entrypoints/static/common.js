"use strict";
// Small helpers shared by the board, the tracking page and the operator terminal (no
// framework, no build step). Load after i18n.js.

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

// Times read in the plant's time zone (the plant file's `timezone:`, put in the page's
// <meta name="plant-timezone"> by the tracker), in the page's language (i18n.js, which every
// page loads first: LOCALE and `t`), so a browser elsewhere shows the same clock as the
// reasons and the floor.
const PLANT_TZ = document.querySelector('meta[name="plant-timezone"]')?.content || "UTC";

const _dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: PLANT_TZ, dateStyle: "short" });
const _timeFormat = new Intl.DateTimeFormat(LOCALE, { timeZone: PLANT_TZ, hour: "2-digit", minute: "2-digit" });
const _dateTimeFormat = new Intl.DateTimeFormat(LOCALE, {
  timeZone: PLANT_TZ, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});

/** A plant-time date-time for people: only the time when it is today (in the plant). */
function fmtTime(iso, now = new Date()) {
  if (!iso) return "–";
  const at = new Date(iso);
  const sameDay = _dayFormat.format(at) === _dayFormat.format(now);
  return (sameDay ? _timeFormat : _dateTimeFormat).format(at);
}

const _whole = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0, useGrouping: false });
const _tenths = new Intl.NumberFormat(LOCALE, {
  minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false,
});

/** A duration in milliseconds as people say it: 45 s, 12 min, 3.5 h, 2.0 d (sign dropped).
 *
 * The rule of tracker/domain/wording.py `span`, case for case: rounded half up on the
 * absolute value, in one unit: under 90 s seconds, under 90 min minutes, under 48 h hours to
 * a tenth, else days to a tenth. */
function fmtSpan(ms) {
  const halfUp = (x) => Math.floor(x + 0.5);
  const s = halfUp(Math.abs(ms) / 1000);
  if (s < 90) return t("unit.s", { n: _whole.format(s) });
  if (s < 90 * 60) return t("unit.min", { n: _whole.format(halfUp(s / 60)) });
  if (s < 48 * 3600) return t("unit.h", { n: _tenths.format(halfUp(s / 360) / 10) });
  return t("unit.d", { n: _tenths.format(halfUp(s / 8640) / 10) });
}

const _percent = new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 1 });

/** A percentage (0-100) in the page's language: 14.3% or 14,3 %. */
function fmtPercent(value) {
  return _percent.format(value / 100);
}

/** ETA against the due date: "3.1 h late" or "40 min spare". */
function fmtSlack(eta, due) {
  if (!eta || !due) return "–";
  const ms = new Date(due) - new Date(eta);
  return t(ms < 0 ? "slack.late" : "slack.spare", { span: fmtSpan(ms) });
}

const STATUS_LABELS = { on_track: t("status.on_track"), at_risk: t("status.at_risk"), late: t("status.late") };

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
