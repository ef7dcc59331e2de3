"use strict";
// Translations of the web pages, and `t(key, vars)`. Load before common.js.
//
// The language is the first of the browser's languages (navigator.languages) that has a table
// here, else English; `?lang=de` in the page's address overrides it. Numbers and dates are
// formatted in the same language (LOCALE), so labels and dates never mix.
// To add a language: copy the `en` table below, translate every value (keep the `{name}`
// placeholders), add it under its code (e.g. `fr`), and reload: missing keys fall back to
// English.

const MESSAGES = {
  en: {
    "unit.s": "{n} s",
    "unit.min": "{n} min",
    "unit.h": "{n} h",
    "unit.d": "{n} d",
    "slack.late": "{span} late",
    "slack.spare": "{span} spare",
    "status.on_track": "on track",
    "status.at_risk": "at risk",
    "status.late": "late",
    "track.title": "Order tracking",
    "track.order": "Order {id}",
    "track.loading": "Loading…",
    "track.complete": "complete",
    "track.eta": "Estimated completion",
    "track.due": "Due",
    "track.on_time": "On time",
    "track.yes": "Yes",
    "track.no_expected": "No: expected {slack}",
    "track.stages": "Stages",
    "track.updated": "Updated",
    "track.times_in": "Times in {zone}",
    "track.between": "between {from} and {to}",
    "track.delay": "Delay",
    "track.lost": "Connection lost; retrying…",
    "track.unreachable": "Cannot reach the server; retrying…",
    "track.not_found": "We could not find this order. Please check the link you were given.",
    "track.unavailable": "Tracking is unavailable at the moment; retrying…",
    "stage.pending": "waiting",
    "stage.active": "next",
    "stage.running": "in progress",
    "stage.completed": "done",
    "stage.on_hold": "on hold",
    "order.status.received": "received",
    "order.status.released": "released",
    "order.status.in_progress": "in production",
    "order.status.completed": "completed",
    "order.status.shipped": "shipped",
    "order.status.cancelled": "cancelled",
    "delay.breakdown": "A machine breakdown is holding up your order; we are working on it.",
    "delay.interruption": "Production of your order is interrupted for the moment.",
    "delay.capacity": "Your order is waiting for a free machine.",
    "delay.slow": "Production of your order is running slower than planned.",
    "delay.behind": "Your order is behind schedule.",
  },
  de: {
    "unit.s": "{n} s",
    "unit.min": "{n} min",
    "unit.h": "{n} Std.",
    "unit.d": "{n} Tg.",
    "slack.late": "{span} zu spät",
    "slack.spare": "{span} Reserve",
    "status.on_track": "im Plan",
    "status.at_risk": "gefährdet",
    "status.late": "verspätet",
    "track.title": "Auftragsverfolgung",
    "track.order": "Auftrag {id}",
    "track.loading": "Wird geladen…",
    "track.complete": "fertig",
    "track.eta": "Voraussichtliche Fertigstellung",
    "track.due": "Liefertermin",
    "track.on_time": "Pünktlich",
    "track.yes": "Ja",
    "track.no_expected": "Nein: voraussichtlich {slack}",
    "track.stages": "Arbeitsschritte",
    "track.updated": "Aktualisiert",
    "track.times_in": "Zeiten in {zone}",
    "track.between": "zwischen {from} und {to}",
    "track.delay": "Verzögerung",
    "track.lost": "Verbindung unterbrochen; neuer Versuch…",
    "track.unreachable": "Server nicht erreichbar; neuer Versuch…",
    "track.not_found":
      "Wir konnten diesen Auftrag nicht finden. Bitte prüfen Sie den Link, den Sie erhalten haben.",
    "track.unavailable": "Die Auftragsverfolgung ist gerade nicht verfügbar; neuer Versuch…",
    "stage.pending": "wartet",
    "stage.active": "als Nächstes",
    "stage.running": "in Arbeit",
    "stage.completed": "erledigt",
    "stage.on_hold": "unterbrochen",
    "order.status.received": "eingegangen",
    "order.status.released": "freigegeben",
    "order.status.in_progress": "in Fertigung",
    "order.status.completed": "fertiggestellt",
    "order.status.shipped": "versandt",
    "order.status.cancelled": "storniert",
    "delay.breakdown":
      "Eine Maschinenstörung hält Ihren Auftrag auf; wir arbeiten an der Behebung.",
    "delay.interruption": "Die Fertigung Ihres Auftrags ist im Moment unterbrochen.",
    "delay.capacity": "Ihr Auftrag wartet auf eine freie Maschine.",
    "delay.slow": "Die Fertigung Ihres Auftrags läuft langsamer als geplant.",
    "delay.behind": "Ihr Auftrag liegt hinter dem Zeitplan.",
  },
};

/** The page's language: `?lang=`, else the first browser language with a table, else en. */
function pickLanguage(wanted = navigator.languages || [navigator.language]) {
  const asked = new URLSearchParams(location.search).get("lang");
  for (const tag of [asked, ...wanted]) {
    const base = (tag || "").toLowerCase().split("-")[0];
    if (Object.hasOwn(MESSAGES, base)) return { lang: base, locale: tag };
  }
  return { lang: "en", locale: "en" };
}

const { lang: LANG, locale: LOCALE } = pickLanguage();
document.documentElement.lang = LANG;

/** The text of `key` in the page's language (English when missing), `{name}`s filled in. */
function t(key, vars = {}) {
  const text = MESSAGES[LANG][key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Every `data-i18n="key"` element's text, translated (the static labels of a page). */
function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}
