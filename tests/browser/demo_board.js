"use strict";
// Opens the supervisor board of a running `shopfloor demo` in headless chromium, for
// tests/e2e/test_demo_browser.py. Environment: BASE_URL, API_KEY, CHROMIUM, ARTIFACTS, and
// LATE_ORDER (the order whose alert the scenario raises). Prints "step: ..." lines and "ok".

const fs = require("fs");
const path = require("path");
const { env, step, launch } = require("./driver");

async function main() {
  const artifacts = env("ARTIFACTS");
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await launch();
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (error) => errors.push(String(error)));
  try {
    await page.goto(`${env("BASE_URL")}/board`);
    await page.fill("#key", env("API_KEY"));
    await page.fill("#who", "demo supervisor");
    await page.click("#login button[type=submit]");
    await page.locator("#live.on").waitFor({ timeout: 15000 });
    step("the board is live");
    const late = env("LATE_ORDER");
    await page.locator(`#orders tr[data-order-id="${late}"][data-status="late"]`).waitFor({ timeout: 90000 });
    step(`${late} shows late`);
    await page.locator("#alerts li").first().waitFor();
    const machines = await page.locator("#machines li").count();
    step(`${machines} machines listed`);
    const down = await page.locator("#machines li", { hasText: "DOWN" }).count();
    step(`${down} machine(s) down`);
    await page.locator("#gantt svg .now-line").waitFor({ state: "attached" });
    const banner = page.locator("#timescale:not([hidden])");
    await banner.waitFor({ timeout: 15000 });
    step(`the banner: ${await banner.textContent()}`);
    await page.locator("#oee li.tile").first().waitFor({ timeout: 15000 });
    await page.locator("#machines li .alarm").first().waitFor({ timeout: 30000 });
    step(`the DOWN card: ${await page.locator("#machines li", { hasText: "DOWN" }).first().textContent()}`);
    await page.screenshot({ path: path.join(artifacts, "demo-board.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(artifacts, "demo-board-phone.png"), fullPage: true });
    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
    console.log("ok");
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(String(error && error.stack || error));
  process.exit(1);
});
