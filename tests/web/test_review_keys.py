"""The review page keeps up with a fast reviewer, in a real browser (Playwright driving
Debian's Chromium) against the real app under Uvicorn: ten keys typed in 300 ms land on ten
items in order; a scripted reviewer decides 60 items by keyboard; two reviewers share 200
items without a collision; a decision the server refuses is put back and shown. Every
stored decision is checked (item, decision, reviewer)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import CHROMIUM, uvicorn_app, watched_chromium

from sentiforge.store import Store
from sentiforge.testing import scripted_reviewer as scripted
from sentiforge.testing.review_demo import build_queue

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (install.sh --system)"),
    pytest.mark.browser,
]
SHOTS = Path(__file__).resolve().parents[2] / "benchmarks" / "review" / "screenshots"


def serve(tmp_path: Path, copies: int, items: int | None = None, **env: str) -> Any:
    db = f"sqlite:///{tmp_path / 'review.db'}"
    with Store(db) as store:
        build_queue(store, "rq", copies=copies, items=items)
        alice = store.create_key("alice", ["review"])[1]
        bob = store.create_key("bob", ["review"])[1]
    return db, {"alice": alice, "bob": bob}, uvicorn_app(tmp_path, db, env)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium; the test fails on any console error or CSP violation of its pages."""
    with watched_chromium() as b:
        yield b


def open_page(browser: Any, base: str, token: str, query: str = "dataset=rq") -> Any:
    """A reviewer's page in a context of its own, opened on ``query`` and ready for keys."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    page.goto(f"{base}/review?{query}")
    page.fill("#key", token)
    page.click("#open")
    page.wait_for_selector("#list tr.current td.state-pending")
    return page


def listed(page: Any) -> list[int]:
    return [int(x) for x in page.locator("#list tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")]


def test_ten_keys_in_300_ms_land_on_ten_items_in_order(browser: Any, tmp_path: Path) -> None:
    db, keys, app = serve(tmp_path, copies=2)
    with app as base:
        page = open_page(browser, base, keys["alice"])
        order = listed(page)[:10]
        typed = "ar1a23ra2r"
        start = time.monotonic()
        page.keyboard.type(typed, delay=30)  # 10 keys, 30 ms apart
        typing = time.monotonic() - start
        page.wait_for_function("() => document.body.dataset.queue === '0'")
        page.wait_for_selector("#counts:has-text('pending 8')")
        assert page.locator("#progress").inner_text() == "10 of 18 decided"
    with Store(db) as store:
        for item_id, key in zip(order, typed, strict=True):
            item = store.review_item(item_id)
            assert (item.status, item.label, item.decided_by) == (*scripted.expected(key, item.queued_label), "alice")
        assert sum(i.status == "pending" for i in store.list_review_items(store.dataset_id("rq"))) == 8
        assert len(store.review_decisions(store.dataset_id("rq"))) == 10
    print(f"typed 10 keys in {typing * 1000:.0f} ms")


def test_a_refused_decision_is_put_back_and_shown(browser: Any, tmp_path: Path) -> None:
    """The server refuses the second item (409) and fails the fourth (500): both are put back
    to pending and marked; the keys after them still land on their own items."""
    db, keys, app = serve(tmp_path, copies=2)
    browser.allow += ["status of 409 (Conflict)", "status of 500 (Internal Server Error)"]  # the two refused here
    with app as base:
        page = open_page(browser, base, keys["alice"])
        order = listed(page)[:5]
        answers = {
            order[1]: (409, "review item is leased to bob until 12:00:00 UTC"),
            order[3]: (500, "internal error"),
        }

        def refuse(route: Any) -> None:
            item_id = int(route.request.url.split("/")[-2])
            if item_id in answers:
                code, detail = answers[item_id]
                route.fulfill(status=code, json={"detail": detail, "error": "X"})
            else:
                route.continue_()

        page.route("**/v1/review/items/*/decision", refuse)
        page.keyboard.type("aaaaa", delay=40)
        page.wait_for_function("() => document.body.dataset.queue === '0'")
        for item_id in (order[1], order[3]):
            cell = page.locator(f"#list tr[data-id='{item_id}'] td:nth-child(6)")
            assert cell.inner_text() == "pending" and "failed" in (cell.get_attribute("class") or "")
        failures = page.locator("#failures li").all_inner_texts()
        assert failures == [
            f"#{order[3]} not saved, put back: internal error",
            f"#{order[1]} not saved, put back: {answers[order[1]][1]}",
        ]
        page.click(f"#list tr[data-id='{order[1]}']")
        assert "leased to bob" in page.locator("#decision").inner_text()
        page.wait_for_selector("#counts:has-text('pending 15')")
    with Store(db) as store:
        statuses = [store.review_item(i).status for i in order]
        assert statuses == ["approved", "pending", "approved", "pending", "approved"]


def test_a_scripted_reviewer_decides_60_items_by_keyboard(browser: Any, tmp_path: Path) -> None:
    """Faster than the 20 a minute target (4 a second here: the benchmark runs at a person's
    pace); every stored decision is the one its key gives, none lost, none misapplied."""
    db, keys, app = serve(tmp_path, copies=7, items=60)
    with app as base:
        alice = scripted.Reviewer(open_page(browser, base, keys["alice"]), "alice")
        alice.watch()
        took = scripted.run([alice], n=60, pace=0.25)
        alice.page.wait_for_selector("#counts:has-text('pending')", state="detached", timeout=5_000)
        assert alice.page.locator("#progress").inner_text() == "60 of 60 decided"
    assert len(alice.pressed) == 60 and set(alice.statuses) == {200}
    with Store(db) as store:
        assert scripted.check(store, "rq", [alice]) == []
    assert 60 / took * 60 >= 20


def test_two_reviewers_share_200_items_without_a_collision(browser: Any, tmp_path: Path) -> None:
    db, keys, app = serve(tmp_path, copies=23, items=200)
    with app as base:
        team = [scripted.Reviewer(open_page(browser, base, keys[n]), n) for n in ("alice", "bob")]
        for r in team:
            r.watch()
        scripted.run(team, n=200, pace=0.1)
        shot = SHOTS / "review-two-reviewers.png"
        team[1].page.screenshot(path=str(shot))
    assert sum(len(r.pressed) for r in team) == 200 and all(len(r.pressed) > 40 for r in team)
    assert [s for r in team for s in r.statuses if s != 200] == []  # no 409 seen by either
    with Store(db) as store:
        assert scripted.check(store, "rq", team) == []
        assert {i.status for i in store.list_review_items(store.dataset_id("rq"), limit=1000)} != {"pending"}
        assert not [i for i in store.list_review_items(store.dataset_id("rq"), limit=1000) if i.status == "pending"]
