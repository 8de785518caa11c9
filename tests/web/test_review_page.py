"""The review page in a real browser (Playwright driving Debian's Chromium) against the real
app under Uvicorn: ten samples reviewed by keyboard, one undone, a filtered set bulk-rejected,
every stored decision checked. ``REVIEW_SCREENSHOT=PATH`` keeps a screenshot of the page."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentiforge.store import Store
from sentiforge.testing.review import build_queue

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (install.sh --system)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(base url, reviewer token, database url) of the app run by Uvicorn over a queued dataset."""
    db = f"sqlite:///{tmp_path / 'review.db'}"
    with Store(db) as store:
        build_queue(store, "rq", copies=2)
        token = store.create_key("alice", ["review"])[1]
    port = _free_port()
    env = {
        **os.environ,
        "SENTIFORGE_HOME": str(tmp_path),
        "SENTIFORGE_DATABASE_URL": db,
        "SENTIFORGE_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "sentiforge.api.main:create_app", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, token, db
    finally:
        proc.terminate()
        proc.wait(10)


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
    from playwright.sync_api import sync_playwright

    base, token, db = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
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
        del expected[undone]
        page.fill("#f-strategy", "seeded")
        page.click("#apply")
        page.wait_for_function("document.querySelectorAll('#list tbody tr').length > 0")
        cells = "[...document.querySelectorAll('#list tbody tr td:nth-child(5)')]"
        page.wait_for_function(cells + ".every(td => td.innerText === 'seeded')")
        bulk = [int(x) for x in page.locator("#list tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")]
        page.click("#select-all")
        page.click("#bulk-reject")
        page.wait_for_selector("#status:has-text('rejected')")
        browser.close()
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
