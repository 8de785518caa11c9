// The review page: keyboard-first decisions over /v1/review (the key's name is the reviewer).
// This file: the views (URL, header, list, detail), the keys and the page's start; the queue of
// decisions, the leases and bulk decisions are in review-queue.js (loaded first).
// Second review (blind): items someone else decided, shown as they were queued; the first
// decision is revealed only once this reviewer's opinion is recorded (POST .../second).
"use strict";
const $ = (id) => document.getElementById(id);
const PAGE = 100; // items per page
const FILTERS = { q: "f-q", status: "f-status", label: "f-label", strategy: "f-strategy", min_score: "f-min",
  max_score: "f-max", reason: "f-reason", sort: "f-sort" };
const state = {
  items: [], pos: 0, selected: new Set(), labels: [], reasons: [], history: [], queue: [], busy: false,
  editing: false, second: false, offset: 0, total: 0, counts: {}, leases: new Map(), leaseSeconds: 300,
  wantLabel: "", timer: null, summaryTimer: null, refilling: false,
};

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function call(method, path, body, opts = {}) {
  const headers = { "X-API-Key": $("key").value };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), ...opts });
  if (!res.ok) {
    const err = await res.json().catch(() => ({ detail: res.statusText }));
    const e = new Error(err.detail || `${res.status} ${res.statusText}`);
    e.status = res.status;
    throw e;
  }
  return { res, data: res.status === 204 ? null : await res.json() };
}
const api = async (method, path, body) => (await call(method, path, body)).data;

// a passing word in the corner; a failure also stays in the list above the item until the next
// view is opened (a later success must not hide it)
function say(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
  if (!error) return;
  const li = document.createElement("li");
  li.textContent = text;
  $("failures").prepend(li);
  while ($("failures").children.length > 5) $("failures").lastChild.remove();
}

const dataset = () => $("dataset").value.trim();

// -- the URL: a link reproduces the view ---------------------------------------------
function viewParams() {
  const p = new URLSearchParams();
  if (dataset()) p.set("dataset", dataset());
  for (const [k, id] of Object.entries(FILTERS)) {
    const v = id === "f-label" && !$(id).value ? state.wantLabel : $(id).value;
    if (v !== "" && !(k === "sort" && v === "score") && !(k === "status" && v === "pending")) p.set(k, v);
  }
  if ($("f-status").value === "pending") p.delete("status"); else if (!$("f-status").value) p.set("status", "any");
  if ($("f-second").checked) p.set("second", "1");
  if (state.offset) p.set("offset", String(state.offset));
  return p;
}

function readUrl() {
  const p = new URLSearchParams(location.search);
  $("dataset").value = p.get("dataset") || "";
  for (const [k, id] of Object.entries(FILTERS)) if (p.has(k)) $(id).value = p.get(k);
  if (p.get("status") === "any") $("f-status").value = "";
  state.wantLabel = p.get("label") || "";
  $("f-second").checked = p.get("second") === "1";
  $("f-status").disabled = $("f-second").checked;
  state.offset = Math.max(0, Number(p.get("offset")) || 0);
}

function writeUrl() {
  const p = viewParams();
  history.replaceState(null, "", `${location.pathname}${p.toString() ? "?" + p : ""}`);
  keepDatasetInNav(dataset());
}

function itemsQuery() {
  const q = new URLSearchParams({ limit: String(PAGE), offset: String(state.offset) });
  for (const [k, id] of Object.entries(FILTERS)) {
    const v = id === "f-label" && !$(id).value ? state.wantLabel : $(id).value;
    if (v !== "" && !(k === "status" && state.second)) q.set(k, v);
  }
  if (state.second) q.set("second", "true");
  return q;
}

// -- the header: counts, progress, totals, kappa -------------------------------------
function showCounts() {
  const c = state.counts;
  const all = Object.values(c).reduce((a, b) => a + b, 0);
  $("counts").textContent = Object.values(STATUS).reduce((acc, k) => (c[k] ? [...acc, `${k} ${c[k]}`] : acc),
    c.pending ? [`pending ${c.pending}`] : []).join(" · ");
  $("progress").textContent = `${all - (c.pending || 0)} of ${all} decided`;
}

