"use strict";
// Opens the tracker's /docs (Swagger UI) and /redoc in headless chromium with every request
// beyond 127.0.0.1 refused, for tests/e2e/test_board_browser.py: both must render the API's
// operations from the tracker alone. Settings: BASE_URL, CHROMIUM. Prints what it saw and "ok".

const { env, step, launch } = require("./driver");

async function main() {
  const browser = await launch();
  const outside = [];
  const errors = [];
  try {
    const context = await browser.newContext();
    // a plant network without internet: anything not on this machine fails
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1") return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    page.on("pageerror", (error) => errors.push(String(error)));
    // what the pages' Content-Security-Policy kept them from loading shows here
    page.on("console", (message) => {
      if (message.type() === "error") console.log(`console: ${message.text()}`);
    });

    await page.goto(`${env("BASE_URL")}/docs`);
    await page.locator(".opblock").first().waitFor({ timeout: 20000 });
    const operations = await page.locator(".opblock").count();
    step(`/docs lists ${operations} operations`);
    if (operations < 15) throw new Error(`/docs lists only ${operations} operations`);

    await page.goto(`${env("BASE_URL")}/redoc`);
    await page.locator("[data-section-id^='operation/']").first().waitFor({ timeout: 20000 });
    const sections = await page.locator("[data-section-id^='operation/']").count();
    step(`/redoc lists ${sections} operations`);
    if (sections < 15) throw new Error(`/redoc lists only ${sections} operations`);

    if (outside.length) throw new Error(`requests beyond 127.0.0.1: ${outside.join(", ")}`);
    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
    console.log("ok");
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(`FAILED: ${error.stack || error}`);
  process.exit(1);
});
