// kept's dashboard: asks for an API key, fetches finance's reports with it and
// shows them one currency at a time — headline figures, charts (Chart.js,
// bundled by keptd) and, beside each chart, a table of the figures with the
// counts behind every rate. Every figure on the page is a report's value as
// the API answered it (data-value holds it unrounded).
"use strict";

const REPORTS = ["summary", "weekly-adherence", "origin", "agents", "cohorts", "reminders", "compliance"];
const SMALL = 30; // a rate over fewer than this many is flagged
const charts = {};
let data = null;

const $ = (id) => document.getElementById(id);

function status(text, error) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function range() {
  return { from: $("from").value, to: $("to").value };
}

async function fetchReport(name, key, csv) {
  const r = range();
  const url = `/v1/reports/${name}?from=${r.from}&to=${r.to}` + (csv ? "&format=csv" : "");
  const res = await fetch(url, { headers: { Authorization: `Bearer ${key}` } });
  if (!res.ok) {
    let message = `${res.status}`;
    try { message = (await res.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(`${name}: ${message}`);
  }
  return csv ? res.blob() : res.json();
}

// ---- formatting ------------------------------------------------------------------------------

function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch (e) {
    return 2;
  }
}

function money(cents, currency) {
  if (cents === null || cents === undefined) return "—";
  const digits = fractionDigits(currency);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(cents / 10 ** digits);
  } catch (e) {
    return `${(cents / 10 ** digits).toFixed(digits)} ${currency}`;
  }
}

function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
}

function smallFlag(n) {
  return n < SMALL ? el("span", { class: "flag", title: `only ${n}: a small sample` }, "small sample") : "";
}

// A table cell holding one figure: its text, and its value as the API gave it.
function cell(field, value, text, ...extra) {
  return el("td", { "data-field": field, "data-value": value === null ? "null" : String(value) }, text, ...extra);
}

function rateCell(field, rate, count) {
  return cell(field, rate, percent(rate), smallFlag(count));
}

function fillTable(id, headers, rows, emptyText) {
  const t = $(id);
  t.replaceChildren();
  if (!rows.length) {
    t.append(el("caption", { class: "empty" }, emptyText));
    return;
  }
  t.append(el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)))));
  t.append(el("tbody", {}, ...rows));
}

function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart($(id), config);
}

const percentAxis = { ticks: { callback: (v) => `${Math.round(v * 100)}%` }, min: 0, max: 1 };
const chartOptions = { scales: { y: percentAxis }, animation: false, maintainAspectRatio: false };

// ---- the headline -------------------------------------------------------------------------------

function setFigure(name, value, text, sub) {
  const v = document.querySelector(`[data-figure="${name}"]`);
  v.textContent = text;
  v.dataset.value = value === null || value === undefined ? "null" : String(value);
  document.querySelector(`[data-sub="${name}"]`).replaceChildren(...sub);
}

function drawHeadline(row, currency) {
  if (!row) {
    for (const name of ["kept_rate_week", "kept_rate_4w", "collection_rate_4w", "active_plans", "broken_plans",
                        "arrears_cents"]) {
      setFigure(name, null, "—", [`nothing for ${currency} in this range`]);
    }
    return;
  }
  const partial = row.week_state === "current" ? " (the week is not over: partial)" : "";
  setFigure("kept_rate_week", row.kept_rate_week, percent(row.kept_rate_week),
            [`${row.kept_week} of ${row.judged_week} judged, week of ${row.week}${partial}`,
             smallFlag(row.judged_week)]);
  setFigure("kept_rate_4w", row.kept_rate_4w, percent(row.kept_rate_4w),
            [`${row.kept_4w} of ${row.judged_4w} judged`, smallFlag(row.judged_4w)]);
  setFigure("collection_rate_4w", row.collection_rate_4w, percent(row.collection_rate_4w),
            [`${money(row.collected_judged_4w_cents, currency)} of ${money(row.due_judged_4w_cents, currency)}`]);
  setFigure("active_plans", row.active_plans, String(row.active_plans), ["now"]);
  setFigure("broken_plans", row.broken_plans, String(row.broken_plans),
            [`${row.completed_plans} completed in the range`]);
  setFigure("arrears_cents", row.arrears_cents, money(row.arrears_cents, currency),
            [`${row.installments_in_arrears} installments not paid in full`]);
}

