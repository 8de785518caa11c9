"""The review page's views and tools in a real browser against the real app: search, sort and
filters reproduced from a link; pages; bulk decisions confirmed (the dialog states the count)
and undone as one step; a reason and a note stored with the decision; a lease that runs out
lets another reviewer take the item, and closing the page releases its leases; live counts;
labels, focus order and AA contrast of every text on the page. Screenshots go to
benchmarks/review/screenshots/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from tests.web.test_review_keys import SHOTS, browser, listed, open_page, serve

from sentiforge.store import Store

pytestmark = [
    pytest.mark.skipif(not SHOTS.parent.exists(), reason="benchmarks/review is missing"),
    pytest.mark.browser,
]
__all__ = ["browser"]

# the contrast of every element that draws text, against the first opaque background behind it
CONTRAST = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bg = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0.99) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    if (['OPTION', 'SCRIPT', 'STYLE'].includes(el.tagName)) continue;
    const a = lum(rgb(getComputedStyle(el).color).slice(0, 3)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const what = `${el.tagName}#${el.id}.${el.className} "${el.textContent.trim().slice(0, 30)}"`;
    if (ratio < 4.5) low.push(`${what} ${ratio.toFixed(2)}`);
  }
  return low;
}"""


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    rgb = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_every_text_colour_of_the_keyboard_pages_meets_aa() -> None:
    """Every ``color`` of review.css, label.css and workbench.css's part for these pages (its
    variables resolved) against the background it is drawn on: its own rule's background, else
    every light background of those stylesheets and the workbench's paper and card (a list cell
    may sit on white, the current row's yellow, a grey pane...). The header's colours are
    workbench.css's, checked by test_workbench_auth.py::test_colour_pairs_meet_aa."""
    import re

    from sentiforge.web import STATIC

    shared = (STATIC / "workbench.css").read_text()
    variables = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", shared))
    pages = shared[shared.index("/* The keyboard pages") :] + (STATIC / "review.css").read_text()
    css = re.sub(r"var\(--([a-z-]+)\)", lambda m: variables[m.group(1)], pages + (STATIC / "label.css").read_text())
    rules = [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]

    def prop(body: str, name: str) -> str | None:
        found = re.search(rf"(?<![-\w]){name}:\s*(#[0-9a-fA-F]{{3,6}})", body)
        return found.group(1) if found else None

    light = {bg for _, body in rules if (bg := prop(body, "background")) and _luminance(bg) > 0.5}
    light |= {variables["paper"], variables["card"]}
    checked, low = 0, []
    for sel, body in rules:
        fg = prop(body, "color")
        if fg is None:
            continue
        own = prop(body, "background")
        for bg in {own} if own else light:
            a, b = _luminance(fg), _luminance(bg)
            ratio = (max(a, b) + 0.05) / (min(a, b) + 0.05)
            checked += 1
            if ratio < 4.5:
                low.append(f"{sel}: {fg} on {bg}: {ratio:.2f}")
    assert checked > 40 and low == []


def _ids(page: Any) -> list[int]:
    return listed(page)


def test_search_sort_and_filters_come_back_from_a_link(browser: Any, tmp_path: Path) -> None:
    _, keys, app = serve(tmp_path, copies=3)
    with app as base:
        page = open_page(browser, base, keys["alice"])
        page.fill("#f-q", "the")
        page.select_option("#f-sort", "-score")
        page.select_option("#f-status", "")
        page.select_option("#f-label", "negative")
        page.click("#apply")
        page.wait_for_selector("body[data-ready='1']")
        link = page.url
        assert parse_qs(urlparse(link).query) == {
            "dataset": ["rq"],
            "q": ["the"],
            "status": ["any"],
            "label": ["negative"],
            "sort": ["-score"],
        }
        seen = _ids(page)
        rows = page.locator("#list tbody tr")
        texts = rows.locator("td.text").all_inner_texts()
        assert texts and all("the" in t.lower() for t in texts)
        assert set(rows.locator("td:nth-child(4)").all_inner_texts()) == {"negative"}
        scores = [float(s) for s in rows.locator("td:nth-child(3)").all_inner_texts()]
        assert scores == sorted(scores, reverse=True)
        again = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        again.goto(link)
        again.evaluate(f"sessionStorage.setItem('sentiforge-key', {keys['alice']!r})")
        again.reload()  # the key is kept per tab, never in the link
        again.wait_for_selector("body[data-ready='1']")
        assert _ids(again) == seen
        assert again.input_value("#f-q") == "the" and again.input_value("#f-sort") == "-score"
        assert again.input_value("#f-label") == "negative" and again.input_value("#f-status") == ""
        for nav in ("drift", "label", "review", "jobs"):  # the shared nav keeps the dataset
            assert again.get_attribute(f"[data-nav={nav}]", "href") == f"/{nav}?dataset=rq"
        assert again.get_attribute("[data-nav=review]", "aria-current") == "page"
        again.fill("#dataset", "other")
        again.dispatch_event("#dataset", "change")
        assert again.get_attribute("[data-nav=label]", "href") == "/label?dataset=other"


