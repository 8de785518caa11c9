// A job's live progress: the workbench's copy of the API's event stream (/jobs/ID/stream,
// read with the session cookie). ``progress`` updates the numbers, ``job`` adds an event,
// ``end`` reloads the page once, which then shows the finished job and its buttons.
"use strict";
(() => {
  const box = document.getElementById("job");
  if (!box || box.dataset.live !== "true") return;
  const $ = (id) => document.getElementById(id);
  const set = (id, v) => { if ($(id)) $(id).textContent = v; };
  const source = new EventSource(`/jobs/${encodeURIComponent(box.dataset.job)}/stream`);
  source.addEventListener("progress", (m) => {
    const p = JSON.parse(m.data);
    set("done", p.done); set("target", p.target); set("rejected", p.rejected);
    set("percent", p.percent.toFixed(1)); set("cost", p.cost.toFixed(4)); set("requests", p.requests);
    set("cache-hits", p.cache_hits); set("prompt-tokens", p.prompt_tokens); set("completion-tokens", p.completion_tokens);
    $("bar").max = p.target || 1; $("bar").value = p.done;
    $("status").textContent = p.status; $("status").className = `status s-${p.status}`;
    if (p.error) { $("error").textContent = p.error; $("error").hidden = false; }
  });
  source.addEventListener("job", (m) => {
    const e = JSON.parse(m.data);
    if (document.querySelector(`#events li[data-event="${Number(e.id)}"]`)) return;
    const li = document.createElement("li"), when = document.createElement("time"), kind = document.createElement("b");
    li.dataset.event = String(Number(e.id));
    when.textContent = String(e.created_at).slice(11, 19);
    kind.textContent = e.kind;
    li.append(when, " ", kind);
    for (const [k, v] of Object.entries(e.data || {})) {
      const kv = document.createElement("span");
      kv.className = "kv";
      kv.textContent = `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`;
      li.append(" ", kv);
    }
    $("events").append(li);
  });
  source.addEventListener("end", () => { source.close(); set("live", "(finished)"); location.reload(); });
})();
