"""The review page in a real browser (Playwright driving Debian's Chromium) against the real
app under Uvicorn: ten samples reviewed by keyboard, one undone, a filtered set bulk-rejected,
every stored decision checked; a second reviewer's blind review and the kappa it shows.
``REVIEW_SCREENSHOT=PATH`` keeps screenshots of the page (PATH and PATH-second)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.web.conftest import CHROMIUM, uvicorn_app, watched_chromium

from sentiforge.store import Store
from sentiforge.testing.review_demo import build_queue

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (install.sh --system)")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(base url, reviewer token, database url) of the app run by Uvicorn over a queued dataset."""
    db = f"sqlite:///{tmp_path / 'review.db'}"
    with Store(db) as store:
        build_queue(store, "rq", copies=2)
        token = store.create_key("alice", ["review"])[1]
    with uvicorn_app(tmp_path, db) as base:
        yield base, token, db


def _current(page: Any) -> tuple[int, str]:
    row = page.locator("#list tr.current")
    return int(row.get_attribute("data-id")), row.locator("td").nth(3).inner_text()


def _decide(page: Any, key: str, expect: str) -> int:
    """Press ``key`` on the current item and wait until the list shows it decided as ``expect``."""
    item_id, _ = _current(page)
    page.keyboard.press(key)
    page.wait_for_selector(f"#list tr[data-id='{item_id}'] td.state-{expect}")
    return item_id


def _review_ten(page: Any) -> dict[int, tuple[str, str | None]]:
    """Ten decisions by keyboard: approve, reject, pick labels by digit, edit; with moves between."""
    expected: dict[int, tuple[str, str | None]] = {}
    labels = ["negative", "neutral", "positive"]
    for n in range(10):
        item_id, label = _current(page)
        if n in (0, 4, 8):
            expected[_decide(page, "a", "approved")] = ("approved", label)
        elif n in (1, 5):
            expected[_decide(page, "r", "rejected")] = ("rejected", label)
        elif n in (2, 6, 9):
            other = next(lb for lb in labels if lb != label)
            expected[_decide(page, str(labels.index(other) + 1), "relabelled")] = ("relabelled", other)
        elif n == 3:
            page.keyboard.press("k")
            page.keyboard.press("j")
            page.keyboard.press("e")
            page.fill("#edit-text", "An edited text, typed in the browser.")
            page.keyboard.press("Control+Enter")
            page.wait_for_selector(f"#list tr[data-id='{item_id}'] td.state-edited")
            expected[item_id] = ("edited", label)
        else:
            expected[_decide(page, label and str(labels.index(label) + 1), "approved")] = ("approved", label)
    return expected


@pytest.mark.browser
def test_review_by_keyboard_undo_and_bulk_reject(served: tuple[str, str, str], tmp_path: Path) -> None:
    base, token, db = served
    with watched_chromium() as browser:  # fails on any console error or CSP violation
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}/review?dataset=rq")
        page.fill("#key", token)
        page.click("#open")
        page.wait_for_selector("#list tr[data-pos='17']")
        page.keyboard.press("?")
        assert page.locator("#help").is_visible()
        page.keyboard.press("Escape")
        expected = _review_ten(page)
        assert page.locator("#detail").inner_text().count("Seed text") == 1
        shot = tmp_path / "review.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("REVIEW_SCREENSHOT"):
            shutil.copy(shot, os.environ["REVIEW_SCREENSHOT"])
        undone = list(expected)[-1]
        page.keyboard.press("u")
        page.wait_for_selector(f"#list tr[data-id='{undone}'] td.state-pending")
        page.wait_for_selector("body[data-queue='0']")
        del expected[undone]
        page.fill("#f-strategy", "seeded")
        page.click("#apply")
        page.wait_for_function("() => document.querySelectorAll('#list tbody tr').length > 0")
        cells = "[...document.querySelectorAll('#list tbody tr td:nth-child(5)')]"
        page.wait_for_function(f"() => {cells}.every(td => td.innerText === 'seeded')")
        bulk = [int(x) for x in page.locator("#list tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")]
        page.click("#select-all")
        page.click("#bulk-reject")
        assert page.locator("#confirm-text").inner_text().startswith(f"Reject {len(bulk)} items?")
        page.click("#confirm-yes")
        page.wait_for_selector("#status:has-text('rejected')")
        page.wait_for_selector("body[data-queue='0']")
    _check_store(db, expected, bulk, undone)


