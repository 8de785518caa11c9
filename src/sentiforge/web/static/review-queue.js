// The review page's queue of decisions, its leases and bulk decisions (review.js draws the page).
//
// Keys never wait for the server: a decision is shown at once (optimistic), queued, and sent in
// the order the keys were pressed, each for the item it was pressed on; the server's answer
// replaces the guess, and a refused one is put back and shown. The page leases the pending items
// ahead of the cursor (renewed while open, released when the page closes), so two reviewers on
// one dataset never get the same item.
"use strict";
const AHEAD = 12; // pending items leased ahead of the cursor
const STATUS = { approve: "approved", reject: "rejected", relabel: "relabelled", edit: "edited" };

// -- leases: the pending items ahead of the cursor are held for this reviewer ------------
const open = (it) => it && it.status === "pending" && !heldBy(it) && !it.sending;
const heldBy = (it) => { const l = state.leases.get(it.id); return l && l !== "mine" && l !== "asking" ? l : null; };

function nextOpen(from) {
  if (state.second) return Math.min(from, Math.max(state.items.length - 1, 0));
  for (let i = from; i < state.items.length; i++) if (open(state.items[i])) return i;
  return Math.min(from, Math.max(state.items.length - 1, 0));
}

async function lease() {
  if (state.second) return;
  const want = [];
  for (let i = state.pos; i < state.items.length && want.length < AHEAD; i++) {
    const it = state.items[i];
    if (it.status === "pending" && !state.leases.has(it.id)) want.push(it.id);
  }
  if (!want.length) return;
  want.forEach((id) => state.leases.set(id, "asking"));
  try {
    const out = await api("POST", "/v1/review/leases", { ids: want });
    out.granted.forEach((id) => state.leases.set(id, "mine"));
    for (const [id, who] of Object.entries(out.held)) state.leases.set(Number(id), who);
    out.decided.forEach((id) => state.leases.set(id, "someone else (decided it; reopen to see)"));
  } catch (e) {
    want.forEach((id) => state.leases.delete(id));
    say(`could not lease items: ${e.message}`, true);
  }
}

// a lease asked for is answered before a decision on its item is sent
function settled(id) {
  return new Promise((resolve) => {
    const check = () => (state.leases.get(id) === "asking" ? setTimeout(check, 10) : resolve());
    check();
  });
}

// the pending view tops itself up: with few open items left after the cursor, the next ones
// (not held by others) are added at the end, so a reviewer never has to reload
async function refill() {
  if (state.second || $("f-status").value !== "pending" || state.refilling) return;
  let left = 0;
  for (let i = state.pos; i < state.items.length; i++) if (open(state.items[i])) left++;
  if (left >= AHEAD) return;
  state.refilling = true;
  try {
    const q = itemsQuery();
    q.set("offset", "0");
    const data = await api("GET", `/v1/review/${encodeURIComponent(dataset())}/items?${q}`);
    const have = new Set(state.items.map((it) => it.id));
    state.items.push(...data.filter((it) => !have.has(it.id)));
  } finally {
    state.refilling = false;
  }
  if (!open(state.items[state.pos])) state.pos = nextOpen(state.pos);
  await lease();
  render();
}

function mine() {
  return [...state.leases].filter(([id, l]) => l === "mine" && state.items.some((it) => it.id === id && it.status === "pending"))
    .map(([id]) => id);
}

async function renew() {
  for (const [id, l] of state.leases) if (l !== "mine" && l !== "asking") state.leases.delete(id); // asked again: free by now?
  const ids = mine();
  if (ids.length) await api("POST", "/v1/review/leases", { ids }).catch((e) => say(e.message, true));
  await lease();
  render();
}

async function releaseAll() {
  const ids = mine();
  state.leases.clear();
  if (ids.length) await api("POST", "/v1/review/leases/release", { ids }).catch(() => null);
}

window.addEventListener("pagehide", () => {
  const ids = mine();
  if (!ids.length) return;
  // keepalive: the request outlives the page (sendBeacon cannot send the key header)
  fetch("/v1/review/leases/release", { method: "POST", keepalive: true,
    headers: { "X-API-Key": $("key").value, "Content-Type": "application/json" }, body: JSON.stringify({ ids }) });
});

// -- the queue: decisions sent in key order ------------------------------------------
function drained() {
  return new Promise((resolve) => {
    const check = () => (state.queue.length || state.busy ? setTimeout(check, 20) : resolve());
    check();
  });
}

function syncMark() {
  document.body.dataset.queue = String(state.queue.length + (state.busy ? 1 : 0)); // for tests and scripts
}

function enqueue(op) {
  state.queue.push(op);
  pump();
}

async function pump() {
  if (state.busy) return;
  state.busy = true;
  while (state.queue.length) {
    const op = state.queue.shift();
    try { op.ok(await op.run()); } catch (e) { op.fail(e); }
    render();
  }
  state.busy = false;
  syncMark();
  refreshSoon();
}

function count(status, step) {
  state.counts[status] = (state.counts[status] || 0) + step;
  if (!state.counts[status]) delete state.counts[status];
}

function why() {
  const out = { reason: $("reason").value || undefined, note: $("note").value.trim() || undefined };
  $("reason").value = "";
  $("note").value = "";
  return out;
}

