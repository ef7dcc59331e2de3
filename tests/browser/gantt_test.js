"use strict";
// Drives headless chromium through the board's Gantt for tests/e2e/test_gantt_browser.py:
// labels, legend, off-shift and downtime shading, the weld bar split by what weld-1 did, the
// plant file's machine order; then at a phone's size, that the chart opens on "now" and the
// page does not overflow the screen. Settings: BASE_URL, API_KEY, CHROMIUM, ARTIFACTS.
// Prints "step: ..." lines and "ok" last; exit code 0 means every check passed.

const fs = require("fs");
const path = require("path");
const { env, step, launch } = require("./driver");

const BASE = env("BASE_URL");
const ARTIFACTS = env("ARTIFACTS");

async function openBoard(browser, options) {
  const page = await browser.newPage(options); // a context of its own: `locale` applies
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${BASE}/board`);
  await page.fill("#key", env("API_KEY"));
  await page.click("#login button[type=submit]");
  // the rows (shading, states) come a moment after the schedule
  await page.locator("#gantt svg rect.off-shift").first().waitFor({ state: "attached", timeout: 20000 });
  await page.locator('#gantt g.actual[data-order-id="SO-2001"][data-seq="10"] rect.st-down').waitFor({ state: "attached", timeout: 20000 });
  return { page, errors };
}

async function checkDesktop(browser) {
  const { page, errors } = await openBoard(browser, { viewport: { width: 1280, height: 900 } });
  await page.locator("section.gantt").scrollIntoViewIfNeeded();
  await page.locator("section.gantt").screenshot({ path: path.join(ARTIFACTS, "gantt-desktop.png") });
  await page.screenshot({ path: path.join(ARTIFACTS, "gantt-board-desktop.png"), fullPage: true });
  const weld = page.locator('#gantt g.actual[data-order-id="SO-2001"][data-seq="10"] rect.piece');
  const kinds = await weld.evaluateAll((rects) => rects.map((r) => r.dataset.state));
  const runs = kinds.filter((k, i) => k !== kinds[i - 1]); // consecutive pieces of one kind as one
  if (runs.join(",") !== "running,down,running") throw new Error(`the weld bar's pieces: ${kinds.join(",")}`);
  step("the weld bar is split: running, down, running");
  await page.locator('#gantt g.actual[data-order-id="SO-2001"][data-seq="10"] rect.st-down').click();
  const detail = await page.locator("#gantt .gantt-detail").textContent();
  if (!/SO-2001\/10 weld: .*running \d+ min, down 1[12] min/.test(detail)) throw new Error(`a tap on the weld bar says: ${detail}`);
  step(`a tap on it says: ${detail}`);

  const downtime = await page.locator('#gantt svg rect.downtime[data-machine-id="weld-1"]').count();
  if (downtime !== 1) throw new Error(`${downtime} downtime bands on weld-1`);
  const offShift = await page.locator("#gantt svg rect.off-shift").count();
  step(`shading: 1 downtime band on weld-1, ${offShift} off-shift windows`);

  const labels = await page.locator("#gantt svg text.op-label").allTextContents();
  for (const want of ["SO-2001/10", "SO-2001/20", "SO-2002/10"]) {
    if (!labels.some((l) => l.startsWith(want))) throw new Error(`no label ${want} in ${JSON.stringify(labels)}`);
  }
  step(`labels: ${labels.join(" | ")}`);

  const legend = await page.locator("#gantt .gantt-legend").textContent();
  for (const want of ["planned", "running", "down", "off shift", "downtime", "now"]) {
    if (!legend.includes(want)) throw new Error(`the legend lacks "${want}": ${legend}`);
  }
  const rows = await page.locator("#gantt .gantt-name strong").allTextContents();
  if (rows.slice(0, 4).join(",") !== "weld-1,paint-1,saw-1,saw-9") throw new Error(`rows: ${rows}`);
  step(`legend and rows in the plant file's order: ${rows.join(", ")}`);
  const ticks = await page.locator("#gantt svg text.tick-label").count();
  const note = await page.locator("#gantt .gantt-note").textContent();
  if (ticks < 3 || !note.includes("Europe/Berlin")) throw new Error(`axis: ${ticks} ticks, "${note}"`);
  await page.click('#gantt .gantt-zoom button[data-zoom="all"]');
  const fits = await page.evaluate(() => {
    const scroller = document.querySelector("#gantt .gantt-scroll");
    return scroller.scrollWidth <= scroller.clientWidth + 1;
  });
  if (!fits) throw new Error("'all' does not fit the whole chart in its card");
  await page.locator("section.gantt").screenshot({ path: path.join(ARTIFACTS, "gantt-desktop-all.png") });
  await page.click('#gantt .gantt-zoom button[data-zoom="close"]');
  step("the zoom buttons fit it all in the card and go back close");
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  await page.close();
}

