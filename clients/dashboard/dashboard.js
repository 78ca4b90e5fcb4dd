// kept's dashboard: asks for an API key, fetches the reports with it and
// draws them with Chart.js (bundled by keptd, served from /dashboard/).
"use strict";

const charts = {};

function range() {
  return { from: document.getElementById("from").value, to: document.getElementById("to").value };
}

function status(text, error) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = error ? "error" : "";
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
  return csv ? res.blob() : (await res.json()).rows;
}

function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(document.getElementById(id), config);
}

const percent = { ticks: { callback: (v) => `${Math.round(v * 100)}%` }, min: 0, max: 1 };

function drawWeekly(rows) {
  const weeks = [...new Set(rows.map((r) => r.week))];
  const byWeek = (field) => weeks.map((w) => {
    const rs = rows.filter((r) => r.week === w);
    const num = rs.reduce((a, r) => a + (field === "kept" ? r.kept + r.kept_late : r.amount_collected_cents), 0);
    const den = rs.reduce((a, r) => a + (field === "kept" ? r.judged : r.amount_due_cents), 0);
    return den ? num / den : null;
  });
  draw("weekly", {
    type: "line",
    data: { labels: weeks, datasets: [
      { label: "kept rate", data: byWeek("kept"), borderColor: "#2a7", spanGaps: true },
      { label: "collection rate", data: byWeek("collected"), borderColor: "#37c", spanGaps: true },
    ] },
    options: { scales: { y: percent }, animation: false },
  });
}

function drawOrigin(rows) {
  const origins = [...new Set(rows.map((r) => r.origin))];
  const avg = (o, field) => {
    const rs = rows.filter((r) => r.origin === o && r[field] !== null);
    const plans = rs.reduce((a, r) => a + r.plans, 0);
    return plans ? rs.reduce((a, r) => a + r[field] * r.plans, 0) / plans : null;
  };
  draw("origin", {
    type: "bar",
    data: { labels: origins, datasets: ["kept_rate", "collection_rate", "completion_rate", "broken_rate"].map((f, i) => ({
      label: f.replace("_", " "), data: origins.map((o) => avg(o, f)),
      backgroundColor: ["#2a7", "#37c", "#a6c", "#d54"][i],
    })) },
    options: { scales: { y: percent }, animation: false },
  });
}

function drawCohorts(rows) {
  const cohorts = [...new Set(rows.map((r) => r.cohort_week))].slice(-8);
  const weeks = [...new Set(rows.map((r) => r.week))].sort((a, b) => a - b);
  draw("cohorts", {
    type: "line",
    data: { labels: weeks.map((w) => `week ${w}`), datasets: cohorts.map((c, i) => ({
      label: `started ${c}`,
      data: weeks.map((w) => { const r = rows.find((x) => x.cohort_week === c && x.week === w); return r ? r.kept_share : null; }),
      borderColor: `hsl(${(i * 47) % 360} 60% 45%)`, spanGaps: true,
    })) },
    options: { scales: { y: percent }, animation: false },
  });
}

async function load() {
  const key = document.getElementById("key").value.trim();
  if (!key) { status("enter an API key", true); return; }
  sessionStorage.setItem("kept-key", key);
  status("loading…");
  try {
    const [weekly, origin, cohorts] = await Promise.all(
      ["weekly-adherence", "origin", "cohorts"].map((n) => fetchReport(n, key, false)));
    drawWeekly(weekly);
    drawOrigin(origin);
    drawCohorts(cohorts);
    status(`${weekly.length} week rows, ${origin.length} origin rows, ${cohorts.length} cohort points`);
    document.body.dataset.loaded = "true";
  } catch (e) {
    status(e.message, true);
  }
}

async function download(event) {
  event.preventDefault();
  const name = event.target.dataset.report;
  try {
    const blob = await fetchReport(name, document.getElementById("key").value.trim(), true);
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
  document.getElementById("to").value = new Date(today.getTime() + 86400000).toISOString().slice(0, 10);
  document.getElementById("from").value = yearAgo.toISOString().slice(0, 10);
  document.getElementById("key").value = sessionStorage.getItem("kept-key") || "";
  document.getElementById("load").addEventListener("click", load);
  document.querySelectorAll("a.csv").forEach((a) => a.addEventListener("click", download));
  if (document.getElementById("key").value) load();
});
