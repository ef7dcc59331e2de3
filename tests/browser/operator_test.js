"use strict";
// Drives headless chromium through the operator terminal at /operator/{machine}, for
// tests/e2e/test_operator_terminal_browser.py, on a phone-sized screen:
//   BASE_URL, MACHINE, ORDER_ID, OPERATOR_KEY (may work MACHINE), OTHER_KEY (may work another
//   machine only), CHROMIUM, ARTIFACTS (screenshot folder)
// Starts the order's job from the dispatch list and prints "job-started": the Python side then
// makes the machine run cycles, go DOWN and then IDLE. The driver classifies the DOWN stop,
// reports scrap, and checks that the other machine's key is refused. "ok" last: all passed.

const fs = require("fs");
const path = require("path");
const { env, step, launch } = require("./driver");

const BASE = env("BASE_URL");
const MACHINE = env("MACHINE");
const ORDER = env("ORDER_ID");
const ARTIFACTS = env("ARTIFACTS");
const PHONE = { width: 412, height: 915 };

async function signIn(page, key) {
  await page.goto(`${BASE}/operator/${MACHINE}`);
  await page.fill("#key", key);
  await page.click("#login button[type=submit]");
}

/** Every button on the page is a touch target of at least 48 x 48 CSS pixels. */
async function checkTargets(page) {
  const small = await page.evaluate(() =>
    [...document.querySelectorAll("button")]
      .filter((b) => b.offsetParent !== null)
      .map((b) => [b.textContent.trim().slice(0, 30), b.getBoundingClientRect()])
      .filter(([, r]) => r.width < 48 || r.height < 48)
      .map(([text, r]) => `${text} ${Math.round(r.width)}x${Math.round(r.height)}`));
  if (small.length) throw new Error(`touch targets under 48px: ${small.join(", ")}`);
}

/** The same terminal in a German browser: labels, the job's figures and the classified stop. */
async function checkGerman(browser, errors) {
  const context = await browser.newContext({ locale: "de-DE", viewport: PHONE, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  await signIn(page, env("OPERATOR_KEY"));
  await page.locator("#job-progress", { hasText: "2 Ausschuss" }).waitFor({ timeout: 10000 });
  const texts = {};
  for (const selector of ["#job-title", "#stop-title", "#dispatch-title", "#scrap-submit", "#job-progress", "#stop"]) {
    texts[selector] = (await page.locator(selector).textContent()).trim();
  }
  const want = {
    "#job-title": "Auftrag", "#stop-title": "Stillstände", "#dispatch-title": "Nächste Aufträge",
    "#scrap-submit": "Ausschuss melden", "#job-progress": "5 / 20 gut", "#stop": "Spindle fault (von terminal saw-1",
  };
  for (const [selector, text] of Object.entries(want)) {
    if (!texts[selector].includes(text)) throw new Error(`${selector} shows "${texts[selector]}", not "${text}"`);
  }
  if (!(await page.locator('#stop-reasons button[data-reason="burr"]').textContent()).includes("Qualität")) {
    throw new Error("the reason's category is not German");
  }
  await page.screenshot({ path: path.join(ARTIFACTS, "operator-terminal-de.png"), fullPage: true });
  step(`the terminal in German: ${texts["#job-progress"]}; ${texts["#scrap-submit"]}`);
  await context.close();
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await launch();
  const errors = [];
  const page = await browser.newPage({ viewport: PHONE, deviceScaleFactor: 1, hasTouch: true, isMobile: true });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text()); // a CSP refusal lands here
  });
  try {
    await signIn(page, env("OPERATOR_KEY"));
    const job = page.locator(`#dispatch li[data-job="${ORDER}/10"]`);
    await job.waitFor({ timeout: 30000 }); // the first plan comes a moment after the order
    await page.locator("#live.on").waitFor();
    step("the terminal opens with the machine's dispatch list");
    await job.locator("button[data-action=start]").tap();
    await page.locator("#end-job").waitFor({ timeout: 10000 });
    await page.locator("#message", { hasText: `Started ${ORDER}/10` }).waitFor();
    step("a job was started from the dispatch list");
    console.log("job-started");

    const down = page.locator('#stop button.stop[data-state="DOWN"]');
    await down.waitFor({ timeout: 30000 });
    await page.locator("#state", { hasText: "IDLE" }).waitFor({ timeout: 15000 });
    const progress = await page.locator("#job-progress").textContent();
    if (!progress.includes("5 / 20")) throw new Error(`progress says: ${progress}`);
    step(`the machine ran and stopped: ${progress}`);

    await down.tap();
    await page.locator('#stop button.stop[data-state="DOWN"][aria-pressed="true"]').waitFor();
    await page.locator('#stop-reasons button[data-reason="spindle"]').tap();
    await page.locator("#message", { hasText: "Stop classified: Spindle fault" }).waitFor();
    await page.locator('#stop button.stop[data-state="DOWN"]', { hasText: "Spindle fault (by" }).waitFor();
    step("the operator classified the DOWN stop from the catalogue");

    await page.locator("#scrap-plus").tap();
    await page.locator('#scrap-reasons button[data-reason="burr"]').tap();
    await page.locator("#scrap-submit:not([disabled])").tap();
    await page.locator("#message", { hasText: `2 scrapped on ${ORDER}/10: now 5 good, 2 scrap` }).waitFor();
    await page.locator("#job-progress", { hasText: "2 scrap" }).waitFor();
    await page.locator('#actions li[data-action="scrap"]').waitFor();
    step("scrap was reported with its reason");

    await checkTargets(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(ARTIFACTS, "operator-terminal.png"), fullPage: true });
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.screenshot({ path: path.join(ARTIFACTS, "operator-terminal-tablet.png"), fullPage: true });
    step("every button is a touch target of 48px or more");

    const other = await browser.newPage({ viewport: PHONE });
    await signIn(other, env("OTHER_KEY"));
    const refused = other.locator("#login-error", { hasText: `may not work machine ${MACHINE}` });
    await refused.waitFor({ timeout: 10000 });
    if (!(await other.locator("#terminal").isHidden())) throw new Error("the terminal opened");
    step(`another machine's key is refused: ${await refused.textContent()}`);
    await checkGerman(browser, errors);

    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
    console.log("ok");
  } catch (error) {
    await page.screenshot({ path: path.join(ARTIFACTS, "operator-failure.png"), fullPage: true }).catch(() => {});
    console.error(String(error && error.stack ? error.stack : error));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

main();