/** The chart in a German browser: legend, zoom buttons, axis note and a tap's details. */
async function checkGerman(browser) {
  const { page, errors } = await openBoard(browser, { viewport: { width: 1280, height: 900 }, locale: "de-DE" });
  const legend = await page.locator("#gantt .gantt-legend").textContent();
  for (const want of ["geplant (Umriss)", "läuft", "Störung", "außerhalb der Schicht / Pause / Feiertag", "Stillstand", "jetzt"]) {
    if (!legend.includes(want)) throw new Error(`the German legend lacks "${want}": ${legend}`);
  }
  const zoom = (await page.locator("#gantt .gantt-zoom").textContent()).trim();
  if (zoom !== "nah24 Std.alles") throw new Error(`the German zoom buttons: ${zoom}`);
  const note = await page.locator("#gantt .gantt-note").textContent();
  if (!note.startsWith("Zeiten in Europe/Berlin")) throw new Error(`the German note: ${note}`);
  await page.locator('#gantt g.actual[data-order-id="SO-2001"][data-seq="10"] rect.st-down').click();
  const detail = await page.locator("#gantt .gantt-detail").textContent();
  if (!/SO-2001\/10 weld: geplant .*tatsächlich .*läuft \d+ min, Störung 1[12] min/.test(detail)) throw new Error(`a tap in German says: ${detail}`);
  const offShift = await page.locator("#gantt svg rect.off-shift").first().getAttribute("data-tip");
  if (!/(außerhalb der Schicht|Pause|Feiertag) \(Kalender day\)/.test(offShift)) throw new Error(`off shift in German: ${offShift}`);
  await page.locator("section.gantt").screenshot({ path: path.join(ARTIFACTS, "gantt-desktop-de.png") });
  step(`the Gantt in German: ${legend}; a tap says: ${detail}`);
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  await page.close();
}

async function checkPhone(browser) {
  const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
  const { page, errors } = await openBoard(browser, phone);
  await page.locator("section.gantt").scrollIntoViewIfNeeded();
  const seen = await page.evaluate(() => {
    const scroller = document.querySelector("#gantt .gantt-scroll");
    const now = document.querySelector("#gantt svg .now-line").getBoundingClientRect();
    const box = scroller.getBoundingClientRect();
    return {
      nowX: now.left, left: box.left, right: box.right,
      scrolls: scroller.scrollWidth > scroller.clientWidth,
      pageWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    };
  });
  if (!(seen.nowX >= seen.left && seen.nowX <= seen.right)) throw new Error(`now-line at ${seen.nowX}, view ${seen.left}-${seen.right}`);
  if (!seen.scrolls) throw new Error("the chart does not scroll inside its card");
  if (seen.pageWidth > seen.innerWidth) throw new Error(`the page is ${seen.pageWidth} px wide on a ${seen.innerWidth} px screen`);
  step(`on a phone the now-line is in view (x=${Math.round(seen.nowX)} in ${Math.round(seen.left)}-${Math.round(seen.right)}), page ${seen.pageWidth} <= ${seen.innerWidth} px`);
  await page.locator("section.gantt").screenshot({ path: path.join(ARTIFACTS, "gantt-phone.png") });
  await page.screenshot({ path: path.join(ARTIFACTS, "gantt-phone-viewport.png") });
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  await page.close();
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await launch();
  try {
    await checkDesktop(browser);
    await checkGerman(browser);
    await checkPhone(browser);
  } finally {
    await browser.close();
  }
  console.log("ok");
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
