"""The review and label pages inside the workbench, in a real browser under the workbench's
Content-Security-Policy: a reviewer logs in through the login form, opens the review page
from the nav and decides an item by keyboard without typing the key again (the login leaves
it in the tab's sessionStorage), then reaches Label next from the nav with the dataset kept.
Any console error or CSP violation fails the test. ``WORKBENCH_SCREENSHOTS=DIR`` keeps
screenshots of both pages there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.web.conftest import CHROMIUM, uvicorn_app, watched_chromium

from sentiforge.store import Store
from sentiforge.testing.review_demo import build_queue

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (install.sh --system)"),
    pytest.mark.browser,
]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    db = f"sqlite:///{tmp_path / 'queues.db'}"
    with Store(db) as store:
        build_queue(store, "rq", copies=2)
        token = store.create_key("carol", ["read", "review"])[1]
    with uvicorn_app(tmp_path, db) as base:
        yield base, token, db


def test_review_then_label_next_through_the_nav_after_one_login(served: tuple[str, str, str]) -> None:
    base, token, db = served
    shots = os.environ.get("WORKBENCH_SCREENSHOTS")
    with watched_chromium() as browser:
        browser.allow.append("/v1/label-queue?")  # rq is no pool with a model: the label page says so
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}/datasets/rq")
        page.wait_for_url("**/login?next=*")
        page.fill("#key", token)
        page.click("#login button[type=submit]")
        page.wait_for_url(f"{base}/datasets/rq")
        assert page.get_attribute("[data-nav=review]", "href") == "/review?dataset=rq"
        page.click("[data-nav=review]")
        page.wait_for_url(f"{base}/review?dataset=rq")
        page.wait_for_selector("body[data-ready='1']")  # opened with the login's key: none typed
        assert page.input_value("#key") == token and page.input_value("#dataset") == "rq"
        assert "signed in as carol" in page.locator("header.top .who").inner_text()
        assert page.locator("header.top [aria-current=page]").inner_text() == "Review"
        item = int(page.locator("#list tr.current").get_attribute("data-id"))
        page.keyboard.press("a")
        page.wait_for_selector(f"#list tr[data-id='{item}'] td.state-approved")
        page.wait_for_selector("body[data-queue='0']")
        if shots:
            page.screenshot(path=str(Path(shots) / "review.png"), full_page=True)
        assert page.get_attribute("[data-nav=label]", "href") == "/label?dataset=rq"
        page.click("[data-nav=label]")
        page.wait_for_url(f"{base}/label?dataset=rq")
        assert page.input_value("#pool") == "rq" and page.input_value("#key") == token
        assert page.locator("header.top [aria-current=page]").inner_text() == "Label next"
        assert page.get_attribute("[data-nav=drift]", "href") == "/drift?dataset=rq"
        page.wait_for_selector("#status:not(:empty)")  # the API's answer for a pool without a model
        if shots:
            page.screenshot(path=str(Path(shots) / "label.png"), full_page=True)
        page.click("#logout button")
        page.wait_for_url(f"{base}/login")
        page.goto(f"{base}/review?dataset=rq")  # logged out: the page still works with a typed key
        assert page.input_value("#key") == "" and page.locator("header.top .who").count() == 0
        page.fill("#key", token)
        page.click("#open")
        page.wait_for_selector("body[data-ready='1']")
    with Store(db) as store:
        decided = store.review_item(item)
    assert (decided.status, decided.decided_by) == ("approved", "carol")
    assert httpx.get(f"{base}/review?dataset=rq").headers["content-security-policy"].startswith("default-src 'self'")
