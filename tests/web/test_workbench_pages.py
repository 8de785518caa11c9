"""The workbench in a real browser (Playwright driving Debian's Chromium) against the real app
under Uvicorn, filled through the API: real seeds (60 rows, some of them XSS plants), a
generate job with the fake backend, an evaluation, a trained model (and a copy of it under a
hostile name). Each page is driven as a user would: the sample browser pages and searches,
a running job's numbers advance over the event stream and its cancel works, a read-only key
sees the job but its buttons are off, the evaluation report opens, the model answers a text,
the quality page keeps its dataset in its links; no plant ever runs.
``WORKBENCH_SCREENSHOTS=DIR`` keeps a screenshot of every page there."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.web.conftest import CHROMIUM, uvicorn_app

from sentiforge.store import Store

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (install.sh --system)")

SCRIPT_PLANT = "<script>window.__xss = 'script'</script>"
IMG_PLANT = '"><img src=x onerror="window.__xss = \'img\'">'
HOSTILE_MODEL = 'm"><img src=x onerror="window.__xss = \'model\'">'
WORDS = {
    "positive": ["great service", "loved it", "wonderful staff", "excellent support", "very happy"],
    "negative": ["awful wait", "terrible app", "rude agent", "hated it", "very angry"],
    "neutral": ["it arrived", "the office opens", "order placed", "I called today", "the box is blue"],
}


def _seeds_csv() -> str:
    rows = [f"{w} number {n},{label}" for label, words in WORDS.items() for w in words for n in range(4)]
    rows[0] = f'"{SCRIPT_PLANT} great service",positive'
    rows[1] = f'"{IMG_PLANT.replace(chr(34), chr(34) * 2)} loved it",positive'
    return "text,label\n" + "\n".join(rows) + "\n"


def _wait(client: httpx.Client, job_id: int, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']}")


def _fill(client: httpx.Client, home: Path) -> dict[str, Any]:
    made = client.post("/v1/datasets/seeds/import", files={"file": ("s.csv", _seeds_csv())}, data={"splits": "0.8,0.2"})
    assert made.status_code == 201, made.text
    gen = {"dataset": "synth", "count": 24, "seeds": "seeds", "backend": {"kind": "fake"}}
    generated = _wait(client, client.post("/v1/jobs/generate", json=gen).json()["id"])
    assert generated["status"] == "completed", generated
    ev = {"real": "seeds", "synthetic": "synth", "bootstrap": 20, "cv": 2, "embedder": "fake"}
    evaluation = _wait(client, client.post("/v1/jobs/evaluate", json=ev).json()["id"])
    assert evaluation["status"] == "completed", evaluation["error"]
    train = {"dataset": "seeds", "out_dir": "seed-model"}
    trained = _wait(client, client.post("/v1/jobs/train", json=train).json()["id"])
    assert trained["status"] == "completed", trained["error"]
    shutil.copytree(home / "classifiers" / "seed-model", home / "classifiers" / HOSTILE_MODEL)
    return {"generate": generated["id"], "evaluation": evaluation["id"]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app under Uvicorn over a filled database, with an admin and a read-only token."""
    home = tmp_path_factory.mktemp("workbench")
    db = f"sqlite:///{home / 'wb.db'}"
    with Store(db) as store:
        admin = store.create_key("admin-user", ["admin"])[1]
        reader = store.create_key("reader", ["read"])[1]
    with uvicorn_app(home, db) as base:
        with httpx.Client(base_url=base, headers={"X-API-Key": admin}, timeout=60) as client:
            ids = _fill(client, home)
        with Store(db) as store:  # a job event as a backend's error message could write it
            store.add_job_event(ids["generate"], "warning", message=IMG_PLANT, detail=SCRIPT_PLANT)
        yield {"base": base, "admin": admin, "reader": reader, "db": db, **ids}


@pytest.fixture(scope="module")
def browser(served: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _page(browser: Any, served: dict[str, Any], token: str, after: str = "/datasets", csp: bool = False) -> Any:
    """A fresh context logged in with ``token`` through the login form, on ``after``. Without
    ``csp`` the page's Content-Security-Policy is bypassed: escaping alone must keep the plants
    inert; with it, the page's own scripts must work under the policy."""
    page = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=not csp).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    page.goto(f"{served['base']}{after}")
    page.wait_for_url("**/login?next=*")
    page.fill("#key", token)
    page.click("#login button[type=submit]")
    page.wait_for_url(f"{served['base']}{after}")
    return page


def _go(page: Any, selector: str) -> None:
    """Click a link or a submit button and wait for the page it opens."""
    with page.expect_navigation():
        page.click(selector)