async function summarize() {
  const summary = await api("GET", `/v1/review/${encodeURIComponent(dataset())}`);
  if (!state.queue.length && !state.busy) state.counts = summary.counts; // else the guess stays until the queue drains
  showCounts();
  const t = summary.totals;
  $("totals").textContent = `today: you ${t.mine} · everyone ${t.everyone}`;
  $("totals").title = Object.entries(t.by_reviewer).map(([who, n]) => `${who}: ${n}`).join(", ") || "nobody yet";
  const k = summary.agreement;
  $("kappa").textContent = k.pairs ? `kappa ${k.kappa} over ${k.pairs} pairs` : "kappa: no double reviews yet";
  return summary;
}

function refreshSoon() {
  clearTimeout(state.summaryTimer);
  state.summaryTimer = setTimeout(() => summarize().catch((e) => say(e.message, true)), 150);
}

function showScheme(summary) {
  state.labels = summary.labels;
  state.reasons = summary.reasons;
  state.leaseSeconds = summary.lease_seconds;
  const sel = $("f-label");
  if (sel.options.length === 1) for (const l of summary.labels) sel.add(new Option(l, l));
  if (state.wantLabel) sel.value = state.wantLabel;
  const reason = $("reason");
  reason.length = 1;
  for (const r of summary.reasons) reason.add(new Option(r, r));
  $("guidelines").innerHTML = "<h2>Guidelines</h2>" + summary.labels
    .map((l, i) => `<p><kbd>${i + 1}</kbd> <b>${esc(l)}</b>: ${esc(summary.guidelines[l])}</p>`).join("");
}

// -- opening a view ------------------------------------------------------------------
async function openQueue() {
  document.body.dataset.ready = "0"; // for tests and scripts: "1" once the view is drawn
  if (!dataset()) { say("name a dataset first", true); return; }
  await drained(); // every key pressed so far is saved before the view changes
  sessionStorage.setItem("sentiforge-key", $("key").value);
  await releaseAll();
  state.second = $("f-second").checked;
  $("failures").replaceChildren();
  writeUrl();
  showScheme(await summarize());
  state.wantLabel = $("f-label").value;
  const { res, data } = await call("GET", `/v1/review/${encodeURIComponent(dataset())}/items?${itemsQuery()}`);
  state.items = data;
  state.total = Number(res.headers.get("X-Total-Count") || data.length);
  state.selected.clear();
  state.history = state.history.filter((h) => h.kind === "bulk");
  state.leases.clear();
  state.pos = 0;
  await lease();
  state.pos = nextOpen(0);
  render();
  document.body.dataset.ready = "1";
}

// -- drawing -------------------------------------------------------------------------
// What a reviewer sees of an item: in a second review, the sample as queued and no decision.
function shown(it) {
  if (!state.second) {
    const held = heldBy(it);
    if (it.status === "pending" && held) return { label: it.label, text: it.text, cls: "state-held", st: `held by ${held}` };
    const st = it.sending ? `${it.status}…` : it.status;
    return { label: it.label, text: it.text, cls: `state-${it.status}${it.failed ? " failed" : ""}`, st };
  }
  if (!it.mine) return { label: it.queued_label, text: it.queued_text, cls: "state-blind", st: "yours?" };
  const agree = verdict(it.mine.status, it.mine.label || it.queued_label) === verdict(it.status, it.label);
  return { label: it.queued_label, text: it.queued_text, cls: agree ? "state-agree" : "state-disagree",
    st: `${it.mine.status} (${agree ? "agree" : "disagree"})` };
}

const verdict = (status, label) => (status === "rejected" ? "rejected" : label);