// ---- the reports ----------------------------------------------------------------------------------

function drawWeekly(rows, currency) {
  const shown = rows.filter((r) => r.week_state !== "future");
  const style = (ctx) => (shown[ctx.dataIndex] && shown[ctx.dataIndex].week_state === "current" ? "triangle" : "circle");
  draw("weekly", {
    type: "line",
    data: { labels: shown.map((r) => r.week_state === "current" ? `${r.week} (partial)` : r.week), datasets: [
      { label: "kept rate", data: shown.map((r) => r.kept_rate), borderColor: "#17804a", spanGaps: true,
        pointStyle: style, pointRadius: 3 },
      { label: "collection rate", data: shown.map((r) => r.collection_rate), borderColor: "#1d4ed8", spanGaps: true,
        pointStyle: style, pointRadius: 3 },
    ] },
    options: chartOptions,
  });
  fillTable("weekly-table", ["week", "due", "waived", "judged", "kept", "kept rate", "collected / due (judged)",
                            "collection rate"],
    rows.map((r) => el("tr", { "data-key": r.week, class: r.week_state === "current" ? "partial" : null },
      cell("week", r.week, r.week, r.week_state === "current" ? el("span", { class: "flag" }, "partial week") :
        r.week_state === "future" ? el("span", { class: "flag" }, "to come") : ""),
      cell("installments_due", r.installments_due, r.installments_due),
      cell("waived", r.waived, r.waived),
      cell("judged", r.judged, r.judged),
      cell("kept_any", r.kept + r.kept_late, r.kept + r.kept_late),
      rateCell("kept_rate", r.kept_rate, r.judged),
      cell("amount_collected_judged_cents", r.amount_collected_judged_cents,
           `${money(r.amount_collected_judged_cents, currency)} / ${money(r.amount_due_judged_cents, currency)}`),
      rateCell("collection_rate", r.collection_rate, r.judged))),
    `No installment of a ${currency} plan falls due in this range.`);
}

function planTable(id, rows, currency, keyOf, label, emptyText, textOf = keyOf) {
  fillTable(id, [label, "plans", "judged", "kept rate", "collected / due (judged)", "collection rate", "completed",
                 "broken"],
    rows.map((r) => el("tr", { "data-key": String(keyOf(r)) },
      cell("key", keyOf(r), label === "agent" ? (r.agent_name || `user ${r.agent_user_id}`) : textOf(r)),
      cell("plans", r.plans, r.plans),
      cell("judged", r.judged, r.judged),
      rateCell("kept_rate", r.kept_rate, r.judged),
      cell("collected_judged_cents", r.collected_judged_cents,
           `${money(r.collected_judged_cents, currency)} / ${money(r.due_judged_cents, currency)}`),
      rateCell("collection_rate", r.collection_rate, r.judged),
      rateCell("completion_rate", r.completion_rate, r.plans),
      rateCell("broken_rate", r.broken_rate, r.plans))),
    emptyText);
}

const words = (s) => s.replaceAll("_", " ");

function drawOrigin(rows, currency) {
  draw("origin", {
    type: "bar",
    data: { labels: rows.map((r) => `${words(r.origin)} · ${words(r.channel)} (${r.plans})`),
            datasets: ["kept_rate", "collection_rate", "completion_rate", "broken_rate"].map((f, i) => ({
              label: f.replace("_", " "), data: rows.map((r) => r[f]),
              backgroundColor: ["#17804a", "#1d4ed8", "#7c3aed", "#b00020"][i],
            })) },
    options: chartOptions,
  });
  planTable("origin-table", rows, currency, (r) => `${r.origin}/${r.channel}`, "origin · channel",
            `No ${currency} plan started in this range.`, (r) => `${words(r.origin)} · ${words(r.channel)}`);
}

// The origin report's rows summed by channel: the customer's own plans (self service, a reminder
// call) against those agents set. Rates are recomputed from the sums as the reports round them
// (4 places, half up), never averaged.
const CHANNELS = ["agent", "self_service", "ivr", "import"];
const ratio = (num, den) => (den ? Math.round((num * 10000) / den) / 10000 : null);

