"use strict";
// Drives headless chromium through the customer's tracking page of a running tracker whose
// plant is in Europe/Berlin, from browsers in New York set to German and to English, for
// tests/e2e/test_track_browser.py. The order's first machine is DOWN. Settings from the
// environment: BASE_URL, ORDER_ID, TOKEN, CHROMIUM, ARTIFACTS, SPAN_CASES (the duration
// table shared with the Python tests), DUE_PLANT and DUE_BROWSER (the due time's HH:MM in the
// plant's zone and in the browser's), API_KEY (for the board). Prints "step: ..." lines and "ok" at the end.

const fs = require("fs");
const path = require("path");
const { env, step, launch } = require("./driver");

const BASE = env("BASE_URL");
const ORDER = env("ORDER_ID");
const ARTIFACTS = env("ARTIFACTS");
const CASES = JSON.parse(fs.readFileSync(env("SPAN_CASES"), "utf-8")).cases;

/** The page in a browser context of `locale` in New York; its texts once the order shows. */
async function open(browser, locale, errors) {
  const context = await browser.newContext({ locale, timezoneId: "America/New_York" });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${BASE}/track/${ORDER}?token=${encodeURIComponent(env("TOKEN"))}`);
  await page.locator("#details:not([hidden])").waitFor({ timeout: 15000 });
  await page.locator("#plant-name", { hasText: "Werk Süd" }).waitFor({ timeout: 5000 });
  const text = async (selector) => (await page.locator(selector).textContent()).trim();
  /** Each [selector, text] pair: the element's text includes that text. */
  const expect = async (pairs) => {
    for (const [selector, want] of pairs) {
      const got = await text(selector);
      if (!got.includes(want)) throw new Error(`${selector} shows "${got}", not "${want}"`);
    }
  };
  return { page, text, expect };
}

/** fmtSpan in the page, over the shared table: column 1 is English, 2 German. */
async function checkSpans(page, column, lang) {
  const got = await page.evaluate((cases) => cases.map(([s]) => fmtSpan(s * 1000)), CASES);
  const wrong = CASES.map((c, i) => (got[i] === c[column] ? null : `${c[0]} s: ${got[i]}`))
    .filter(Boolean);
  if (wrong.length) throw new Error(`fmtSpan (${lang}) differs from the table: ${wrong}`);
  step(`fmtSpan (${lang}) matches the ${CASES.length} cases of the shared table`);
}

/** The board in German from New York: German labels, the due time in plant time. */
async function checkBoard(browser, errors) {
  const context = await browser.newContext({ locale: "de-DE", timezoneId: "America/New_York" });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${BASE}/board`);
  await page.locator("#key").fill(env("API_KEY"));
  await page.locator('#login button[type="submit"]').click();
  const row = page.locator(`#orders tr[data-order-id="${ORDER}"]`);
  await row.waitFor({ timeout: 15000 });
  const due = (await row.locator("td.wide").nth(1).textContent()).trim();
  if (!due.includes(env("DUE_PLANT"))) throw new Error(`the board's due shows ${due}, not plant time`);
  const heading = (await page.locator("#orders-title").textContent()).trim();
  if (!heading.startsWith("Aufträge")) throw new Error(`the board's heading is ${heading}`);
  await page.locator("#alerts button", { hasText: "Quittieren" }).first().waitFor({ timeout: 15000 });
  await page.screenshot({ path: path.join(ARTIFACTS, "board-de.png"), fullPage: true });
  step(`the board in German: "${heading}", due ${due} in plant time`);
}

async function main() {
  const browser = await launch();
  const errors = [];
  try {
    const de = await open(browser, "de-DE", errors);
    const lang = await de.page.evaluate(() => document.documentElement.lang);
    if (lang !== "de") throw new Error(`page language ${lang}, not de`);
    const due = await de.text("#due");
    if (!due.includes(env("DUE_PLANT")) || due.includes(env("DUE_BROWSER"))) {
      throw new Error(`due shows ${due}: not ${env("DUE_PLANT")} (plant time)`);
    }
    step(`a German browser in New York shows the due time in plant time: ${due}`);
    await de.expect([
      ["#title", `Auftrag ${ORDER}`],
      ["#zone", "Zeiten in Europe/Berlin"],
      ["#delay", "Verzögerung: Eine Maschinenstörung hält Ihren Auftrag auf"],
      ["#eta", "zwischen"],
      ["#stages li.running .stage-state", "unterbrochen"],
      ["dl.facts", "Voraussichtliche Fertigstellung"],
    ]);
    const percent = await de.text("#percent");
    if (!/^\d+(,\d)?\s%$/.test(percent)) throw new Error(`percent ${percent} is not German`);
    const logo = await de.page.locator("#plant-logo").evaluate((img) => img.naturalWidth);
    if (!logo) throw new Error("the plant's logo did not load");
    step(`German labels, the breakdown in customer words, a range: ${await de.text("#eta")}`);
    await checkSpans(de.page, 2, "de");
    const untranslated = await de.page.evaluate(() => Object.keys(MESSAGES.en).filter((k) => !(k in MESSAGES.de)));
    if (untranslated.length) throw new Error(`no German for ${untranslated}`);
    step("every English text has its German");
    await de.page.screenshot({ path: path.join(ARTIFACTS, "track-de.png"), fullPage: true });

    const en = await open(browser, "en-US", errors);
    await en.expect([
      ["#delay", "Delay: A machine breakdown is holding up your order"],
      ["#eta", "between"],
      ["#zone", "Times in Europe/Berlin"],
      ["#stages li.running .stage-state", "on hold"],
    ]);
    step(`an English browser: ${await en.text("#delay")}`);
    await checkSpans(en.page, 1, "en");
    await en.page.screenshot({ path: path.join(ARTIFACTS, "track-en.png"), fullPage: true });
    const detail = await en.page.locator("#delay").textContent();
    if (/saw|E-\d|DOWN/.test(detail)) throw new Error(`internal details shown: ${detail}`);

    await checkBoard(browser, errors);
    if (errors.length) throw new Error(`errors in the page: ${errors.join("; ")}`);
    console.log("ok");
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
