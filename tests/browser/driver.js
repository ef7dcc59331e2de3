"use strict";
// What every browser driver here shares: its settings from the environment, its step lines,
// and Debian's chromium-headless-shell launched through playwright-core (CHROMIUM).

const { chromium } = require("playwright-core");

/** The environment variable `name`; a driver run without it fails at once, naming it. */
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

/** One "step: ..." line: the Python side shows them when a check fails. */
const step = (text) => console.log(`step: ${text}`);

/** Headless chromium at $CHROMIUM (no sandbox: CI runs as root). */
const launch = () => chromium.launch({ executablePath: env("CHROMIUM"), args: ["--no-sandbox"] });

module.exports = { env, step, launch };
