"use strict";
// The customer's tracking page: one order's stages, percent, ETA and on-time flag, polled from
// /api/v1/orders/{id}/progress with the link's token. The page itself is the same for every
// order id: only the progress call, with a valid token, tells whether the order exists.
// In the browser's language (i18n.js), times in the plant's zone (common.js); the plant's name
// and logo from /api/v1/plant; a delay's reason in the customer's words (the answer's `delay`).

const $ = (selector) => document.querySelector(selector);
const orderId = decodeURIComponent(location.pathname.split("/").pop() || "");
const token = new URLSearchParams(location.search).get("token") || "";
// a machine of the running stage is stopped: the stage is on hold, not in progress
const HELD = new Set(["breakdown", "interruption"]);
let etag = null;
let everShown = false;

translatePage();
$("#title").textContent = t("track.order", { id: orderId });
document.title = t("track.order", { id: orderId });
$("#zone").textContent = t("track.times_in", { zone: PLANT_TZ });

/** The plant's name and logo (public, no token needed); the page works without them. */
async function showPlant() {
  try {
    const response = await fetch("/api/v1/plant", { cache: "no-cache" });
    if (!response.ok) return;
    const plant = await response.json();
    $("#plant-name").textContent = plant.name || "";
    if (plant.logo_url) {
      $("#plant-logo").src = plant.logo_url;
      $("#plant-logo").alt = plant.name || "";
      $("#plant-logo").hidden = false;
    }
    $("#plant").hidden = !plant.name && !plant.logo_url;
  } catch (error) {
    // no name or logo: the order's progress is what matters
  }
}

function message(text) {
  $("#message").textContent = text;
  $("#message").hidden = !text;
}

function show(p) {
  everShown = true;
  $("#details").hidden = false;
  message("");
  $("#product").textContent = `${p.product} × ${p.quantity}`;
  $("#bar").style.width = `${p.percent_complete}%`;
  $("#percent").textContent = fmtPercent(p.percent_complete);
  $("#status").textContent = t(`order.status.${p.status}`);
  const delay = p.delay ? t(`delay.${p.delay.kind}`) : "";
  $("#delay").textContent = delay ? `${t("track.delay")}: ${delay}` : "";
  $("#delay").hidden = !delay;
  $("#eta").textContent = p.eta_earliest && p.eta_latest
    ? t("track.between", { from: fmtTime(p.eta_earliest), to: fmtTime(p.eta_latest) })
    : fmtTime(p.eta);
  $("#due").textContent = fmtTime(p.due_at);
  const onTime = $("#on-time");
  onTime.textContent = p.on_time ? t("track.yes") : t("track.no_expected", { slack: fmtSlack(p.eta, p.due_at) });
  onTime.className = p.on_time ? "on-time" : "late-text";
  const held = p.delay && HELD.has(p.delay.kind);
  $("#stages").replaceChildren(
    ...p.operations.map((op) => {
      const state = op.state === "running" && held ? "on_hold" : op.state;
      return el(
        "li",
        { class: `stage ${op.state}` },
        el("span", { class: "stage-name" }, op.name),
        el("span", { class: "muted small stage-state" }, ` ${t(`stage.${state}`)}`),
        op.state === "running" ? el("span", { class: "small" }, ` · ${fmtPercent(op.percent_complete)}`) : null,
      );
    }),
  );
  $("#as-of").textContent = fmtTime(p.as_of);
}

/** One poll; answers the seconds until the next. */
async function poll() {
  const headers = { Authorization: `Bearer ${token}` };
  if (etag) headers["If-None-Match"] = etag;
  let response;
  try {
    // no-store: the browser passes a 304 through to us instead of answering from its cache
    response = await fetch(`/api/v1/orders/${encodeURIComponent(orderId)}/progress`, { headers, cache: "no-store" });
  } catch (error) {
    message(everShown ? t("track.lost") : t("track.unreachable"));
    return 30;
  }
  if (response.status === 404) {
    $("#details").hidden = true;
    message(t("track.not_found"));
    return null; // a wrong token stays wrong
  }
  if (response.status === 429) return Number(response.headers.get("Retry-After")) || 30;
  if (response.status === 304) {
    $("#as-of").textContent = fmtTime(new Date().toISOString());
    return 15;
  }
  if (!response.ok) {
    message(t("track.unavailable"));
    return 30;
  }
  etag = response.headers.get("ETag");
  show(await response.json());
  const maxAge = /max-age=(\d+)/.exec(response.headers.get("Cache-Control") || "");
  return Math.max(15, maxAge ? Number(maxAge[1]) : 0);
}

showPlant();
(async () => {
  for (;;) {
    const next = await poll();
    if (next === null) return;
    await sleep(next * 1000);
  }
})();
