"""The human review queue: samples the gate was unsure of (low score) plus a random audit
share, each decided by a named person: approve, reject, relabel or edit.

Every decision records who and when, and the old and new value, and is applied to the
sample in the same transaction: a rejected sample turns ``rejected`` with the reason
``review: rejected by WHO``, a relabel changes its label (validated against the dataset's
scheme), an edit its text. A decided item cannot be decided again (make a new edit instead).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sentiforge.errors import ConfigError
from sentiforge.store import Store
from sentiforge.store.schemas import ReviewDecision, ReviewFilter, ReviewItemPublic

STATUSES = ("pending", "approved", "rejected", "relabelled", "edited")


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

    # -- decisions ------------------------------------------------------------------
    def approve(self, item_id: int, *, by: str, note: str | None = None) -> ReviewItemPublic:
        return self.store.decide_review_item(item_id, ReviewDecision(status="approved", by=_who(by), note=note))

    def reject(self, item_id: int, *, by: str, note: str | None = None) -> ReviewItemPublic:
        who = _who(by)
        reason = f"review: rejected by {who}" + (f" ({note})" if note else "")
        decision = ReviewDecision(status="rejected", by=who, note=note, sample={"status": "rejected", "reason": reason})
        return self.store.decide_review_item(item_id, decision)

    def relabel(self, item_id: int, label: str, *, by: str, note: str | None = None) -> ReviewItemPublic:
        who = _who(by)
        item = self.get(item_id)
        new = self.store.scheme(item.dataset_id).normalize(label)  # LabelError names the valid labels
        decision = ReviewDecision(
            status="relabelled", by=who, note=note, sample={"label": new}, old_label=item.label, new_label=new
        )
        return self.store.decide_review_item(item_id, decision)

    def edit(self, item_id: int, text: str, *, by: str, note: str | None = None) -> ReviewItemPublic:
        if not text.strip():
            raise ConfigError("an edit needs a non-empty text")
        who = _who(by)
        item = self.get(item_id)
        decision = ReviewDecision(
            status="edited", by=who, note=note, sample={"text": text}, old_text=item.text, new_text=text
        )
        return self.store.decide_review_item(item_id, decision)

    def undo(self, item_id: int, *, by: str) -> ReviewItemPublic:
        """Take back one's own decision: the sample as before, the item pending again."""
        return self.store.undo_review_item(item_id, _who(by))

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
