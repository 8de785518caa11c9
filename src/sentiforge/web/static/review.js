// The review page: keyboard-first decisions over /v1/review (the key's name is the reviewer).
// Second review (blind): items someone else decided, shown as they were queued; the first
// decision is revealed only once this reviewer's opinion is recorded (POST .../second).
"use strict";
const $ = (id) => document.getElementById(id);
const state = { items: [], pos: 0, selected: new Set(), labels: [], undo: [], editing: false, second: false };

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function api(method, path, body) {
  const headers = { "X-API-Key": $("key").value };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const err = await res.json().catch(() => ({ detail: res.statusText }));
    throw new Error(err.detail || res.statusText);
  }
  return res.status === 204 ? null : res.json();
}

function say(text) {
  $("status").textContent = text;
}

function filterQuery() {
  const q = new URLSearchParams({ limit: "500" });
  const add = (k, id) => { if ($(id).value !== "") q.set(k, $(id).value); };
  if (state.second) q.set("second", "true"); else add("status", "f-status");
  add("label", "f-label"); add("strategy", "f-strategy");
  add("min_score", "f-min"); add("max_score", "f-max"); add("reason", "f-reason");
  return q;
}

async function summarize() {
  const summary = await api("GET", `/v1/review/${encodeURIComponent($("dataset").value)}`);
  $("counts").textContent = Object.entries(summary.counts).map(([k, v]) => `${k} ${v}`).join(" · ");
  const k = summary.agreement;
  $("kappa").textContent = k.pairs ? `kappa ${k.kappa} over ${k.pairs} pairs` : "kappa: no double reviews yet";
  return summary;
}

async function openQueue() {
  const ds = encodeURIComponent($("dataset").value);
  sessionStorage.setItem("sentiforge-key", $("key").value);
  state.second = $("f-second").checked;
  const summary = await summarize();
  state.labels = summary.labels;
  const sel = $("f-label");
  if (sel.options.length === 1) {
    for (const l of summary.labels) sel.add(new Option(l, l));
  }
  $("guidelines").innerHTML = "<h3>Guidelines</h3>" + summary.labels
    .map((l, i) => `<div><kbd>${i + 1}</kbd> <b>${esc(l)}</b>: ${esc(summary.guidelines[l])}</div>`).join("");
  state.items = await api("GET", `/v1/review/${ds}/items?${filterQuery()}`);
  state.pos = Math.min(state.pos, Math.max(state.items.length - 1, 0));
  state.selected.clear();
  render();
}

// What a reviewer sees of an item: in a second review, the sample as queued and no decision.
function shown(it) {
  if (!state.second) return { label: it.label, text: it.text, cls: `state-${it.status}`, st: it.status };
  if (!it.mine) return { label: it.queued_label, text: it.queued_text, cls: "state-blind", st: "yours?" };
  const agree = verdict(it.mine.status, it.mine.label || it.queued_label) === verdict(it.status, it.label);
  return { label: it.queued_label, text: it.queued_text, cls: agree ? "state-agree" : "state-disagree",
    st: `${it.mine.status} (${agree ? "agree" : "disagree"})` };
}

function verdict(status, label) {
  return status === "rejected" ? "rejected" : label;
}

function render() {
  const rows = state.items.map((it, i) => {
    const cls = [i === state.pos ? "current" : "", state.selected.has(it.id) ? "selected" : ""].join(" ");
    const v = shown(it);
    return `<tr class="${cls}" data-pos="${i}" data-id="${it.id}"><td></td><td>${it.id}</td>` +
      `<td>${it.score === null ? "" : it.score.toFixed(2)}</td><td>${esc(v.label)}</td><td>${esc(it.strategy)}</td>` +
      `<td class="${v.cls}">${esc(v.st)}</td><td class="text">${esc(v.text)}</td></tr>`;
  });
  $("list").tBodies[0].innerHTML = rows.join("");
  const cur = $("list").querySelector("tr.current");
  if (cur) cur.scrollIntoView({ block: "nearest" });
  renderDetail(state.items[state.pos]);
}

function checksHtml(checks) {
  return Object.entries(checks || {}).map(([name, c]) => {
    const d = c.detail || {};
    const extra = "judge" in d ? ` — judge: ${esc(d.judge ?? "abstained")}, classifier: ${esc(d.classifier ?? "none")}` +
      (d.classifier_support == null ? "" : ` (support ${Number(d.classifier_support).toFixed(2)})`) : "";
    return `<li><b>${esc(name)}</b> ${esc(c.verdict)} ${c.score}${c.reason ? ": " + esc(c.reason) : ""}${extra}</li>`;
  }).join("");
}