function render() {
  const rows = state.items.map((it, i) => {
    const cls = [i === state.pos ? "current" : "", state.selected.has(it.id) ? "selected" : ""].join(" ");
    const v = shown(it);
    return `<tr class="${cls}" data-pos="${i}" data-id="${it.id}"${i === state.pos ? ' aria-current="true"' : ""}>` +
      `<td>${state.selected.has(it.id) ? "✔" : ""}</td><td>${it.id}</td>` +
      `<td>${it.score === null ? "" : it.score.toFixed(2)}</td><td>${esc(v.label)}</td><td>${esc(it.strategy)}</td>` +
      `<td class="${v.cls}">${esc(v.st)}</td><td class="text">${esc(v.text)}</td></tr>`;
  });
  $("list").tBodies[0].innerHTML = rows.join("");
  syncMark();
  const cur = $("list").querySelector("tr.current");
  if (cur) cur.scrollIntoView({ block: "nearest" });
  const n = state.items.length;
  $("page-info").textContent = n ? `${state.offset + 1}–${state.offset + n} of ${Math.max(state.total, state.offset + n)}` : "no items";
  $("prev-page").disabled = state.offset === 0;
  $("next-page").disabled = state.offset + PAGE >= state.total;
  if (!state.editing) renderDetail(state.items[state.pos]);
}

function checksHtml(checks) {
  return Object.entries(checks || {}).map(([name, c]) => {
    const d = c.detail || {};
    const extra = "judge" in d ? ` — judge: ${esc(d.judge ?? "abstained")}, classifier: ${esc(d.classifier ?? "none")}` +
      (d.classifier_support == null ? "" : ` (support ${Number(d.classifier_support).toFixed(2)})`) : "";
    return `<li><b>${esc(name)}</b> ${esc(c.verdict)} ${c.score}${c.reason ? ": " + esc(c.reason) : ""}${extra}</li>`;
  }).join("");
}

function decidedText(it, v) {
  if (state.second) {
    return !it.mine ? "hidden until you give yours (second review)"
      : `<span class="first">first: ${esc(it.status)} (${esc(it.label)}) by ${esc(it.decided_by)} at ` +
        `${esc(it.decided_at)}</span> · yours: ${esc(v.st)}`;
  }
  if (it.failed) return `<span class="failed">not saved: ${esc(it.failed)}</span>`;
  if (it.status === "pending") return heldBy(it) ? `held by ${esc(heldBy(it))} (leased)` : "pending";
  if (it.sending) return `${esc(it.status)} (saving…)`;
  const why = [it.reason, it.note].filter(Boolean).map(esc).join(": ");
  return `${esc(it.status)} by ${esc(it.decided_by)} at ${esc(it.decided_at)}${why ? ` — ${why}` : ""}`;
}

function renderDetail(it) {
  if (!it) { $("detail").innerHTML = "<p>Nothing to review with these filters.</p>"; return; }
  const attrs = Object.entries(it.attributes || {}).map(([k, v]) => `${esc(k)}=${esc(JSON.stringify(v))}`).join(", ");
  const v = shown(it);
  $("detail").innerHTML = `<div class="text big-text" id="text">${esc(v.text)}</div>
    <dl><dt>Label</dt><dd id="label">${esc(v.label)}</dd>
    <dt>Decision</dt><dd id="decision">${decidedText(it, v)}</dd>
    <dt>Queued because</dt><dd>${esc(it.queued_reason)} (score ${it.score})</dd>
    <dt>Quality reasons</dt><dd>${esc(it.quality_reason || "none")}</dd>
    <dt>Checks</dt><dd><ul>${checksHtml(it.checks)}</ul></dd>
    <dt>Strategy</dt><dd>${esc(it.strategy || "?")}</dd>
    <dt>Seed text</dt><dd>${esc(it.parent_text || "none")}</dd>
    <dt>Prompt attributes</dt><dd>${attrs || "none"}</dd></dl>`;
}

