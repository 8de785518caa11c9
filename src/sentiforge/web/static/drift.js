// The drift page: quality measures across runs (quality runs, jobs of a dataset, jobs of a
// recipe), one point per run, points whose change from the run before passed the threshold
// drawn red. Data from /v1/datasets/{name}/quality/history, .../jobs/history, /v1/recipes/{name}/history.
"use strict";
const $ = (id) => document.getElementById(id);
const MEASURES = [
  ["reject_rate", "Reject rate"], ["judge_agreement", "Judge agreement"], ["mean_score", "Mean quality score"],
  ["distinct_2", "Diversity: distinct-2"], ["self_similarity", "Self-similarity (lower: more varied)"],
  ["seed_distance", "Distance to the real seeds"],
];
const COLOURS = ["#2f6fb3", "#e08a1e", "#3f9b57", "#8e5bb5", "#c9463d", "#5a6470", "#1aa3a3"];
const W = 380, H = 150, PAD = { l: 34, r: 10, t: 14, b: 22 };
const SVGNS = "http://www.w3.org/2000/svg";

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function say(text, cls) {
  $("flags").textContent = text;
  $("flags").className = cls || "";
}

function endpoint() {
  const name = encodeURIComponent($("name").value.trim());
  const q = new URLSearchParams();
  if ($("threshold").value) q.set("threshold", $("threshold").value);
  const path = { quality: `/v1/datasets/${name}/quality/history`, jobs: `/v1/datasets/${name}/jobs/history`,
    recipe: `/v1/recipes/${name}/history` }[$("source").value];
  return `${path}?${q}`;
}

async function load() {
  sessionStorage.setItem("sentiforge-key", $("key").value);
  const res = await fetch(endpoint(), { headers: { "X-API-Key": $("key").value } });
  if (!res.ok) {
    const err = await res.json().catch(() => ({ detail: res.statusText }));
    throw new Error(err.detail || res.statusText);
  }
  return res.json();
}

function runId(r) { return r.run_id ?? r.job_id; }

