"use strict";
// Drives headless chromium through the supervisor board and the customer page of a running
// tracker, for tests/e2e/test_board_browser.py. Settings come from the environment:
//   BASE_URL, API_KEY, ORDER_ID, TOKEN, CHROMIUM (executable), ARTIFACTS (screenshot folder)
// It prints "step: ..." lines as it goes and "board-ready" once the order shows on track: the
// Python side then puts the order's machine DOWN. Exit code 0 means every check passed.

const fs = require("fs");
const path = require("path");
const { env, step, launch } = require("./driver");

const BASE = env("BASE_URL");
const ORDER = env("ORDER_ID");
const ARTIFACTS = env("ARTIFACTS");

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await launch();
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => errors.push(String(error)));
  const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  try {
    step("/ leads to the board, which asks for the key");
    await page.goto(`${BASE}/`);
    if (!page.url().endsWith("/board")) throw new Error(`/ led to ${page.url()}`);
    await page.fill("#key", env("API_KEY"));
    await page.fill("#who", "e2e supervisor");
    await page.click("#login button[type=submit]");

    const row = (status) => page.locator(`#orders tr[data-order-id="${ORDER}"][data-status="${status}"]`);
    await row("on_track").waitFor({ timeout: 15000 });
    await page.locator("#live.on").waitFor();
    await page.locator("#gantt svg .now-line").waitFor({ state: "attached" });
    // every declared machine, in id order, paint-9 never reported; its order is not on track
    await page.locator('#machines li[data-machine-id="paint-9"] .badge.m-UNKNOWN').waitFor({ timeout: 15000 });
    const ids = async () => page.locator("#machines li").evaluateAll((items) => items.map((li) => li.dataset.machineId).join(" "));
    const order = "paint-1 paint-9 saw-1 saw-2 weld-1 weld-2";
    if ((await ids()) !== order) throw new Error(`machine cards in the order ${await ids()}`);
    await page.locator('#orders tr[data-order-id="SO-1004"][data-unverified] .badge.s-unverified').waitFor();
    step("the machine cards are in id order with the declared paint-9 never reported; SO-1004 reads unverified");
    const tile = page.locator('#oee li.tile[data-machine-id="saw-1"]');
    await tile.waitFor({ timeout: 15000 });
    const stopsBefore = Number(await tile.getAttribute("data-stop-min"));
    await shot("board-on-track.png");
    step(`the order is on track; saw-1's OEE tile: ${await tile.textContent()}`);
    console.log("board-ready");

    await row("at_risk").waitFor({ timeout: 30000 });
    const reasons = await row("at_risk").locator(".reasons").textContent();
    if (!reasons.includes("DOWN")) throw new Error(`at risk for another reason: ${reasons}`);
    const saw1 = page.locator('#machines li[data-machine-id="saw-1"]');
    await saw1.locator(".badge.m-DOWN").waitFor();
    await saw1.locator(".alarm", { hasText: "WF-204 wire feed blocked" }).waitFor({ timeout: 10000 });
    step(`the DOWN card shows its alarm: ${await saw1.locator(".alarm").textContent()}; ${await saw1.locator(".expected").textContent()}`);
    const alert = page.locator("#alerts li.alert", { hasText: ORDER });
    await alert.locator("button", { hasText: "Acknowledge" }).waitFor({ timeout: 15000 });
    await page.waitForFunction(() => { // the alert says what the order row says now
      const row = document.querySelector('#orders tr[data-status="at_risk"] .reasons');
      const text = [...document.querySelectorAll("#alerts .alert-text")].map((t) => t.textContent);
      return row && text.some((t) => t.endsWith(row.textContent));
    }, null, { timeout: 10000 });
    await page.waitForFunction(([before]) => {
      const t = document.querySelector('#oee li.tile[data-machine-id="saw-1"]');
      return t && Number(t.dataset.stopMin) > before;
    }, [stopsBefore], { timeout: 20000 });
    step(`saw-1's OEE tile counts the stop: ${await tile.textContent()}`);
    const incident = page.locator("#incidents li.incident", { hasText: "saw-1" });
    await incident.locator(`li[data-order-id="${ORDER}"]`).waitFor({ timeout: 15000 });
    await shot("board-at-risk.png");
    step(`the order turned at risk live: ${reasons}`);

    await alert.locator("input[name=comment]").fill("maintenance called");
    // the stream rebuilds the alert list on every change: what is typed must survive that
    await page.evaluate(() => render());
    const kept = await alert.locator("input[name=comment]").inputValue();
    if (kept !== "maintenance called") throw new Error(`the comment was lost on a re-render: "${kept}"`);
    await alert.locator("input[name=comment]").fill("");
    // one acknowledgement on the incident: it and its order's alert
    await incident.locator("input[name=comment]").fill("maintenance called");
    await incident.locator("button", { hasText: "Acknowledge" }).click();
    await incident.locator(".acked", { hasText: "Acknowledged by e2e supervisor" }).waitFor({ timeout: 10000 });
    await page
      .locator("#alerts li.alert.acknowledged", { hasText: "maintenance called" })
      .waitFor({ timeout: 10000 });
    if (await alert.locator("button", { hasText: "Acknowledge" }).count()) throw new Error(`${ORDER}'s alert still asks to be acknowledged`);
    await shot("board-acknowledged.png");
    step("the alert is acknowledged: one acknowledgement took the incident and its alert");

    // a supervisor classifies the stop (PUT .../reason), the saw runs again: the Pareto shows
    // the reason, the order is back on track and its cleared alert stays in the history
    console.log("classify-please");
    await page.locator('#pareto li[data-key="material-jam"]').waitFor({ timeout: 20000 });
    step(`the Pareto shows the classified stop: ${await page.locator("#pareto").textContent()}`);
    await page.locator(`#cleared li`, { hasText: ORDER }).waitFor({ state: "attached", timeout: 30000 });
    if ((await ids()) !== order) throw new Error(`machine cards moved: ${await ids()}`);
    step("the cleared alert stays in the history; the cards kept their order");

    // a busy floor: changes every 250 ms for 5 s; the schedule and utilisation (extra
    // requests after changes) must keep coming, not wait for a quiet second that never comes
    const asked = [];
    const cardReads = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/api/v1/machines")) asked.push(Date.now());
      if (request.url().endsWith("/api/v1/board")) cardReads.push(Date.now());
    });
    console.log("stream-please");
    const from = Date.now();
    await page.waitForTimeout(5000);
    const refreshes = asked.filter((t) => t >= from).length;
    if (refreshes < 2) throw new Error(`${refreshes} refreshes of the machine facts in 5 s of changes`);
    // the cards wait for a 0.3 s pause that a change every 0.25 s never leaves, 2 s at most
    const cardRefreshes = cardReads.filter((t) => t >= from).length;
    if (cardRefreshes < 2) throw new Error(`${cardRefreshes} reads of the machine cards in 5 s of changes`);
    step(`the board kept up with a busy floor: ${refreshes} refreshes, ${cardRefreshes} of the cards in 5 s`);

    // the admin's key may start and end jobs: end saw-2's job, then start it again from the
    // machine's dispatch list
    const saw2 = page.locator('#machines li[data-machine-id="saw-2"]');
    await saw2.locator('button[data-action="end-job"]').click({ timeout: 10000 });
    await saw2.locator('button[data-action="end-job"]').waitFor({ state: "detached", timeout: 10000 });
    await saw2.locator('button[data-action="pick-job"]').click();
    await saw2.locator('select[data-role="job"]').selectOption("SO-1003/10", { timeout: 10000 });
    await saw2.locator('button[data-action="start-job"]').click();
    await saw2.locator('button[data-action="end-job"]').waitFor({ timeout: 10000 });
    if (!(await saw2.textContent()).includes("SO-1003/10")) throw new Error("saw-2 shows no job");
    step("a job was ended and started again from the board");

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await shot("board-phone.png");
    step("the board fits a phone");

    const customer = await browser.newPage({ viewport: { width: 390, height: 844 } });
    customer.on("pageerror", (error) => errors.push(String(error)));
    await customer.goto(`${BASE}/track/${ORDER}?token=${encodeURIComponent(env("TOKEN"))}`);
    await customer.locator("#details:not([hidden])").waitFor({ timeout: 15000 });
    const stages = await customer.locator("#stages li").count();
    const percent = await customer.locator("#percent").textContent();
    if (stages !== 2) throw new Error(`the tracking page shows ${stages} stages, not 2`);
    await customer.screenshot({ path: path.join(ARTIFACTS, "track.png"), fullPage: true });
    step(`the customer sees ${percent} over ${stages} stages`);

    await customer.goto(`${BASE}/track/${ORDER}?token=not-the-token`);
    await customer.locator("#message", { hasText: "could not find this order" }).waitFor();
    if (!(await customer.locator("#details").isHidden())) throw new Error("details shown");
    await customer.screenshot({ path: path.join(ARTIFACTS, "track-not-found.png") });
    step("a wrong token shows not found");

    if (errors.length) throw new Error(`errors in the page: ${errors.join("; ")}`);
    console.log("ok");
  } catch (error) {
    await shot("failure.png").catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
