"""The label-these-next page in a real browser (Playwright driving Debian's Chromium) against the
real app under Uvicorn: the queue of a pool for a model, keys typed fast (digits and letters)
each labelling the text shown when pressed, every stored label checked in the store.
``LABEL_SCREENSHOT=PATH`` keeps a screenshot of the page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.web.conftest import CHROMIUM, uvicorn_app, watched_chromium

from sentiforge.store import Store
from sentiforge.testing.label_pool import build_label_pool

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (install.sh --system)")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(base url, reviewer token, database url) of the app over a pool and a model trained on seeds."""
    db = f"sqlite:///{tmp_path / 'label.db'}"
    with Store(db) as store:
        build_label_pool(store, tmp_path / "classifiers")  # the app's models folder: SENTIFORGE_HOME/classifiers
        token = store.create_key("alice", ["review"])[1]
    with uvicorn_app(tmp_path, db) as base:
        yield base, token, db


@pytest.mark.browser
def test_labels_typed_fast_are_stored_in_order_for_the_texts_they_were_pressed_on(
    served: tuple[str, str, str], tmp_path: Path
) -> None:
    base, token, db = served
    keys = ["1", "p", "2", "e", "n", "3", "j", "p"]  # j skips a text; letters and digits mixed
    labels = {"1": "negative", "n": "negative", "2": "neutral", "e": "neutral", "3": "positive", "p": "positive"}
    with watched_chromium() as browser:  # fails on any console error or CSP violation
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}/label?pool=lp-pool&model=lp-model")
        page.fill("#key", token)
        page.click("#open")
        page.wait_for_selector("#queue tr[data-pos='19']")
        hints = page.locator("#label-keys").inner_text()
        assert page.locator("#scored-by").inner_text().startswith("Queue scored by model 'lp-model'")
        assert "1 n negative" in hints and "2 e neutral" in hints and "3 p positive" in hints
        order = [int(x) for x in page.locator("#queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")]
        for key in keys:
            page.keyboard.press(key, delay=0)  # no wait for the server between keys
        page.wait_for_function("() => document.querySelectorAll('#queue .stored').length === 7", timeout=20_000)
        assert page.locator("#counts").inner_text().startswith("7 labelled in lp-pool-human")
        assert page.locator("#queue .failed").count() == 0
        shot = tmp_path / "label.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("LABEL_SCREENSHOT"):
            shutil.copy(shot, os.environ["LABEL_SCREENSHOT"])
    # every key moves one text on: the n-th key labels (or, for j, skips) the n-th text of the queue
    expected = {row: labels[key] for key, row in zip(keys, order, strict=False) if key != "j"}
    with Store(db) as store:
        human = [s for s in store.samples(store.dataset_id("lp-pool-human")) if s.provenance.strategy == "human"]
    assert {s.provenance.params["pool_id"]: s.label for s in human} == expected
    assert [s.provenance.params["pool_id"] for s in human] == list(expected)  # stored in the order typed
    assert {s.provenance.params["reviewer"] for s in human} == {"alice"}