// -- editing, moving, keys -----------------------------------------------------------
function edit() {
  const it = state.items[state.pos];
  if (!it || state.second || it.status !== "pending") return;
  state.editing = true;
  $("text").innerHTML = `<label class="sr-only" for="edit-text">New text</label><textarea id="edit-text">${esc(it.text)}</textarea>`;
  const box = $("edit-text");
  box.focus();
  box.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { state.editing = false; renderDetail(it); }
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { state.editing = false; ev.preventDefault(); decide({ action: "edit", text: box.value }); }
    ev.stopPropagation();
  });
}

function move(step) {
  if (step > 0 && !state.second) {
    state.pos = nextOpen(state.pos + 1);
  } else {
    state.pos = Math.max(0, Math.min(state.items.length - 1, state.pos + step));
  }
  lease().then(render);
  refill().catch((e) => say(e.message, true));
  render();
}

function pick(n) {
  const label = state.labels[n - 1];
  const it = state.items[state.pos];
  if (!label || !it) return;
  const own = state.second ? it.queued_label : it.label;
  decide(label === own ? { action: "approve" } : { action: "relabel", label });
}

function toggleSelect() {
  const it = state.items[state.pos];
  if (!it) return;
  if (state.selected.has(it.id)) state.selected.delete(it.id); else state.selected.add(it.id);
  render();
}

const KEYS = {
  a: () => decide({ action: "approve" }), r: () => decide({ action: "reject" }), e: edit, u: undo,
  j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1), x: toggleSelect,
  n: () => $("note").focus(),
  "?": () => { $("help").hidden = !$("help").hidden; }, Escape: () => { $("help").hidden = true; },
};

document.addEventListener("keydown", (ev) => {
  if (state.editing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(ev.target.tagName)) {
    if (ev.key === "Escape") { ev.target.blur(); ev.preventDefault(); } // back to the keys
    return;
  }
  if ($("confirm").open) return;
  if (/^[1-9]$/.test(ev.key)) { pick(Number(ev.key)); ev.preventDefault(); return; }
  const fn = KEYS[ev.key];
  if (fn) { fn(); ev.preventDefault(); }
});

const failSafe = (fn) => () => fn().catch((e) => say(e.message, true));
$("open").addEventListener("click", failSafe(async () => { state.offset = 0; await openQueue(); }));
$("f-second").addEventListener("change", () => { $("f-status").disabled = $("f-second").checked; });
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); state.offset = 0; failSafe(openQueue)(); });
$("prev-page").addEventListener("click", failSafe(async () => { state.offset = Math.max(0, state.offset - PAGE); await openQueue(); }));
$("next-page").addEventListener("click", failSafe(async () => { state.offset += PAGE; await openQueue(); }));
$("select-all").addEventListener("click", () => { state.items.forEach((it) => { if (open(it)) state.selected.add(it.id); }); render(); });
$("bulk-approve").addEventListener("click", failSafe(() => bulk("approve")));
$("bulk-reject").addEventListener("click", failSafe(() => bulk("reject")));
$("undo-bulk").addEventListener("click", () => {
  const i = state.history.map((h) => h.kind).lastIndexOf("bulk");
  if (i >= 0) failSafe(() => undoBulk(state.history.splice(i, 1)[0]))();
});
$("f-label").addEventListener("change", () => { state.wantLabel = $("f-label").value; });
$("list").addEventListener("click", (ev) => {
  const row = ev.target.closest("tr[data-pos]");
  if (row) { state.pos = Number(row.dataset.pos); lease().then(render); render(); }
});
$("dataset").addEventListener("change", writeUrl);

readUrl();
writeUrl();
$("key").value = sessionStorage.getItem("sentiforge-key") || "";
// leases are renewed at a third of their time, so one missed renewal loses nothing
(function tick() {
  if (state.items.length && !state.second) renew();
  state.timer = setTimeout(tick, Math.max(1000, (state.leaseSeconds * 1000) / 3));
})();
if (dataset() && $("key").value) openQueue().catch((e) => say(e.message, true));
