// Opens kept's dashboard in Debian's headless Chromium through a real
// browser session: enters the API key and the range, waits for the reports,
// then for every currency in the selector reads the figures the page shows
// (the headline's and every table's, each with the API value it holds) and
// counts the charts' points; checks that nothing overflows the viewport at a
// laptop's 1366x768 and at a phone's 390x844, that the console stayed clean,
// and saves a screenshot of each.
//
//   node check.mjs URL API_KEY FROM TO SCREENSHOT_PREFIX
// Prints one JSON line: {"currencies": {...}, "points": {...}, "overflow": {...}, "errors": [...], "status": "..."}.
import { chromium } from "playwright-core";

const [url, key, from, to, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const errors = [];

function readFigures() {
  const headline = Object.fromEntries([...document.querySelectorAll("[data-figure]")]
    .map((e) => [e.dataset.figure, { value: e.dataset.value, text: e.textContent }]));
  const tables = {};
  for (const t of document.querySelectorAll("table[id]")) {
    tables[t.id] = [...t.querySelectorAll("tbody tr")].map((tr) => ({
      key: tr.dataset.key,
      cells: Object.fromEntries([...tr.querySelectorAll("td[data-field]")]
        .map((td) => [td.dataset.field, td.dataset.value])),
      // what a person reads in each cell (without the flags beside it)
      texts: Object.fromEntries([...tr.querySelectorAll("td[data-field]")]
        .map((td) => [td.dataset.field, td.firstChild ? td.firstChild.textContent : ""])),
      flags: [...tr.querySelectorAll(".flag")].map((f) => f.textContent),
    }));
    if (!tables[t.id].length) tables[t.id] = t.querySelector("caption") ? t.querySelector("caption").textContent : "";
  }
  return { headline, tables };
}

function countPoints() {
  return Object.fromEntries(["weekly", "origin", "channel", "cohorts"].map((id) => {
    const chart = Chart.getChart(document.getElementById(id));
    const drawn = chart ? chart.getSortedVisibleDatasetMetas()
      .reduce((n, meta) => n + meta.data.filter((el, i) => chart.data.datasets[meta.index].data[i] !== null).length, 0) : 0;
    return [id, drawn];
  }));
}

try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(url, { waitUntil: "load" });
  await page.fill("#from", from);
  await page.fill("#to", to);
  await page.fill("#key", key);
  await page.click("#load");
  await page.waitForSelector("body[data-loaded=true]", { timeout: 20000 });
  const currencies = {};
  const options = await page.$$eval("#currency option", (os) => os.map((o) => o.value));
  for (const c of options) {
    await page.selectOption("#currency", c);
    await page.waitForSelector(`body[data-currency="${c}"]`);
    currencies[c] = await page.evaluate(readFigures);
  }
  const points = await page.evaluate(countPoints);
  const overflow = {};
  overflow.laptop = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: `${shot}-1366x768.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  overflow.phone = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: `${shot}-phone.png`, fullPage: true });
  const status = await page.textContent("#status");
  const freshness = await page.textContent("#freshness");
  console.log(JSON.stringify({ currencies, points, overflow, errors, status, freshness }));
} finally {
  await browser.close();
}
