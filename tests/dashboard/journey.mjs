// Walks customers through kept's self-service page in Debian's headless
// Chromium at a phone's viewport (390x844), as a person does: typing into the
// fields and pressing the buttons. Each journey runs in a browser context of
// its own (its own cookies). After every step it records what the page says,
// and where a step asks, runs axe-core's WCAG 2.1 A/AA rules and saves a
// screenshot.
//
//   node journey.mjs JOURNEYS.json ARTIFACT_PREFIX
// JOURNEYS.json: {"name": [[action, ...args], ...], ...}; actions:
//   ["goto", url, headers?]   ["fill", selector, value]   ["press", selector] (a click that navigates)
//   ["check", name]           (axe-core scan and a screenshot named name)
// Prints one JSON line: {"journeys": {name: [{url, status, lang, text}]}, "violations": [...], "errors": [...]}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const [file, shot] = process.argv.slice(2);
const journeys = JSON.parse(readFileSync(file, "utf8"));
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const out = { journeys: {}, violations: [], errors: [] };

async function record(page, response) {
  return {
    url: page.url(),
    status: response ? response.status() : null,
    lang: await page.getAttribute("html", "lang"),
    text: await page.innerText("body"),
  };
}

// The page allows no script at all (its CSP); the context bypasses the CSP only so that
// axe-core can be injected into the page it checks.
async function check(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  }));
  for (const v of result.violations) {
    out.violations.push({ page: name, id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) });
  }
  await page.screenshot({ path: `${shot}-${name}.png`, fullPage: true });
}

try {
  for (const [name, steps] of Object.entries(journeys)) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true,
                                               hasTouch: true, bypassCSP: true });
    const page = await context.newPage();
    page.on("console", (m) => { if (m.type() === "error") out.errors.push(`${name}: ${m.text()}`); });
    page.on("pageerror", (e) => out.errors.push(`${name}: ${e}`));
    const seen = [];
    for (const [action, ...args] of steps) {
      try {
        await step(page, context, seen, action, args);
      } catch (e) {
        throw new Error(`${name}: ${action} ${args[0]} on ${page.url()} failed (${e.message.split("\n")[0]}); ` +
                        `the page says: ${(await page.innerText("body")).slice(0, 800)}`);
      }
    }
    out.journeys[name] = seen;
    await context.close();
  }
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}

async function step(page, context, seen, action, args) {
      if (action === "goto") {
        await context.setExtraHTTPHeaders(args[1] || {});
        seen.push(await record(page, await page.goto(args[0], { waitUntil: "load" })));
      } else if (action === "fill") {
        await page.fill(args[0], args[1], { timeout: 5000 });
      } else if (action === "press") {
        const [response] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(args[0])]);
        seen.push(await record(page, response));
      } else if (action === "check") {
        await check(page, args[0]);
      } else {
        throw new Error(`unknown action ${action}`);
      }
}