def _check_store(db: str, expected: dict[int, tuple[str, str | None]], bulk: list[int], undone: int) -> None:
    with Store(db) as store:
        items = {i.id: i for i in store.list_review_items(store.dataset_id("rq"), limit=1000)}
        assert len(expected) == 9 and bulk and not set(bulk) & set(expected)
        for item_id, (status, label) in expected.items():
            item = items[item_id]
            assert (item.status, item.decided_by) == (status, "alice") and item.decided_at is not None
            assert item.label == label
            if status == "edited":
                assert item.text == "An edited text, typed in the browser."
            assert store.get_sample(item.sample_id).status == ("rejected" if status == "rejected" else "accepted")
        for item_id in bulk:
            assert items[item_id].status == "rejected" and items[item_id].decided_by == "alice"
            assert store.get_sample(items[item_id].sample_id).reason == "review: rejected by alice"
        assert undone in bulk or items[undone].status == "pending"
        standing = store.review_decisions(store.dataset_id("rq"))
        assert len(standing) == len(expected) + len(bulk) and {r for _, r, _, _ in standing} == {"alice"}
        pending = [i for i in items.values() if i.status == "pending"]
        assert len(pending) == 18 - len(expected) - len(bulk)


def _first_reviews(base: str, token: str) -> dict[int, tuple[str, str | None]]:
    """Alice decides eight items over the API: approvals, relabels and rejects; their verdicts."""
    headers = {"X-API-Key": token}
    items = httpx.get(f"{base}/v1/review/rq/items", headers=headers, params={"limit": 8}).json()
    labels = ["negative", "neutral", "positive"]
    verdicts: dict[int, tuple[str, str | None]] = {}
    for n, it in enumerate(items):
        other = next(lb for lb in labels if lb != it["label"])
        body = [{"action": "approve"}, {"action": "relabel", "label": other}, {"action": "reject"}][n % 3]
        done = httpx.post(f"{base}/v1/review/items/{it['id']}/decision", headers=headers, json=body).json()
        verdicts[it["id"]] = ("rejected", None) if done["status"] == "rejected" else (done["status"], done["label"])
    return verdicts


def _second_reviews(page: Any, n: int) -> dict[int, str]:
    """Bob's blind opinions by keyboard: the queued label, a reject, another label; his verdicts."""
    labels = ["negative", "neutral", "positive"]
    mine: dict[int, str] = {}
    for i in range(n):
        item_id, queued = _current(page)
        decision = page.locator("#decision").inner_text()
        assert "hidden until you give yours" in decision and "alice" not in decision  # blind
        other = next(lb for lb in labels if lb != queued)
        if i % 3 == 0:
            key, mine[item_id] = str(labels.index(other) + 1), other  # relabel
        elif i % 3 == 1:
            key, mine[item_id] = str(labels.index(queued) + 1), queued  # the queued label: approve
        else:
            key, mine[item_id] = "r", "rejected"
        page.keyboard.press(key)
        row = f"#list tr[data-id='{item_id}']"
        page.wait_for_selector(f"{row} td.state-agree, {row} td.state-disagree")
        page.keyboard.press("k")  # back to it: the first decision is shown now
        assert "first:" in page.locator("#decision").inner_text() and "alice" in page.locator("#decision").inner_text()
        page.keyboard.press("j")
    return mine


@pytest.mark.browser
def test_a_second_reviewer_reviews_blind_and_the_page_shows_the_kappa(served: tuple[str, str, str]) -> None:
    """Alice decides eight items; Bob, in the page's second review, sees them as queued with her
    decisions hidden, gives his by keyboard, then sees hers; the header's kappa is the API's."""
    from sentiforge.quality.review_queue import cohen_kappa

    base, alice, db = served
    with Store(db) as store:
        bob = store.create_key("bob", ["review"])[1]
    first = _first_reviews(base, alice)
    with watched_chromium() as browser:  # fails on any console error or CSP violation
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}/review?dataset=rq")
        page.fill("#key", bob)
        page.check("#f-second")
        page.click("#open")
        page.wait_for_selector("#list tr[data-pos='7']")
        assert page.locator("#list tbody tr").count() == 8 and page.locator("td.state-blind").count() == 8
        assert page.locator("#kappa").inner_text() == "kappa: no double reviews yet"
        mine = _second_reviews(page, 8)
        page.wait_for_selector("#kappa:has-text('over 8 pairs')")
        shown = page.locator("#kappa").inner_text()
        if os.environ.get("REVIEW_SCREENSHOT"):  # beside the first one: NAME-second.png
            target = Path(os.environ["REVIEW_SCREENSHOT"])
            page.screenshot(path=str(target.with_name(f"{target.stem}-second{target.suffix}")), full_page=True)
        page.click("#apply")  # reopened: nothing is left for bob to second
        page.wait_for_selector("#detail:has-text('Nothing to review')")
    api = httpx.get(f"{base}/v1/review/rq", headers={"X-API-Key": bob}).json()["agreement"]
    pairs = [("rejected" if s == "rejected" else str(lb), mine[i]) for i, (s, lb) in first.items()]
    assert api == {"pairs": 8, "kappa": cohen_kappa(pairs)} and 0 < abs(api["kappa"]) < 1, (pairs, api)
    assert float(shown.split()[1]) == api["kappa"] and shown.endswith("over 8 pairs")
    with Store(db) as store:
        seconds = [d for d in store.review_decisions(store.dataset_id("rq")) if d[1] == "bob"]
        assert len(seconds) == 8
