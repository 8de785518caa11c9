"""A scripted reviewer for the review page: it reads the item under the cursor, as a person
does, and presses the key a fixed rule gives for that item's text, at a set pace. Every stored
decision can then be checked against the rule: a key lost, or applied to another item, shows
up as a decision that does not match its item's text (or as no decision at all).

Used by the browser tests (tests/web/) and by benchmarks/review; drives a Playwright page
(imported by the caller: this module needs nothing beyond the standard library).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

KEYS = ("a", "r", "1", "2", "3")
LABELS = ("negative", "neutral", "positive")  # the demo queue's scheme, in digit order

# the item under the cursor, if a reviewer may decide it now (pending, not held, not saving)
CURRENT = """() => {
  const row = document.querySelector('#list tr.current');
  if (!row) return null;
  const st = row.querySelector('td:nth-child(6)');
  return { id: Number(row.dataset.id), text: row.querySelector('td.text').textContent,
           open: st.classList.contains('state-pending') && !st.textContent.endsWith('…') };
}"""


def rule(text: str) -> str:
    """The key the scripted reviewer presses for ``text``: one of :data:`KEYS`, fixed per text."""
    return KEYS[int(hashlib.sha1(text.encode()).hexdigest(), 16) % len(KEYS)]


def expected(key: str, label: str | None) -> tuple[str, str | None]:
    """(status, label) a key leaves on a pending item labelled ``label``."""
    if key == "a":
        return "approved", label
    if key == "r":
        return "rejected", label
    chosen = LABELS[int(key) - 1]
    return ("approved", label) if chosen == label else ("relabelled", chosen)


@dataclass
class Reviewer:
    """One reviewer's page and what it pressed: item id -> (key, seconds since the start)."""

    page: Any
    name: str
    pressed: dict[int, tuple[str, float]] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)  # HTTP statuses of its decisions
    start: float = field(default_factory=time.monotonic)

    def watch(self) -> None:
        """Record the status of every decision the page sends (a 409 is a collision)."""
        self.page.on("response", lambda r: self.statuses.append(r.status) if r.url.endswith("/decision") else None)

    def step(self) -> bool:
        """Press the rule's key for the item under the cursor, if it is open; whether it did."""
        cur = self.page.evaluate(CURRENT)
        if not cur or not cur["open"] or cur["id"] in self.pressed:
            return False
        key = rule(cur["text"])
        self.page.keyboard.press(key)
        self.pressed[cur["id"]] = (key, time.monotonic() - self.start)
        return True

    def drained(self) -> bool:
        return bool(self.page.evaluate("document.body.dataset.queue === '0'"))


def run(reviewers: list[Reviewer], n: int, pace: float, idle: float = 10.0) -> float:
    """Step the reviewers in turn, one key each per ``pace`` seconds, until ``n`` keys were
    pressed in all or none could press for ``idle`` seconds; the seconds it took."""
    start = last = time.monotonic()
    slot = start
    while sum(len(r.pressed) for r in reviewers) < n and time.monotonic() - last < idle:
        for r in reviewers:
            if sum(len(x.pressed) for x in reviewers) >= n:
                break
            if r.step():
                last = time.monotonic()
        slot += pace
        time.sleep(max(0.0, slot - time.monotonic()))
    for r in reviewers:
        r.page.wait_for_function("() => document.body.dataset.queue === '0'", timeout=60_000)
    return time.monotonic() - start


def check(store: Any, dataset: str, reviewers: list[Reviewer]) -> list[str]:
    """Every key pressed left exactly the decision the rule gives, by the one who pressed it,
    and nothing else was decided; the problems found (none when all is well)."""
    items = {i.id: i for i in store.list_review_items(store.dataset_id(dataset), limit=100_000)}
    by_item = {i: (r.name, key) for r in reviewers for i, (key, _) in r.pressed.items()}
    problems = []
    for item_id, (who, key) in by_item.items():
        item = items[item_id]
        want = expected(key, item.queued_label)
        if (item.status, item.label, item.decided_by) != (*want, who):
            problems.append(
                f"#{item_id}: {who} pressed {key!r}, stored {item.status} {item.label} by {item.decided_by}"
            )
    stray = [i for i in items.values() if i.status != "pending" and i.id not in by_item]
    problems += [f"#{i.id}: {i.status} by {i.decided_by}, but no key was pressed on it" for i in stray]
    per_sample: dict[int, int] = {}
    for sample_id, _, _, _ in store.review_decisions(store.dataset_id(dataset)):
        per_sample[sample_id] = per_sample.get(sample_id, 0) + 1
    problems += [f"sample {s}: {n} standing decisions" for s, n in per_sample.items() if n != 1]
    if len(by_item) != sum(len(r.pressed) for r in reviewers):
        problems.append("one item got keys from two reviewers")
    return problems
