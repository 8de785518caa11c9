// Label these next: the pool texts whose labels would help a model most (GET /v1/label-queue),
// labelled by keyboard (POST /v1/label-queue/labels; the key's name is the reviewer).
// A key labels the text shown when it was pressed and moves on at once; the labels are sent
// one after another in the order typed, each shown as sending, then stored or failed (a failed
// one is shown with its reason and can be labelled again).
"use strict";
const $ = (id) => document.getElementById(id);
const RESERVED = new Set(["j", "k"]);
const state = { items: [], pos: 0, labels: [], keys: {}, chain: Promise.resolve(), fetching: false,
  stored: 0, sending: 0, labelled: 0, poolSize: 0, into: "" };

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
  return res.json();
}

function say(text) { $("status").textContent = text; }

function target() {
  const q = { pool: $("pool").value.trim() };
  if ($("model").value.trim()) q.model = $("model").value.trim();
  if ($("into").value.trim()) q.into = $("into").value.trim();
  return q;
}

// A key per label: its digit, and the first letter of its name no other label took.
function assignKeys(labels) {
  const keys = {};
  labels.forEach((label, i) => {
    keys[String(i + 1)] = label;
    for (const ch of label.toLowerCase()) {
      if (/[a-z]/.test(ch) && !RESERVED.has(ch) && !(ch in keys)) { keys[ch] = label; break; }
    }
  });
  return keys;
}

function keysOf(label) {
  return Object.keys(state.keys).filter((k) => state.keys[k] === label);
}

async function fetchMore(reset) {
  if (state.fetching) return;
  state.fetching = true;
  try {
    const q = new URLSearchParams({ ...target(), n: "20" });
    const page = await api("GET", `/v1/label-queue?${q}`);
    if (reset) {
      Object.assign(state, { items: [], pos: 0, labels: page.labels, keys: assignKeys(page.labels), stored: 0 });
      renderKeys(page);
    }
    const known = new Set(state.items.map((it) => it.id));
    for (const it of page.items) if (!known.has(it.id)) state.items.push({ ...it, mine: null });
    Object.assign(state, { labelled: page.labelled, poolSize: page.pool_size, into: page.into });
    $("scored-by").textContent = `Queue scored by ${page.scored_by}; a refit every 25 labels.`;
    render();
  } finally {
    state.fetching = false;
  }
}

function renderKeys(page) {
  $("label-keys").innerHTML = page.labels.map((label) => {
    const hint = page.guidelines[label] && page.guidelines[label] !== label ? `: ${esc(page.guidelines[label])}` : "";
    return `<li>${keysOf(label).map((k) => `<kbd>${esc(k)}</kbd>`).join(" ")} <b>${esc(label)}</b>${hint}</li>`;
  }).join("");
  $("rebuild").textContent = `sentiforge build ${page.into} --out DIR`;
}

function mineCell(it) {
  if (!it.mine) return "";
  const what = { sending: "sending…", stored: "stored", failed: "failed" }[it.mine.state];
  return `<span class="${it.mine.state}">${esc(it.mine.label)} (${what})</span>`;
}

function render() {
  $("queue").tBodies[0].innerHTML = state.items.map((it, i) =>
    `<tr class="${i === state.pos ? "current" : ""}" data-pos="${i}" data-id="${it.id}"><td>${it.id}</td>` +
    `<td>${esc(it.predicted)}</td><td>${it.margin.toFixed(2)}</td><td class="mine">${mineCell(it)}</td>` +
    `<td class="text">${esc(it.text)}</td></tr>`).join("");
  const cur = $("queue").querySelector("tr.current");
  if (cur) cur.scrollIntoView({ block: "nearest" });
  const it = state.items[state.pos];
  $("current").innerHTML = !it ? "<p>Nothing left to label in this pool.</p>" :
    `<div class="text big-text" id="text">${esc(it.text)}</div>
     <p class="meta">#${it.id} · the model says <b>${esc(it.predicted)}</b> (margin ${it.margin.toFixed(2)}: ` +
    Object.entries(it.scores).map(([l, p]) => `${esc(l)} ${p.toFixed(2)}`).join(", ") +
    `)${it.mine ? ` · yours: ${mineCell(it)}` : ""}</p>${it.mine && it.mine.error ? `<p class="failed">${esc(it.mine.error)}</p>` : ""}`;
  $("counts").textContent = `${state.labelled + state.stored} labelled in ${state.into} · pool ${state.poolSize}` +
    ` · this session ${state.stored} stored` + (state.sending ? `, ${state.sending} sending` : "");
}

function send(it, label) {
  state.sending += 1;
  state.chain = state.chain.then(async () => {
    try {
      await api("POST", "/v1/label-queue/labels", { ...target(), id: it.id, label });
      it.mine = { label, state: "stored" };
      state.stored += 1;
    } catch (e) {
      it.mine = { label, state: "failed", error: e.message };
      say(`#${it.id} not stored: ${e.message}`);
    } finally {
      state.sending -= 1;
      render();
    }
  });
}

function give(label) {
  const it = state.items[state.pos];
  if (!it) return;
  if (it.mine && it.mine.state !== "failed") { say(`#${it.id} is labelled already (${it.mine.label})`); move(1); return; }
  it.mine = { label, state: "sending" };
  send(it, label);
  move(1);
}

function move(step) {
  state.pos = Math.max(0, Math.min(state.items.length - 1, state.pos + step));
  render();
  const open = state.items.slice(state.pos).filter((it) => !it.mine).length;
  if (open < 5) fetchMore(false).catch((e) => say(e.message));
}

const MOVES = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 };

document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(ev.target.tagName)) return;
  const label = state.keys[ev.key.toLowerCase()];
  if (label) { give(label); ev.preventDefault(); return; }
  if (ev.key in MOVES) { move(MOVES[ev.key]); ev.preventDefault(); }
});

$("open-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("sentiforge-key", $("key").value);
  keepDatasetInNav($("pool").value.trim());
  document.activeElement.blur();
  fetchMore(true).then(() => say("")).catch((e) => say(e.message));
});
$("queue").addEventListener("click", (ev) => {
  const row = ev.target.closest("tr[data-pos]");
  if (row) { state.pos = Number(row.dataset.pos); render(); }
});

const params = new URLSearchParams(location.search);
for (const name of ["pool", "model", "into"]) $(name).value = params.get(name) || "";
if (!$("pool").value && params.get("dataset")) $("pool").value = params.get("dataset");
$("key").value = sessionStorage.getItem("sentiforge-key") || "";
if ($("pool").value && $("key").value) fetchMore(true).catch((e) => say(e.message));
