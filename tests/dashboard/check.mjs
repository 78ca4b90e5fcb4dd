// Opens kept's dashboard in Debian's headless Chromium through a real
// browser session: enters the API key, waits for the charts, checks they drew
// data points and that the console stayed clean, saves a screenshot.
//
//   node check.mjs URL API_KEY SCREENSHOT.png
// Prints one JSON line: {"points": {...}, "errors": [...], "status": "..."}.
import { chromium } from "playwright-core";

const [url, key, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(url, { waitUntil: "load" });
  await page.fill("#from", "2000-01-03");
  await page.fill("#key", key);
  await page.click("#load");
  await page.waitForSelector("body[data-loaded=true]", { timeout: 20000 });
  const points = await page.evaluate(() => Object.fromEntries(["weekly", "origin", "cohorts"].map((id) => {
    const chart = Chart.getChart(document.getElementById(id));
    const drawn = chart ? chart.getSortedVisibleDatasetMetas()
      .reduce((n, meta) => n + meta.data.filter((el, i) => chart.data.datasets[meta.index].data[i] !== null).length, 0) : 0;
    return [id, drawn];
  })));
  const status = await page.textContent("#status");
  await page.screenshot({ path: shot, fullPage: true });
  console.log(JSON.stringify({ points, errors, status }));
} finally {
  await browser.close();
}