function renderDetail(it) {
  if (!it) { $("detail").innerHTML = "<p>Nothing to review with these filters.</p>"; return; }
  const attrs = Object.entries(it.attributes || {}).map(([k, v]) => `${esc(k)}=${esc(JSON.stringify(v))}`).join(", ");
  const v = shown(it);
  let decided = it.decided_by ? `${it.status} by ${esc(it.decided_by)} at ${esc(it.decided_at)}` : "pending";
  if (state.second) {
    decided = !it.mine ? "hidden until you give yours (second review)"
      : `<span class="first">first: ${esc(it.status)} (${esc(it.label)}) by ${esc(it.decided_by)} at ` +
        `${esc(it.decided_at)}</span> · yours: ${esc(v.st)}`;
  }
  $("detail").innerHTML = `<div class="text" id="text">${esc(v.text)}</div>
    <dl><dt>Label</dt><dd id="label">${esc(v.label)}</dd>
    <dt>Decision</dt><dd id="decision">${decided}</dd>
    <dt>Queued because</dt><dd>${esc(it.queued_reason)} (score ${it.score})</dd>
    <dt>Quality reasons</dt><dd>${esc(it.quality_reason || "none")}</dd>
    <dt>Checks</dt><dd><ul>${checksHtml(it.checks)}</ul></dd>
    <dt>Strategy</dt><dd>${esc(it.strategy || "?")}</dd>
    <dt>Seed text</dt><dd>${esc(it.parent_text || "none")}</dd>
    <dt>Prompt attributes</dt><dd>${attrs || "none"}</dd></dl>`;
}

const SECOND = { approve: "approved", reject: "rejected", relabel: "relabelled" };

async function decideSecond(it, body) {
  if (it.mine) { say(`#${it.id}: your second opinion is recorded already`); return; }
  if (!SECOND[body.action]) { say("a second review approves, rejects or relabels (1–9, a, r)"); return; }
  const mine = { status: SECOND[body.action], label: body.label || null };
  try {
    await api("POST", `/v1/review/items/${it.id}/second`, mine);
    it.mine = mine;
    say(`#${it.id} second opinion: ${mine.status}`);
    await summarize();
    move(1);
  } catch (e) { say(e.message); }
}

async function decide(body) {
  const it = state.items[state.pos];
  if (!it) return;
  if (state.second) { await decideSecond(it, body); return; }
  try {
    const done = await api("POST", `/v1/review/items/${it.id}/decision`, body);
    state.items[state.pos] = { ...it, ...done };
    state.undo.push(state.pos);
    say(`#${it.id} ${done.status}`);
    move(1);
  } catch (e) { say(e.message); }
}

async function undo() {
  if (state.second) { say("a second opinion stays (it only counts for agreement)"); return; }
  const pos = state.undo.pop();
  if (pos === undefined) { say("nothing to undo"); return; }
  const it = state.items[pos];
  try {
    state.items[pos] = { ...it, ...(await api("POST", `/v1/review/items/${it.id}/undo`)) };
    state.pos = pos;
    say(`#${it.id} undone`);
    render();
  } catch (e) { say(e.message); }
}

async function bulk(action) {
  if (state.second) { say("bulk decisions are first reviews; a second review goes item by item"); return; }
  const ids = [...state.selected];
  if (!ids.length) { say("select items first (x, or Select all)"); return; }
  const out = await api("POST", "/v1/review/bulk", { ids, action });
  say(`${out.decided.length} ${action === "approve" ? "approved" : "rejected"}, ${Object.keys(out.failed).length} failed`);
  await openQueue();
}

function edit() {
  const it = state.items[state.pos];
  if (!it || state.second) return;
  state.editing = true;
  $("text").innerHTML = `<textarea id="edit-text">${esc(it.text)}</textarea>`;
  const box = $("edit-text");
  box.focus();
  box.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { state.editing = false; renderDetail(it); }
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { state.editing = false; decide({ action: "edit", text: box.value }); }
    ev.stopPropagation();
  });
}

function move(step) {
  state.pos = Math.max(0, Math.min(state.items.length - 1, state.pos + step));
  render();
}

function pick(n) {
  const label = state.labels[n - 1];
  const it = state.items[state.pos];
  if (!label || !it) return;
  const own = state.second ? it.queued_label : it.label;
  decide(label === own ? { action: "approve" } : { action: "relabel", label });
}

const KEYS = {
  a: () => decide({ action: "approve" }), r: () => decide({ action: "reject" }), e: edit, u: undo,
  j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
  x: () => { const it = state.items[state.pos]; if (it) { state.selected.has(it.id) ? state.selected.delete(it.id) : state.selected.add(it.id); render(); } },
  "?": () => { $("help").hidden = !$("help").hidden; }, Escape: () => { $("help").hidden = true; },
};

document.addEventListener("keydown", (ev) => {
  if (state.editing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(ev.target.tagName)) return;
  if (/^[1-9]$/.test(ev.key)) { pick(Number(ev.key)); ev.preventDefault(); return; }
  const fn = KEYS[ev.key];
  if (fn) { fn(); ev.preventDefault(); }
});

$("open").addEventListener("click", () => openQueue().catch((e) => say(e.message)));
$("f-second").addEventListener("change", () => { $("f-status").disabled = $("f-second").checked; });
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); state.pos = 0; openQueue().catch((e) => say(e.message)); });
$("select-all").addEventListener("click", () => { state.items.forEach((it) => state.selected.add(it.id)); render(); });
$("bulk-approve").addEventListener("click", () => bulk("approve").catch((e) => say(e.message)));
$("bulk-reject").addEventListener("click", () => bulk("reject").catch((e) => say(e.message)));
$("list").addEventListener("click", (ev) => {
  const row = ev.target.closest("tr[data-pos]");
  if (row) { state.pos = Number(row.dataset.pos); render(); }
});

const params = new URLSearchParams(location.search);
$("dataset").value = params.get("dataset") || "";
$("key").value = sessionStorage.getItem("sentiforge-key") || "";
if ($("dataset").value && $("key").value) openQueue().catch((e) => say(e.message));