function el(name, attrs, text) {
  const node = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function frame(runs, lo, hi) {
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" });
  const left = PAD.l + 22, span = W - PAD.r - 18 - left;  // room for a bar's half-width at each end
  const x = (i) => left + (runs.length === 1 ? span / 2 : (i * span) / (runs.length - 1));
  const y = (v) => H - PAD.b - ((v - lo) / (hi - lo || 1)) * (H - PAD.t - PAD.b);
  svg.append(el("line", { class: "axis", x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b }));
  svg.append(el("line", { class: "axis", x1: PAD.l, x2: PAD.l, y1: PAD.t, y2: H - PAD.b }));
  for (const v of [lo, (lo + hi) / 2, hi]) svg.append(el("text", { x: 2, y: y(v) + 3 }, v.toFixed(2)));
  runs.forEach((r, i) => svg.append(el("text", { x: x(i) - 6, y: H - 6 }, `#${runId(r)}`)));
  return { svg, x, y };
}

function lineChart(runs, key) {
  const values = runs.map((r) => (typeof r[key] === "number" ? r[key] : null));
  const known = values.filter((v) => v !== null);
  if (!known.length) return null;
  let lo = Math.min(0, ...known), hi = Math.max(...known);
  if (hi <= 1 && lo >= 0) hi = Math.max(hi, 1) > 0.5 ? 1 : Math.max(0.5, hi);
  const { svg, x, y } = frame(runs, lo, hi);
  const path = values.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
  svg.append(el("polyline", { class: "line", points: path.join(" ") }));
  values.forEach((v, i) => {
    if (v === null) return;
    const flagged = runs[i].flagged.includes(key);
    const dot = el("circle", { class: flagged ? "point flagged" : "point", cx: x(i), cy: y(v), r: flagged ? 6 : 4,
      "data-run": runId(runs[i]) });
    const moved = runs[i].change[key];
    dot.append(el("title", {}, `#${runId(runs[i])}: ${v.toFixed(3)}` + (moved !== undefined ? ` (changed ${moved})` : "")));
    svg.append(dot);
    if (flagged) svg.append(el("text", { class: "flag-mark", x: x(i) + 7, y: y(v) - 6 }, "!"));
  });
  return svg;
}

function labelChart(runs, labels) {
  const { svg, x, y } = frame(runs, 0, 1);
  const bw = Math.min(28, (W - PAD.l - PAD.r) / (runs.length + 1));
  runs.forEach((r, i) => {
    let base = 0;
    const group = el("g", { class: "point", "data-run": runId(r) });
    labels.forEach((lab, k) => {
      const share = r.label_shares[lab] || 0;
      const rect = el("rect", { x: x(i) - bw / 2, y: y(base + share), width: bw, height: y(base) - y(base + share),
        fill: COLOURS[k % COLOURS.length] });
      rect.append(el("title", {}, `#${runId(r)} ${lab}: ${(share * 100).toFixed(1)}%`));
      group.append(rect);
      base += share;
    });
    svg.append(group);
    if (r.flagged.includes("label_balance")) {
      svg.append(el("rect", { class: "bar flagged", x: x(i) - bw / 2 - 2, y: y(1) - 2, width: bw + 4, height: y(0) - y(1) + 4 }));
      svg.append(el("text", { class: "flag-mark", x: x(i) + bw / 2 + 2, y: y(1) + 10 }, "!"));
    }
  });
  return svg;
}

// The label colours as CSSOM styles: the page's Content-Security-Policy refuses style attributes.
function legend(labels) {
  const div = document.createElement("div");
  div.className = "legend";
  labels.forEach((l, k) => {
    const span = document.createElement("span"), swatch = document.createElement("i");
    swatch.style.background = COLOURS[k % COLOURS.length];
    span.append(swatch, l);
    div.append(span);
  });
  return div;
}

function card(key, title, svg, legendNode) {
  const div = document.createElement("div");
  div.className = "chart";
  div.dataset.measure = key;
  div.innerHTML = `<h2>${esc(title)}</h2>`;
  if (svg) div.append(svg); else div.insertAdjacentHTML("beforeend", "<p class='none'>not measured in these runs</p>");
  if (legendNode) div.append(legendNode);
  return div;
}

function render(runs) {
  const charts = $("charts");
  charts.innerHTML = "";
  if (!runs.length) { say("no runs with a summary yet"); $("runs").tBodies[0].innerHTML = ""; return; }
  const labels = [...new Set(runs.flatMap((r) => Object.keys(r.label_shares || {})))].sort();
  charts.append(card("label_balance", "Label balance (shares of accepted)", labelChart(runs, labels), legend(labels)));
  for (const [key, title] of MEASURES) charts.append(card(key, title, lineChart(runs, key)));
  const flagged = runs.filter((r) => r.flagged.length);
  if (flagged.length) {
    say("Flagged: " + flagged.map((r) => `#${runId(r)} ${r.flagged.join(", ")}`).join("; ") +
      " (moved more than the threshold since the run before)", "alert");
  } else {
    say(`${runs.length} run${runs.length === 1 ? "" : "s"}, nothing moved beyond the threshold`, "ok");
  }
  $("runs").tBodies[0].innerHTML = runs.map((r) => {
    const facts = (r.dataset ? [`dataset ${r.dataset}`] : []).concat(["reject_rate", "distinct_2", "seed_distance"]
      .filter((k) => typeof r[k] === "number").map((k) => `${k} ${r[k].toFixed(3)}`)).join(" · ");
    return `<tr data-run="${runId(r)}"><td>#${runId(r)}</td><td>${esc(String(r.created_at).slice(0, 19))}</td>` +
      `<td>${esc(facts)}</td><td class="${r.flagged.length ? "flagged" : ""}">${esc(r.flagged.join(", "))}</td></tr>`;
  }).join("");
}

async function open() {
  try {
    say("loading…");
    render(await load());
  } catch (err) {
    say(`error: ${err.message}`, "alert");
  }
}

// The page's address and its links keep the dataset (or recipe) shown, so a link or a reload
// reproduces the view and the nav's review / jobs / label links open the same dataset.
function keepInLinks() {
  const name = $("name").value.trim(), source = $("source").value;
  const q = new URLSearchParams();
  if (name) q.set(source === "recipe" ? "recipe" : "dataset", name);
  if (source !== "quality" && source !== "recipe") q.set("source", source);
  if ($("threshold").value) q.set("threshold", $("threshold").value);
  history.replaceState(null, "", `${location.pathname}${q.toString() ? "?" + q : ""}`);
  const ds = source === "recipe" || !name ? "" : `?dataset=${encodeURIComponent(name)}`;
  for (const [sel, path] of [["[data-nav=review]", "/review"], ["#review-link", "/review"], ["[data-nav=label]", "/label"],
    ["[data-nav=jobs]", "/jobs"], ["[data-nav=drift]", "/drift"]]) {
    document.querySelectorAll(sel).forEach((a) => { a.href = path + ds; });
  }
}

function setup() {
  const q = new URLSearchParams(location.search);
  if (q.get("recipe")) { $("source").value = "recipe"; $("name").value = q.get("recipe"); }
  else if (q.get("dataset")) { $("name").value = q.get("dataset"); }
  if (q.get("source")) $("source").value = q.get("source");
  if (q.get("threshold")) $("threshold").value = q.get("threshold");
  $("key").value = sessionStorage.getItem("sentiforge-key") || "";
  const relabel = () => { $("name-label").textContent = $("source").value === "recipe" ? "Recipe" : "Dataset"; };
  $("source").addEventListener("change", () => { relabel(); keepInLinks(); });
  $("name").addEventListener("change", keepInLinks);
  relabel();
  keepInLinks();
  $("drift-form").addEventListener("submit", (e) => { e.preventDefault(); keepInLinks(); open(); });
  if ($("name").value && $("key").value) open();
}

setup();