def test_pages_of_a_long_queue(browser: Any, tmp_path: Path) -> None:
    _, keys, app = serve(tmp_path, copies=13, items=117)
    with app as base:
        page = open_page(browser, base, keys["alice"], "dataset=rq&sort=oldest")
        assert page.locator("#page-info").inner_text() == "1–100 of 117" and len(_ids(page)) == 100
        first = _ids(page)
        page.click("#next-page")
        page.wait_for_selector("#page-info:has-text('101–117 of 117')")
        assert _ids(page) == list(range(first[-1] + 1, first[-1] + 18))
        assert "offset=100" in page.url and page.is_disabled("#next-page")
        page.reload()
        page.wait_for_selector("#page-info:has-text('101–117 of 117')")
        page.click("#prev-page")
        page.wait_for_selector("#page-info:has-text('1–100 of 117')")
        assert _ids(page) == first


def test_bulk_is_confirmed_and_undone_as_one_step(browser: Any, tmp_path: Path) -> None:
    db, keys, app = serve(tmp_path, copies=4)
    with app as base:
        page = open_page(browser, base, keys["alice"], "dataset=rq&strategy=seeded")
        ids = _ids(page)
        page.click("#select-all")
        page.click("#bulk-reject")
        assert page.locator("#confirm-text").inner_text().startswith(f"Reject {len(ids)} items?")
        page.click("#confirm-no")
        page.wait_for_selector("#status:has-text('bulk cancelled')")
        with Store(db) as store:
            assert {store.review_item(i).status for i in ids} == {"pending"}
        page.select_option("#reason", "duplicate")
        page.click("#bulk-reject")
        assert "(reason: duplicate)" in page.locator("#confirm-text").inner_text()
        page.screenshot(path=str(SHOTS / "review-bulk-confirm.png"))
        page.click("#confirm-yes")
        page.wait_for_selector(f"#undo-bulk:has-text('Undo bulk ({len(ids)})')")
        with Store(db) as store:
            items = [store.review_item(i) for i in ids]
            assert {(i.status, i.reason, i.decided_by) for i in items} == {("rejected", "duplicate", "alice")}
            assert len({i.bulk_id for i in items}) == 1
        page.wait_for_selector("#counts:has-text('rejected')")
        page.keyboard.press("u")
        page.wait_for_selector("#status:has-text('bulk undone')")
        with Store(db) as store:
            assert {store.review_item(i).status for i in ids} == {"pending"}
            assert store.review_decisions(store.dataset_id("rq")) == []
        page.wait_for_selector("#undo-bulk", state="hidden")