function byChannel(rows) {
  const sums = new Map();
  for (const r of rows) {
    const s = sums.get(r.channel) || { channel: r.channel, plans: 0, completed: 0, broken: 0, judged: 0, kept_any: 0,
                                        due_judged_cents: 0, collected_judged_cents: 0 };
    for (const f of ["plans", "completed", "broken", "judged", "kept_any", "due_judged_cents", "collected_judged_cents"]) {
      s[f] += r[f];
    }
    sums.set(r.channel, s);
  }
  return [...sums.values()]
    .sort((a, b) => CHANNELS.indexOf(a.channel) - CHANNELS.indexOf(b.channel))
    .map((s) => ({ ...s, kept_rate: ratio(s.kept_any, s.judged),
                   collection_rate: ratio(s.collected_judged_cents, s.due_judged_cents),
                   completion_rate: ratio(s.completed, s.plans), broken_rate: ratio(s.broken, s.plans) }));
}

function drawChannels(rows, currency) {
  const sums = byChannel(rows);
  draw("channel", {
    type: "bar",
    data: { labels: sums.map((r) => `${words(r.channel)} (${r.plans})`),
            datasets: ["kept_rate", "collection_rate"].map((f, i) => ({
              label: words(f), data: sums.map((r) => r[f]), backgroundColor: ["#17804a", "#1d4ed8"][i],
            })) },
    options: chartOptions,
  });
  planTable("channel-table", sums, currency, (r) => r.channel, "channel",
            `No ${currency} plan started in this range.`, (r) => words(r.channel));
}

function drawCohorts(rows) {
  const cohorts = [...new Set(rows.map((r) => r.cohort_week))].sort().slice(-8);
  const weeks = [...new Set(rows.filter((r) => cohorts.includes(r.cohort_week)).map((r) => r.week))]
    .sort((a, b) => a - b);
  const size = (c) => (rows.find((r) => r.cohort_week === c) || {}).cohort_size;
  draw("cohorts", {
    type: "line",
    data: { labels: weeks.map((w) => `week ${w}`), datasets: cohorts.map((c, i) => ({
      label: `started ${c} (${size(c)} plans)`,
      data: weeks.map((w) => { const r = rows.find((x) => x.cohort_week === c && x.week === w); return r ? r.kept_share : null; }),
      borderColor: `hsl(${(i * 47) % 360} 60% 40%)`, spanGaps: true,
    })) },
    options: chartOptions,
  });
  fillTable("cohorts-table", ["cohort (size)", "week", "judged", "kept", "kept share"],
    rows.filter((r) => cohorts.includes(r.cohort_week)).map((r) => el("tr", { "data-key": `${r.cohort_week}/${r.week}` },
      cell("cohort_week", r.cohort_week, `${r.cohort_week} (${r.cohort_size})`),
      cell("week", r.week, r.week), cell("judged", r.judged, r.judged), cell("kept", r.kept, r.kept),
      rateCell("kept_share", r.kept_share, r.judged))),
    "No plan started in this range.");
}

function drawReminders(rows) {
  fillTable("reminders-table", ["reminder", "judged", "kept", "kept late", "partial", "missed", "kept rate"],
    rows.map((r) => el("tr", { "data-key": r.reminder },
      cell("reminder", r.reminder, r.reminder), cell("judged", r.judged, r.judged), cell("kept", r.kept, r.kept),
      cell("kept_late", r.kept_late, r.kept_late), cell("partial", r.partial, r.partial),
      cell("missed", r.missed, r.missed), rateCell("kept_rate", r.kept_rate, r.judged))),
    "No installment falls due in this range.");
}

function drawCompliance(rows) {
  const totals = new Map();
  for (const r of rows) {
    const k = `${r.status}/${r.rule}`;
    totals.set(k, (totals.get(k) || 0) + r.calls);
  }
  fillTable("compliance-table", ["calls", "rule", "count"],
    [...totals.entries()].sort().map(([k, n]) => el("tr", { "data-key": k },
      cell("status", k.split("/")[0], k.split("/")[0]), cell("rule", k.split("/")[1], k.split("/")[1] || "—"),
      cell("calls", n, n))),
    "No reminder call in this range.");
}

