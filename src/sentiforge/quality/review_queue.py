"""The human review queue: samples the gate was unsure of (low score) plus a random audit
share, each decided by a named person: approve, reject, relabel or edit.

Every decision records who and when, and the old and new value, and is applied to the
sample in the same transaction: a rejected sample turns ``rejected`` with the reason
``review: rejected by WHO``, a relabel changes its label (validated against the dataset's
scheme), an edit its text. A decided item cannot be decided again (make a new edit instead).

A decision may carry a note (free text) and a reason from a short list per scheme (the
scheme's ``review_reasons``, else :data:`DEFAULT_REASONS`); ``other`` needs a note. Bulk
decisions share one id and are undone as one step. A reviewer leases the items they are about
to decide for :data:`LEASE_SECONDS` (the service's ``review_lease_seconds``), so two reviewers
never get the same item; the lease ends on the decision, on release (the page closes) or in time.
"""

from __future__ import annotations

import builtins
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from sentiforge.errors import ConfigError, SentiforgeError
from sentiforge.store import Store
from sentiforge.store.schemas import ReviewDecision, ReviewFilter, ReviewItemPublic, ReviewLeases
from sentiforge.store.tables import utcnow

STATUSES = ("pending", "approved", "rejected", "relabelled", "edited")
DEFAULT_REASONS = ("wrong label", "not the domain", "agent voice", "unnatural", "duplicate", "other")
NEEDS_NOTE = "other"  # a reason that says nothing by itself
MAX_NOTE = 2_000
LEASE_SECONDS = 300.0


class BulkResult(BaseModel):
    """What a bulk decision did: its id (to undo it), the items decided, and why others failed."""

    bulk_id: str
    decided: list[int]
    failed: dict[int, str]


class Totals(BaseModel):
    """Decisions of the day (UTC) that stand: the caller's, everyone's, and per reviewer."""

    since: datetime
    mine: int
    everyone: int
    by_reviewer: dict[str, int]


