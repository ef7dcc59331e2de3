"use strict";
// One shift's story across two screens, for tests/e2e/test_shift_story_browser.py: an operator
// at saw-1's terminal (a phone) and a supervisor at the board (a desktop), on one tracker.
//   BASE_URL, ORDER_ID, OPERATOR_KEY (may work saw-1), SUPERVISOR_KEY, CHROMIUM, ARTIFACTS
// Prints "job-started" once the operator started the order's job: the Python side then makes
// saw-1 run cycles and break down (it stays DOWN). The operator classifies the stop, the
// supervisor sees the incident, its order, the OEE tile and the Pareto change, and acknowledges
// once; then "repair-please" (saw-1 runs again) and "ok" last: every check passed.

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
  const watch = (page) => page.on("pageerror", (error) => errors.push(String(error)));
  const terminal = await browser.newPage({ viewport: { width: 412, height: 915 }, hasTouch: true, isMobile: true });
  const board = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  watch(terminal);
  watch(board);
  try {
    await board.goto(`${BASE}/board`);
    await board.fill("#key", env("SUPERVISOR_KEY"));
    await board.fill("#who", "sam at the board");
    await board.click("#login button[type=submit]");
    const tile = board.locator('#oee li.tile[data-machine-id="saw-1"]');
    await tile.waitFor({ timeout: 20000 });
    const stopBefore = Number(await tile.getAttribute("data-stop-min"));
    step(`the supervisor's board is up; saw-1's OEE tile: ${await tile.textContent()}`);

    await terminal.goto(`${BASE}/operator/saw-1`);
    await terminal.fill("#key", env("OPERATOR_KEY"));
    await terminal.click("#login button[type=submit]");
    const job = terminal.locator(`#dispatch li[data-job="${ORDER}/10"]`);
    await job.waitFor({ timeout: 30000 });
    await job.locator("button[data-action=start]").tap();
    await terminal.locator("#message", { hasText: `Started ${ORDER}/10` }).waitFor({ timeout: 10000 });
    step("the operator started the job from the terminal's dispatch list");
    console.log("job-started");

    // the machine runs and breaks down: the operator sees the open stop and gives its reason
    const down = terminal.locator('#stop button.stop[data-state="DOWN"]');
    await down.waitFor({ timeout: 30000 });
    await terminal.locator("#state", { hasText: "DOWN" }).waitFor({ timeout: 15000 });
    await down.tap();
    await terminal.locator('#stop-reasons button[data-reason="spindle"]').tap();
    await terminal.locator("#message", { hasText: "Stop classified: Spindle fault" }).waitFor({ timeout: 10000 });
    step("the operator classified the open stop as a spindle fault");

    // the supervisor: one incident naming saw-1 and the order, the tile and the Pareto moved
    const incident = board.locator("#incidents li.incident", { hasText: "saw-1" });
    await incident.locator(`li[data-order-id="${ORDER}"]`).waitFor({ timeout: 20000 });
    await board.waitForFunction((before) => {
      const t = document.querySelector('#oee li.tile[data-machine-id="saw-1"]');
      return t && Number(t.dataset.stopMin) > before;
    }, stopBefore, { timeout: 30000 });
    step(`saw-1's OEE tile counts the stop: ${await tile.textContent()}`);
    await board.locator('#pareto li[data-key="spindle"]').waitFor({ timeout: 20000 });
    step(`the Pareto shows the operator's reason: ${await board.locator("#pareto").textContent()}`);

    await incident.locator("input[name=comment]").fill("maintenance on the way");
    await incident.locator("button", { hasText: "Acknowledge" }).click();
    await incident.locator(".acked", { hasText: "Acknowledged by sam at the board" }).waitFor({ timeout: 10000 });
    await board.locator("#alerts li.alert.acknowledged", { hasText: ORDER }).waitFor({ timeout: 10000 });
    await board.screenshot({ path: path.join(ARTIFACTS, "shift-story-board.png"), fullPage: true });
    await terminal.screenshot({ path: path.join(ARTIFACTS, "shift-story-terminal.png"), fullPage: true });
    step("one acknowledgement took the incident and its order's alert");

    console.log("repair-please");
    await terminal.locator("#state", { hasText: "RUNNING" }).waitFor({ timeout: 20000 });
    step("saw-1 runs again");
    if (errors.length) throw new Error(`errors in the pages: ${errors.join("; ")}`);
    console.log("ok");
  } catch (error) {
    await board.screenshot({ path: path.join(ARTIFACTS, "shift-story-failure-board.png"), fullPage: true }).catch(() => {});
    await terminal.screenshot({ path: path.join(ARTIFACTS, "shift-story-failure-terminal.png"), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