def test_a_reason_and_a_note_are_stored_and_counts_stay_live(browser: Any, tmp_path: Path) -> None:
    db, keys, app = serve(tmp_path, copies=2)
    browser.allow.append("status of 422 (Unprocessable Entity)")  # 'other' without a note, below
    with app as base:
        page = open_page(browser, base, keys["alice"])
        assert page.locator("#counts").inner_text() == "pending 18"
        assert page.locator("#totals").inner_text() == "today: you 0 · everyone 0"
        first, second, third = _ids(page)[:3]
        page.select_option("#reason", "agent voice")
        page.keyboard.press("n")
        page.keyboard.type("sounds like the help desk")
        page.keyboard.press("Escape")
        page.keyboard.press("r")
        page.wait_for_selector("#counts:has-text('pending 17')")
        assert page.input_value("#reason") == "" and page.input_value("#note") == ""  # one decision's worth
        page.select_option("#reason", "other")  # 'other' without a note: the server refuses it
        page.keyboard.press("r")
        page.wait_for_selector("#failures li:has-text('needs a note')")
        page.keyboard.press("a")
        page.wait_for_selector("#totals:has-text('you 2')")
        assert page.locator("#counts").inner_text() == "pending 16 · approved 1 · rejected 1"
        assert page.locator("#progress").inner_text() == "2 of 18 decided"
        page.screenshot(path=str(SHOTS / "review-reason-note.png"))
    with Store(db) as store:
        a, b, c = (store.review_item(i) for i in (first, second, third))
        assert (a.status, a.reason, a.note, a.decided_by) == (
            "rejected",
            "agent voice",
            "sounds like the help desk",
            "alice",
        )
        assert (
            store.get_sample(a.sample_id).reason == "review: rejected by alice: agent voice (sounds like the help desk)"
        )
        assert (b.status, c.status) == ("pending", "approved")


def test_a_lease_that_runs_out_lets_another_reviewer_take_the_item(browser: Any, tmp_path: Path) -> None:
    db, keys, app = serve(tmp_path, copies=2, SENTIFORGE_REVIEW_LEASE_SECONDS="3")
    with app as base:
        alice = {"X-API-Key": keys["alice"]}
        ids = [i["id"] for i in httpx.get(f"{base}/v1/review/rq/items", headers=alice).json()][:3]
        granted = httpx.post(f"{base}/v1/review/leases", headers=alice, json={"ids": ids}).json()["granted"]
        assert sorted(granted) == sorted(ids)
        page = open_page(browser, base, keys["bob"])
        assert not set(_ids(page)) & set(ids)  # held by alice: not handed to bob
        time.sleep(3.2)  # alice's page is gone: her leases run out
        page.click("#apply")
        page.wait_for_selector(f"#list tr[data-id='{ids[0]}']")
        page.click(f"#list tr[data-id='{ids[0]}']")
        page.keyboard.press("a")
        page.wait_for_function("() => document.body.dataset.queue === '0'")
        with Store(db) as store:
            assert store.review_item(ids[0]).decided_by == "bob"
            held = [i for i in store.list_review_items(store.dataset_id("rq")) if i.leased_by == "bob"]
            assert held  # bob's page holds the items ahead of its cursor...
        page.goto("about:blank")  # ...and gives them back when it closes
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with Store(db) as store:
                if not [i for i in store.list_review_items(store.dataset_id("rq")) if i.leased_by == "bob"]:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("closing the page did not release its leases")


def test_labels_focus_order_and_contrast(browser: Any, tmp_path: Path) -> None:
    _, keys, app = serve(tmp_path, copies=2)
    with app as base:
        page = open_page(browser, base, keys["alice"])
        page.keyboard.press("a")
        page.keyboard.press("r")
        page.wait_for_function("() => document.body.dataset.queue === '0'")
        page.screenshot(path=str(SHOTS / "review.png"), full_page=True)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea, button')]
                 .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                 .filter((el) => !el.textContent.trim())
                 .map((el) => el.id)"""
        )
        assert unlabelled == []
        assert page.evaluate(CONTRAST) == []
        page.reload()  # tabbing from the top of a fresh page
        page.wait_for_selector("body[data-ready='1']")
        order = []
        for _ in range(14):
            page.keyboard.press("Tab")
            order.append(page.evaluate("(el => el.id || el.dataset.nav || el.className)(document.activeElement)"))
        nav = ["datasets", "jobs", "evaluations", "models", "review", "label", "drift"]
        assert order == ["skip", "brand", *nav, "dataset", "key", "open", "f-q", "f-status"]
        assert page.locator("header.top nav [aria-current=page]").all_inner_texts() == ["Review"]
        page.keyboard.press("Escape")  # out of the search box, back to the keys
        page.keyboard.press("?")
        assert page.locator("#help").is_visible()
        assert page.locator("#keys").is_visible() and page.locator("#guidelines").is_visible()