class ReviewQueue:
    def __init__(self, store: Store) -> None:
        self.store = store

    def next(self, dataset: str, n: int = 1) -> list[ReviewItemPublic]:
        """The pending items most in need of a look: lowest score first, then oldest."""
        return self.store.next_review_items(self.store.dataset_id(dataset), n)

    def filter(self, dataset: str, f: ReviewFilter) -> list[ReviewItemPublic]:
        if f.status is not None and f.status not in STATUSES:
            raise ConfigError(f"unknown review status {f.status!r}; choose one of {list(STATUSES)}")
        return self.store.filter_review_items(self.store.dataset_id(dataset), f)

    def list(self, dataset: str, *, status: str | None = None, limit: int = 100) -> list[ReviewItemPublic]:
        if status is not None and status not in STATUSES:
            raise ConfigError(f"unknown review status {status!r}; choose one of {list(STATUSES)}")
        return self.store.list_review_items(self.store.dataset_id(dataset), status=status, limit=limit)

    def counts(self, dataset: str) -> dict[str, int]:
        return self.store.review_counts(self.store.dataset_id(dataset))

    def get(self, item_id: int) -> ReviewItemPublic:
        return self.store.review_item(item_id)

    def page(self, dataset: str, f: ReviewFilter) -> tuple[builtins.list[ReviewItemPublic], int]:
        """One page of ``f`` and how many items ``f`` matches over all pages."""
        dataset_id = self.store.dataset_id(dataset)
        items = self.filter(dataset, f)
        return items, self.store.count_review_items(dataset_id, f)

    def reasons(self, dataset: str | int) -> builtins.list[str]:
        """The reasons a reviewer picks from for this dataset's scheme."""
        return list(self.store.scheme(dataset).review_reasons or DEFAULT_REASONS)

    def totals(self, dataset: str, me: str) -> Totals:
        since = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        per = self.store.review_totals(self.store.dataset_id(dataset), since)
        return Totals(since=since, mine=per.get(me, 0), everyone=sum(per.values()), by_reviewer=per)

    # -- decisions ------------------------------------------------------------------
    # ``reason``: one of :meth:`reasons`; ``bulk_id``: set by :meth:`bulk` on each of its decisions
    def approve(
        self, item_id: int, *, by: str, note: str | None = None, reason: str | None = None, bulk_id: str | None = None
    ) -> ReviewItemPublic:
        decision = ReviewDecision(status="approved", by=_who(by), note=note, reason=reason, bulk_id=bulk_id)
        return self._decide(item_id, decision)

    def reject(
        self, item_id: int, *, by: str, note: str | None = None, reason: str | None = None, bulk_id: str | None = None
    ) -> ReviewItemPublic:
        who = _who(by)
        text = f"review: rejected by {who}" + (f": {reason}" if reason else "") + (f" ({note})" if note else "")
        decision = ReviewDecision(
            status="rejected",
            by=who,
            note=note,
            reason=reason,
            bulk_id=bulk_id,
            sample={"status": "rejected", "reason": text},
        )
        return self._decide(item_id, decision)

    def relabel(
        self, item_id: int, label: str, *, by: str, note: str | None = None, reason: str | None = None
    ) -> ReviewItemPublic:
        who = _who(by)
        item = self.get(item_id)
        new = self.store.scheme(item.dataset_id).normalize(label)  # LabelError names the valid labels
        decision = ReviewDecision(
            status="relabelled",
            by=who,
            note=note,
            reason=reason,
            sample={"label": new},
            old_label=item.label,
            new_label=new,
        )
        return self._decide(item_id, decision, item.dataset_id)

    def edit(
        self, item_id: int, text: str, *, by: str, note: str | None = None, reason: str | None = None
    ) -> ReviewItemPublic:
        if not text.strip():
            raise ConfigError("an edit needs a non-empty text")
        who = _who(by)
        item = self.get(item_id)
        decision = ReviewDecision(
            status="edited", by=who, note=note, reason=reason, sample={"text": text}, old_text=item.text, new_text=text
        )
        return self._decide(item_id, decision, item.dataset_id)

    def _decide(self, item_id: int, decision: ReviewDecision, dataset_id: int | None = None) -> ReviewItemPublic:
        """Check the note and the reason (one of the item's scheme), then record the decision."""
        if decision.note is not None and len(decision.note) > MAX_NOTE:
            raise ConfigError(f"a review note holds at most {MAX_NOTE} characters (got {len(decision.note)})")
        if decision.reason is not None:
            known = self.reasons(dataset_id if dataset_id is not None else self.get(item_id).dataset_id)
            if decision.reason not in known:
                raise ConfigError(f"unknown review reason {decision.reason!r}; choose one of {known}")
            if decision.reason == NEEDS_NOTE and not (decision.note or "").strip():
                raise ConfigError(f"the reason {NEEDS_NOTE!r} needs a note saying what is wrong")
        return self.store.decide_review_item(item_id, decision)

    def bulk(
        self, ids: builtins.list[int], action: str, *, by: str, note: str | None = None, reason: str | None = None
    ) -> BulkResult:
        """Approve or reject many items under one bulk id; each is decided on its own (one decided
        or leased by someone else meanwhile fails alone), and :meth:`undo_bulk` takes all back."""
        if action not in ("approve", "reject"):
            raise ConfigError(f"a bulk decision approves or rejects, not {action!r}")
        decide = self.approve if action == "approve" else self.reject
        out = BulkResult(bulk_id=uuid.uuid4().hex, decided=[], failed={})
        for item_id in ids:
            try:
                decide(item_id, by=by, note=note, reason=reason, bulk_id=out.bulk_id)
                out.decided.append(item_id)
            except SentiforgeError as exc:
                out.failed[item_id] = str(exc)
        return out

    def undo(self, item_id: int, *, by: str) -> ReviewItemPublic:
        """Take back one's own decision: the sample as before, the item pending again."""
        return self.store.undo_review_item(item_id, _who(by))

    def undo_bulk(self, bulk_id: str, *, by: str) -> builtins.list[int]:
        """Take back every decision of one's own bulk, as one step; the items undone."""
        return self.store.undo_review_bulk(bulk_id, _who(by))

    # -- leases ---------------------------------------------------------------------
    def lease(self, ids: builtins.list[int], *, by: str, seconds: float = LEASE_SECONDS) -> ReviewLeases:
        """Hold ``ids`` for ``by`` (renewing their own leases): the ones granted, held, decided."""
        if not 1 <= seconds <= 3600:
            raise ConfigError(f"a review lease lasts 1 to 3600 seconds, not {seconds}")
        return self.store.lease_review_items(ids, _who(by), seconds)

    def release(self, ids: builtins.list[int], *, by: str) -> int:
        return self.store.release_review_items(ids, _who(by))

    def lease_next(
        self, dataset: str, n: int, *, by: str, f: ReviewFilter | None = None, seconds: float = LEASE_SECONDS
    ) -> builtins.list[ReviewItemPublic]:
        """The next ``n`` pending items of ``f`` nobody else holds, leased to ``by``: those another
        reviewer took between our read and our claim are skipped, and more are read."""
        who = _who(by)
        f = (f or ReviewFilter()).model_copy(update={"status": "pending", "skip_leased_for": who, "offset": 0})
        got: dict[int, ReviewItemPublic] = {}
        for _ in range(5):  # another reviewer may win some of what we read: read again
            seen = self.filter(dataset, f.model_copy(update={"limit": n + len(got)}))
            fresh = [i for i in seen if i.id not in got][: n - len(got)]
            if not fresh:
                break
            granted = set(self.lease([i.id for i in fresh], by=who, seconds=seconds).granted)
            got |= {i.id: self.get(i.id) for i in fresh if i.id in granted}
            if len(got) >= n:
                break
        return list(got.values())

    def second(self, item_id: int, status: str, *, by: str, label: str | None = None) -> None:
        """A second reviewer's verdict on a decided item, kept for agreement only."""
        item = self.get(item_id)
        if status not in STATUSES[1:]:
            raise ConfigError(f"unknown decision {status!r}; choose one of {list(STATUSES[1:])}")
        # no label: the one the item was queued with (a first relabel does not speak for the second)
        final = self.store.scheme(item.dataset_id).normalize(label) if label else item.queued_label
        self.store.second_review(item_id, _who(by), status, final)

    def agreement(self, dataset: str) -> dict[str, Any]:
        """Cohen's kappa between the first two reviewers of every sample two people decided."""
        return agreement(self.store.review_decisions(self.store.dataset_id(dataset)))


def agreement(decisions: list[tuple[int, str, str, str | None]]) -> dict[str, Any]:
    """Kappa over verdicts ("rejected" or the label a sample is left with) of reviewer pairs."""
    first: dict[int, tuple[str, str]] = {}
    pairs: list[tuple[str, str]] = []
    for sample, who, status, label in decisions:
        verdict = "rejected" if status == "rejected" else str(label)
        if sample not in first:
            first[sample] = (who, verdict)
        elif first[sample][0] != who and first[sample][0] != "":
            pairs.append((first[sample][1], verdict))
            first[sample] = ("", "")  # one pair per sample
    return {"pairs": len(pairs), "kappa": cohen_kappa(pairs)}


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    left, right = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(left[k] * right[k] for k in left) / (n * n)
    if expected >= 1.0:
        return 1.0
    return round((observed - expected) / (1.0 - expected), 4)


def _who(by: str) -> str:
    if not by or not by.strip():
        raise ConfigError("a review decision needs the reviewer's name (--by WHO)")
    return by.strip()
