"use strict";
// Drives headless chromium through the board's machine view, for
// tests/e2e/test_machine_view_browser.py: click a machine card, see its channels' charts with
// state bands and an alarm, zoom by dragging, go back out with a range button.
//   BASE_URL, API_KEY, MACHINE, CHANNELS (how many), CHROMIUM, ARTIFACTS (screenshot folder)
// Prints "step: ..." lines and "ok" last; exit code 0 means every check passed.

const fs = require("fs");
const path = require("path");
const { env, step, launch } = require("./driver");

const BASE = env("BASE_URL");
const MACHINE = env("MACHINE");
const CHANNELS = Number(env("CHANNELS"));
const ARTIFACTS = env("ARTIFACTS");

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await launch();
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text()); // a CSP refusal lands here
  });
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  try {
    await page.goto(`${BASE}/board`);
    await page.fill("#key", env("API_KEY"));
    await page.click("#login button[type=submit]");
    const card = page.locator(`#machines li[data-machine-id="${MACHINE}"]`);
    await card.waitFor({ timeout: 15000 });
    await card.locator("strong").click();
    step("the machine card opens its view");

    const view = page.locator("#machine-view");
    await view.waitFor();
    await page.locator("#machine-charts .channel canvas").nth(CHANNELS - 1).waitFor({ timeout: 15000 });
    const charts = await page.locator("#machine-charts .channel").count();
    if (charts !== CHANNELS) throw new Error(`${charts} charts, not ${CHANNELS}`);
    const status = await page.locator("#machine-status").textContent();
    if (!status.includes(`${CHANNELS} channels`) || !status.includes("1 alarms")) {
      throw new Error(`status says: ${status}`);
    }
    // the DOWN band is drawn behind the lines: its colour is on the canvas
    const red = await page.evaluate(() => {
      const canvas = document.querySelector("#machine-charts .channel canvas");
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let found = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i] === 0xfe && data[i + 1] === 0xe2 && data[i + 2] === 0xe2) found++;
      }
      return found;
    });
    if (red < 100) throw new Error(`no DOWN band on the first chart (${red} pixels)`);
    await page.screenshot({ path: path.join(ARTIFACTS, "machine-view.png"), fullPage: false });
    step(`${charts} charts with state bands and the alarm: ${status}`);

    const before = await page.locator("#machine-range").textContent();
    const over = page.locator("#machine-charts .channel .u-over").first();
    const box = await over.boundingBox();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction((old) => document.querySelector("#machine-range").textContent !== old, before);
    await page.waitForFunction(() => document.querySelector("#machine-status").textContent !== "Loading…");
    const zoomed = await page.locator("#machine-status").textContent();
    if (!zoomed.includes("1 alarms")) throw new Error(`the zoomed range lost the alarm: ${zoomed}`);
    await page.screenshot({ path: path.join(ARTIFACTS, "machine-view-zoomed.png"), fullPage: false });
    step(`dragging zooms in: ${zoomed}`);

    await page.locator('#machine-ranges button[data-hours="24"]').click();
    await page.waitForFunction(
      (old) => !["Loading…", old].includes(document.querySelector("#machine-status").textContent),
      zoomed,
    );
    await page.locator("#machine-close").click();
    await view.waitFor({ state: "hidden" });
    step("a range button goes back out, and the view closes");

    const foreign = requests.filter((url) => !url.startsWith(BASE));
    if (foreign.length) throw new Error(`requests beyond the tracker: ${foreign.join(", ")}`);
    if (errors.length) throw new Error(`page errors: ${errors.join(" | ")}`);
    console.log("ok");
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.log(`FAILED: ${error.stack || error}`);
  process.exit(1);
});