function decide(body) {
  const it = state.items[state.pos];
  if (!it) return;
  if (state.second) { decideSecond(it, body); return; }
  if (it.status !== "pending" || it.sending) { say(`#${it.id} is ${it.status} already (u undoes)`, true); return; }
  if (heldBy(it)) { say(`#${it.id} is held by ${heldBy(it)}; take another one`, true); return; }
  const before = { ...it };
  const sent = { ...body, ...why() };
  Object.assign(it, { status: STATUS[body.action], sending: true, failed: null, reason: sent.reason, note: sent.note });
  if (body.action === "relabel") it.label = body.label;
  if (body.action === "edit") it.text = body.text;
  count("pending", -1); count(it.status, 1);
  const entry = { kind: "one", it };
  state.history.push(entry);
  enqueue({
    entry,
    run: async () => {
      await settled(it.id);
      if (heldBy(it)) throw new Error(`taken by ${heldBy(it)} before your key reached the server`);
      return api("POST", `/v1/review/items/${it.id}/decision`, sent);
    },
    ok: (done) => { Object.assign(it, done, { sending: false }); state.leases.delete(it.id); say(`#${it.id} ${done.status}`); },
    fail: (e) => {
      count(it.status, -1); count("pending", 1);
      Object.assign(it, before, { sending: false, failed: e.message });
      state.leases.delete(it.id); // asked again with the next lease
      state.history = state.history.filter((h) => h !== entry);
      say(`#${it.id} not saved, put back: ${e.message}`, true);
    },
  });
  move(1);
}

function decideSecond(it, body) {
  const SECOND = { approve: "approved", reject: "rejected", relabel: "relabelled" };
  if (it.mine) { say(`#${it.id}: your second opinion is recorded already`); return; }
  if (!SECOND[body.action]) { say("a second review approves, rejects or relabels (1–9, a, r)"); return; }
  const mine = { status: SECOND[body.action], label: body.label || null };
  it.mine = mine;
  enqueue({
    run: () => api("POST", `/v1/review/items/${it.id}/second`, mine),
    ok: () => say(`#${it.id} second opinion: ${mine.status}`),
    fail: (e) => { it.mine = null; say(`#${it.id} not saved: ${e.message}`, true); },
  });
  move(1);
}

function undo() {
  if (state.second) { say("a second opinion stays (it only counts for agreement)"); return; }
  const entry = state.history.pop();
  if (!entry) { say("nothing to undo"); return; }
  if (entry.kind === "bulk") { undoBulk(entry); return; }
  const it = entry.it;
  const waiting = state.queue.findIndex((op) => op.entry === entry);
  if (waiting >= 0) { // never sent: drop it
    state.queue.splice(waiting, 1);
    count(it.status, -1); count("pending", 1);
    Object.assign(it, { status: "pending", sending: false, label: it.queued_label, text: it.queued_text });
  } else {
    const prev = { ...it };
    count(it.status, -1); count("pending", 1);
    Object.assign(it, { status: "pending", sending: true });
    enqueue({
      run: () => api("POST", `/v1/review/items/${it.id}/undo`),
      ok: (done) => { Object.assign(it, done, { sending: false }); say(`#${it.id} undone`); },
      fail: (e) => { count("pending", -1); count(prev.status, 1); Object.assign(it, prev); say(`undo of #${it.id} failed: ${e.message}`, true); },
    });
  }
  state.pos = Math.max(0, state.items.indexOf(it));
  state.leases.delete(it.id);
  lease().then(render);
  render();
}

// -- bulk: confirmed, undone as one step ---------------------------------------------
function confirmDialog(text) {
  return new Promise((resolve) => {
    const dlg = $("confirm");
    $("confirm-text").textContent = text;
    const done = (v) => { dlg.close(); $("confirm-yes").onclick = $("confirm-no").onclick = null; resolve(v); };
    $("confirm-yes").onclick = () => done(true);
    $("confirm-no").onclick = () => done(false);
    dlg.oncancel = () => done(false);
    dlg.showModal();
    $("confirm-no").focus();
  });
}

async function bulk(action) {
  if (state.second) { say("bulk decisions are first reviews; a second review goes item by item"); return; }
  const ids = state.items.filter((it) => state.selected.has(it.id) && it.status === "pending").map((it) => it.id);
  if (!ids.length) { say("select pending items first (x, or Select all)"); return; }
  const verb = action === "approve" ? "Approve" : "Reject";
  const reason = $("reason").value;
  if (!(await confirmDialog(`${verb} ${ids.length} items${reason ? ` (reason: ${reason})` : ""}? One undo takes them all back.`))) {
    say("bulk cancelled"); return;
  }
  const out = await api("POST", "/v1/review/bulk", { ids, action, ...why() });
  const failed = Object.keys(out.failed).length;
  state.history.push({ kind: "bulk", bulkId: out.bulk_id, n: out.decided.length });
  say(`${out.decided.length} ${action === "approve" ? "approved" : "rejected"}, ${failed} failed (u or Undo bulk takes them back)`);
  await openQueue();
  $("undo-bulk").hidden = false;
  $("undo-bulk").textContent = `Undo bulk (${out.decided.length})`;
}

async function undoBulk(entry) {
  const out = await api("POST", `/v1/review/bulk/${entry.bulkId}/undo`).catch((e) => { say(e.message, true); return null; });
  if (!out) return;
  say(`bulk undone: ${out.undone.length} items pending again`);
  if (!state.history.some((h) => h.kind === "bulk")) $("undo-bulk").hidden = true;
  await openQueue();
}