function render() {
  if (!data) return;
  const currency = $("currency").value;
  const mine = (name) => data[name].filter((r) => r.currency === currency);
  drawHeadline(mine("summary")[0], currency);
  drawWeekly(mine("weekly-adherence"), currency);
  drawOrigin(mine("origin"), currency);
  drawChannels(mine("origin"), currency);
  planTable("agents-table", mine("agents"), currency, (r) => r.agent_user_id, "agent",
            `No ${currency} plan started in this range.`);
  drawCohorts(data.cohorts);
  drawReminders(data.reminders);
  drawCompliance(data.compliance);
  document.body.dataset.currency = currency;
}

function chooseCurrency() {
  const judged = new Map();
  for (const name of ["summary", "weekly-adherence", "origin", "agents"]) {
    for (const r of data[name]) judged.set(r.currency, (judged.get(r.currency) || 0) + (r.judged || 0));
  }
  const currencies = [...judged.keys()].sort();
  const select = $("currency");
  const before = select.value || sessionStorage.getItem("kept-currency");
  select.replaceChildren(...(currencies.length ? currencies : [""]).map((c) => el("option", { value: c }, c || "—")));
  select.value = currencies.includes(before) ? before
    : currencies.reduce((best, c) => (judged.get(c) > (judged.get(best) || -1) ? c : best), currencies[0] || "");
}

function showFreshness(analytics) {
  const f = $("freshness");
  f.hidden = false;
  if (analytics.rebuild_pending) {
    f.className = "warn";
    f.textContent = "Analytics is being rebuilt after an upgrade: the figures are incomplete until it finishes.";
    return;
  }
  f.className = "";
  f.textContent = analytics.loaded_through
    ? `Figures include everything recorded up to ${analytics.loaded_through.replace("T", " ").replace("Z", " UTC")}.`
    : "Nothing has been loaded into analytics yet.";
}

async function load() {
  const key = $("key").value.trim();
  if (!key) { status("Enter an API key with the finance or admin role.", true); return; }
  sessionStorage.setItem("kept-key", key);
  document.body.dataset.loaded = "false";
  document.querySelectorAll("section.report").forEach((s) => s.setAttribute("aria-busy", "true"));
  status("Loading the reports…");
  try {
    const docs = await Promise.all(REPORTS.map((n) => fetchReport(n, key, false)));
    data = Object.fromEntries(REPORTS.map((n, i) => [n, docs[i].rows]));
    showFreshness(docs[0].analytics);
    chooseCurrency();
    render();
    const judged = data["weekly-adherence"].reduce((n, r) => n + r.judged, 0);
    status(judged ? `${range().from} to ${range().to}: ${judged} installments judged in all currencies.`
                  : `Nothing was judged from ${range().from} to ${range().to}.`);
    document.body.dataset.loaded = "true";
  } catch (e) {
    status(e.message, true);
  } finally {
    document.querySelectorAll("section.report").forEach((s) => s.removeAttribute("aria-busy"));
  }
}

async function download(event) {
  event.preventDefault();
  const name = event.target.dataset.report;
  try {
    const blob = await fetchReport(name, $("key").value.trim(), true);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${name}_${range().from}_${range().to}.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  } catch (e) {
    status(e.message, true);
  }
}

window.addEventListener("DOMContentLoaded", () => {
  const today = new Date();
  const yearAgo = new Date(today.getTime() - 364 * 86400000);
  $("to").value = new Date(today.getTime() + 8 * 86400000).toISOString().slice(0, 10);
  $("from").value = yearAgo.toISOString().slice(0, 10);
  $("key").value = sessionStorage.getItem("kept-key") || "";
  $("load").addEventListener("click", load);
  $("currency").addEventListener("change", () => {
    sessionStorage.setItem("kept-currency", $("currency").value);
    render();
  });
  document.querySelectorAll("a.csv").forEach((a) => a.addEventListener("click", download));
  if ($("key").value) load();
});