def _inert(page: Any) -> None:
    """No plant ran: no flag set, no dialog, no element built from a plant."""
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []
    assert page.locator("img[onerror]").count() == 0


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("WORKBENCH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_login_page_and_keyboard_order(browser: Any, served: dict[str, Any]) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 600})
    page.goto(f"{served['base']}/jobs")
    page.wait_for_url("**/login?next=%2Fjobs")
    _shot(page, "login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "key"  # the skip link lands in main, on the form
    page.keyboard.type(served["reader"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served['base']}/jobs")
    assert served["reader"] not in page.content() and served["reader"] not in page.url
    assert page.evaluate("sessionStorage.getItem('sentiforge-key')") == served["reader"]  # for review and drift
    page.click("#logout button")
    page.wait_for_url(f"{served['base']}/login")
    assert page.evaluate("sessionStorage.getItem('sentiforge-key')") is None
    page.goto(f"{served['base']}/jobs")
    page.wait_for_url("**/login?next=%2Fjobs")
    page.close()


@pytest.mark.browser
def test_datasets_list_counts_and_sample_browser(browser: Any, served: dict[str, Any]) -> None:
    page = _page(browser, served, served["reader"])
    assert page.locator("#datasets tr[data-dataset]").evaluate_all("rs => rs.map(r => r.dataset.dataset)") == [
        "seeds",
        "synth",
    ]
    _shot(page, "datasets")
    _go(page, "#datasets a:text('seeds')")
    page.wait_for_selector("#by-label")
    assert page.locator("#by-status tr:has-text('accepted') td").inner_text() == "60"
    assert {r: page.locator(f"#by-label tr:has-text('{r}') td").inner_text() for r in WORDS} == dict.fromkeys(
        WORDS, "20"
    )
    assert page.locator("#by-split tr").count() == 2
    _inert(page)
    page.select_option("select[name=limit]", "10")
    _go(page, "#sample-filters button")
    seen: list[int] = []
    for _ in range(6):
        ids = [int(x) for x in page.locator("#samples tbody tr").evaluate_all("rs => rs.map(r => r.dataset.id)")]
        assert len(ids) == 10 and not set(ids) & set(seen)
        seen += ids
        if page.locator("#next-page").count():
            _go(page, "#next-page")
    assert seen == sorted(seen) and len(seen) == 60 and page.locator("#next-page").count() == 0
    _go(page, "#prev-page")
    assert [int(x) for x in page.locator("#samples tbody tr").evaluate_all("rs => rs.map(r => r.dataset.id)")] == seen[
        40:50
    ]
    assert "Samples 41–50" in page.locator("#page-info").inner_text()
    _go(page, "#first-page")
    assert int(page.locator("#samples tbody tr").first.get_attribute("data-id")) == seen[0]
    _shot(page, "dataset")
    page.fill("input[name=text]", "RUDE agent")
    _go(page, "#sample-filters button")
    texts = page.locator("#samples td.text").all_inner_texts()
    assert len(texts) == 4 and all("rude agent" in t for t in texts)
    assert "text=RUDE+agent" in page.url  # a link reproduces the view
    page.fill("input[name=text]", "<script>")
    _go(page, "#sample-filters button")
    assert page.locator("#samples td.text").all_inner_texts() == [f"{SCRIPT_PLANT} great service"]  # shown, as text
    _inert(page)
    page.context.close()


@pytest.mark.browser
def test_running_job_advances_live_and_cancel_stops_it(browser: Any, served: dict[str, Any]) -> None:
    slow = {"kind": "fake", "fake_latency": 0.25, "concurrency": 1}
    with httpx.Client(base_url=served["base"], headers={"X-API-Key": served["admin"]}) as client:
        job = client.post("/v1/jobs/generate", json={"dataset": "live", "count": 200, "backend": slow}).json()
    page = _page(browser, served, served["admin"], f"/jobs/{job['id']}", csp=True)
    reader = _page(browser, served, served["reader"], f"/jobs/{job['id']}")
    assert reader.locator("#cancel").is_disabled() and "no write scope" in reader.locator("#no-write").inner_text()
    reader.context.close()
    assert page.locator("#job").get_attribute("data-live") == "true"
    start = int(page.locator("#done").inner_text())
    deadline = time.monotonic() + 30  # polled from here: the policy refuses wait_for_function's eval
    while int(page.locator("#done").inner_text()) < start + 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert int(page.locator("#done").inner_text()) >= start + 3 and int(page.locator("#requests").inner_text()) > 0
    page.wait_for_selector("#status:text('running')")
    assert page.locator("#bar").evaluate("b => b.value") >= start + 3
    assert page.locator("#events li b:text('started')").count() == 1  # rendered, not repeated by the stream
    with Store(served["db"]) as store:  # an event while the page is open arrives over the stream, as text
        store.add_job_event(job["id"], "warning", message=IMG_PLANT)
    page.wait_for_selector("#events li:has(b:text('warning'))")
    assert IMG_PLANT in page.locator("#events li:has(b:text('warning'))").inner_text()
    _inert(page)  # no element built from it (the policy aside: the script writes text only)
    _shot(page, "job-live")
    _go(page, "#cancel")
    page.wait_for_selector("#job[data-live='false']", timeout=60_000)  # reloaded once the stream ended
    assert page.locator("#status").inner_text() == "cancelled"
    assert page.locator("#resume").is_enabled()
    with Store(served["db"]) as store:
        stored = store.job(job["id"])
    assert stored.status == "cancelled" and 0 < stored.done < 200
    assert page.locator("#done").inner_text() == str(stored.done)
    page.goto(f"{served['base']}/jobs")
    assert page.locator(f"#jobs tr[data-job='{job['id']}'] .status").inner_text() == "cancelled"
    _shot(page, "jobs")
    page.context.close()


@pytest.mark.browser
def test_job_events_with_plants_render_inert(browser: Any, served: dict[str, Any]) -> None:
    page = _page(browser, served, served["reader"], f"/jobs/{served['generate']}")
    warning = page.locator("#events li:has(b:text('warning'))")
    assert IMG_PLANT in warning.inner_text() and SCRIPT_PLANT in warning.inner_text()
    _inert(page)
    _shot(page, "job-finished")
    page.context.close()


@pytest.mark.browser
def test_evaluation_report_opens(browser: Any, served: dict[str, Any]) -> None:
    page = _page(browser, served, served["reader"], "/evaluations")
    row = page.locator(f"#evaluations tr[data-job='{served['evaluation']}']")
    assert row.locator(".status").inner_text() == "completed"
    _shot(page, "evaluations")
    row.locator("a.report").click()
    page.wait_for_url(f"**/evaluations/{served['evaluation']}/report")
    assert "seeds" in page.content() and page.locator("svg").count() > 0
    policy = page.request.get(page.url).headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "script-src" not in policy  # no script of the report runs
    _inert(page)
    _shot(page, "evaluation-report")
    page.context.close()


@pytest.mark.browser
def test_model_page_answers_a_text(browser: Any, served: dict[str, Any]) -> None:
    page = _page(browser, served, served["admin"], "/models")
    assert set(page.locator("#models tr[data-model]").evaluate_all("rs => rs.map(r => r.dataset.model)")) == {
        "seed-model",
        HOSTILE_MODEL,
    }
    _inert(page)
    _shot(page, "models")
    _go(page, "#models a:text('seed-model')")
    page.wait_for_selector("#metrics")
    assert page.locator("#metrics tr").count() > 0
    page.fill("#text", "wonderful staff, very happy")
    _go(page, "#try button")
    page.wait_for_selector("#answer")
    label = page.locator("#answer-label").inner_text()
    scores = {
        r.get_attribute("data-label"): float(r.locator("td.num").inner_text())
        for r in page.locator("#answer-scores tr").all()
    }
    assert set(scores) == set(WORDS) and abs(sum(scores.values()) - 1) < 0.01
    assert label == max(scores, key=lambda k: scores[k])
    assert page.locator("#text").input_value() == "wonderful staff, very happy"
    assert page.locator("#drift").inner_text().startswith("Texts served by this process: 1;")  # the text just tried
    _shot(page, "model-try")
    page.goto(f"{served['base']}/models")
    page.locator("#models tr[data-model] a").nth(0).click()  # the hostile name, first by sort order
    page.wait_for_selector("h1")
    assert HOSTILE_MODEL in page.locator("h1").inner_text()
    page.fill("#text", IMG_PLANT)
    _go(page, "#try button")
    page.wait_for_selector("#answer")
    assert page.locator("#text").input_value() == IMG_PLANT
    _inert(page)
    page.context.close()


@pytest.mark.browser
def test_quality_page_keeps_the_dataset_in_its_links(browser: Any, served: dict[str, Any]) -> None:
    page = _page(browser, served, served["reader"], "/datasets/synth", csp=True)
    _go(page, "a:text('its quality over time')")
    page.wait_for_url("**/drift?dataset=synth&source=jobs")
    page.wait_for_selector("#flags.ok, #flags.alert, #flags:text('no runs')")
    assert page.locator("#name").input_value() == "synth"
    for nav in ("review", "label", "jobs", "drift"):
        assert page.locator(f"[data-nav={nav}]").get_attribute("href").endswith("?dataset=synth"), nav
    assert page.locator("#review-link").get_attribute("href") == "/review?dataset=synth"
    assert page.locator("[data-nav=drift]").get_attribute("aria-current") == "page"
    _shot(page, "drift")
    page.fill("#name", "seeds")
    page.click("#open")
    page.wait_for_url("**/drift?dataset=seeds&source=jobs")
    assert page.locator("[data-nav=review]").get_attribute("href") == "/review?dataset=seeds"
    page.reload()
    assert page.locator("#name").input_value() == "seeds"
    page.context.close()
