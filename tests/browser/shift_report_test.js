"use strict";
// Drives headless chromium through the shift report page, for
// tests/e2e/test_shift_report_browser.py: sign in, see the current shift's report, its CSV
// download, and the print layout without the controls.
//   BASE_URL, API_KEY, LINE, ORDERS (how many output rows), CHROMIUM, ARTIFACTS
// Prints "step: ..." lines and "ok" last; exit code 0 means every check passed.

const fs = require("fs");
const path = require("path");
const { env, step, launch } = require("./driver");

const BASE = env("BASE_URL");
const ARTIFACTS = env("ARTIFACTS");

/** The report in a German browser: labels, numbers in German, the CSV's header still English. */
async function checkGerman(browser, errors) {
  const context = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${BASE}/reports/shift?line=${encodeURIComponent(env("LINE"))}`);
  await page.fill("#key", env("API_KEY"));
  await page.click("#login button[type=submit]");
  await page.locator("#sheet").waitFor({ timeout: 15000 });
  const text = async (selector) => (await page.locator(selector).textContent()).trim();
  const title = await text("#title");
  if (!title.startsWith(`Linie ${env("LINE")}`) || !title.includes("Schicht")) throw new Error(`German title: ${title}`);
  const oee = await text("#k-oee");
  if (!/^\d+,\d\s%$/.test(oee)) throw new Error(`German OEE tile: ${oee}`);
  for (const [selector, want] of [["#output thead", "Arbeitsgang"], [".kpis", "Verfügbarkeit"], ["#incidents thead", "Quittiert von"], ["#csv", "CSV herunterladen"]]) {
    if (!(await text(selector)).includes(want)) throw new Error(`${selector} lacks "${want}"`);
  }
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
  const csv = fs.readFileSync(await download.path(), "utf8");
  if (!csv.startsWith("line,date,shift")) throw new Error(`the German page's CSV starts: ${csv.slice(0, 80)}`);
  await page.screenshot({ path: path.join(ARTIFACTS, "shift-report-de.png"), fullPage: true });
  step(`the report in German: ${title}, OEE ${oee}; the CSV stays English`);
  await context.close();
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await launch();
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text()); // a CSP refusal lands here
  });
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  try {
    await page.goto(`${BASE}/reports/shift?line=${encodeURIComponent(env("LINE"))}`);
    await page.fill("#key", env("API_KEY"));
    await page.click("#login button[type=submit]");
    await page.locator("#sheet").waitFor({ timeout: 15000 });
    const rows = await page.locator("#output tbody tr").count();
    if (rows !== Number(env("ORDERS"))) throw new Error(`${rows} output rows, not ${env("ORDERS")}`);
    const title = await page.locator("#title").textContent();
    if (!title.includes(`Line ${env("LINE")}`)) throw new Error(`title: ${title}`);
    const oee = await page.locator("#k-oee").textContent();
    if (!oee.includes("%")) throw new Error(`OEE tile: ${oee}`);
    const losses = await page.locator("#losses tbody tr").count();
    const incidents = await page.locator("#incidents tbody tr:not(:has(td.empty))").count();
    step(`the report of ${title}: OEE ${oee}, ${rows} orders, ${losses} downtime reasons, ${incidents} incidents`);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
    const name = download.suggestedFilename();
    if (!/^shift-report-.+\.csv$/.test(name)) throw new Error(`CSV file name: ${name}`);
    const text = fs.readFileSync(await download.path(), "utf8");
    if (!text.startsWith("line,date,shift")) throw new Error(`CSV starts: ${text.slice(0, 80)}`);
    step(`the CSV downloads as ${name}`);

    await page.screenshot({ path: path.join(ARTIFACTS, "shift-report.png"), fullPage: true });
    await page.emulateMedia({ media: "print" });
    if (await page.locator("#pick").isVisible()) throw new Error("the controls are printed");
    if (!(await page.locator("#sheet").isVisible())) throw new Error("the report is not printed");
    await page.pdf({ path: path.join(ARTIFACTS, "shift-report.pdf") });
    step("printed without the controls, as PDF");
    const foreign = requests.filter((url) => !url.startsWith(BASE) && !url.startsWith("blob:"));
    if (foreign.length) throw new Error(`requests beyond the tracker (a CDN?): ${foreign.join(", ")}`);
    await checkGerman(browser, errors);
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
