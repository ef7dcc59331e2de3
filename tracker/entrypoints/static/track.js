"use strict";
// The customer's tracking page: one order's stages, percent, ETA and on-time flag, polled from
// /api/v1/orders/{id}/progress with the link's token. The page itself is the same for every
// order id: only the progress call, with a valid token, tells whether the order exists.

const $ = (selector) => document.querySelector(selector);
const orderId = decodeURIComponent(location.pathname.split("/").pop() || "");
const token = new URLSearchParams(location.search).get("token") || "";
const STAGE = { pending: "waiting", active: "next", running: "in progress", completed: "done" };
let etag = null;
let everShown = false;

$("#order-id").textContent = orderId;
document.title = `Order ${orderId}`;

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
  $("#percent").textContent = `${p.percent_complete}%`;
  $("#status").textContent = p.status.replace("_", " ");
  $("#eta").textContent = fmtTime(p.eta);
  $("#due").textContent = fmtTime(p.due_at);
  const onTime = $("#on-time");
  onTime.textContent = p.on_time ? "Yes" : `No: expected ${fmtSlack(p.eta, p.due_at)}`;
  onTime.className = p.on_time ? "on-time" : "late-text";
  $("#stages").replaceChildren(
    ...p.operations.map((op) =>
      el(
        "li",
        { class: `stage ${op.state}` },
        el("span", { class: "stage-name" }, op.name),
        el("span", { class: "muted small" }, ` ${STAGE[op.state] || op.state}`),
        op.state === "running" ? el("span", { class: "small" }, ` · ${op.percent_complete}%`) : null,
      ),
    ),
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
    message(everShown ? "Connection lost; retrying…" : "Cannot reach the server; retrying…");
    return 30;
  }
  if (response.status === 404) {
    $("#details").hidden = true;
    message("We could not find this order. Please check the link you were given.");
    return null; // a wrong token stays wrong
  }
  if (response.status === 429) return Number(response.headers.get("Retry-After")) || 30;
  if (response.status === 304) {
    $("#as-of").textContent = fmtTime(new Date().toISOString());
    return 15;
  }
  if (!response.ok) {
    message("Tracking is unavailable at the moment; retrying…");
    return 30;
  }
  etag = response.headers.get("ETag");
  show(await response.json());
  const maxAge = /max-age=(\d+)/.exec(response.headers.get("Cache-Control") || "");
  return Math.max(15, maxAge ? Number(maxAge[1]) : 0);
}

(async () => {
  for (;;) {
    const next = await poll();
    if (next === null) return;
    await sleep(next * 1000);
  }
})();
