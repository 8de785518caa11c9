"""The drift page in a real browser (Playwright driving Debian's Chromium) against the real app
under Uvicorn: four generation jobs of one dataset, the last with a shifted label mix and
style; every chart has one point per job, the shifted job's points are drawn flagged and the
banner names it. ``DRIFT_SCREENSHOT=PATH`` keeps a screenshot of the page."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.quality.test_summary import _job, _real
from tests.web.conftest import CHROMIUM, uvicorn_app, watched_chromium

from sentiforge.store import Store

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (install.sh --system)")


async def _jobs(store: Store) -> list[int]:
    _real(store)
    ids = [await _job(store, "synth", None) for _ in range(3)]
    return [*ids, await _job(store, "synth", ["positive"], samey=True)]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, list[int]]]:
    """(base url, reader token, job ids) of the app run by Uvicorn over four summarised jobs."""
    db = f"sqlite:///{tmp_path / 'drift.db'}"
    with Store(db) as store:
        jobs = asyncio.run(_jobs(store))
        token = store.create_key("watcher", ["read"])[1]
    with uvicorn_app(tmp_path, db) as base:
        yield base, token, jobs


@pytest.mark.browser
def test_drift_page_charts_one_point_per_job_and_marks_the_shift(
    served: tuple[str, str, list[int]], tmp_path: Path
) -> None:
    base, token, jobs = served
    with watched_chromium() as browser:  # fails on any console error or CSP violation
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(f"{base}/review")
        page.click("[data-nav=drift]")  # the review page links here, through the shared nav
        page.wait_for_url(f"{base}/drift")
        page.goto(f"{base}/drift?dataset=synth&source=jobs")
        page.fill("#key", token)
        page.click("#open")
        page.wait_for_selector("#flags.alert")
        for measure in ("reject_rate", "distinct_2", "self_similarity", "seed_distance"):
            runs = page.locator(f".chart[data-measure='{measure}'] circle.point")
            assert [int(x) for x in runs.evaluate_all("cs => cs.map(c => c.dataset.run)")] == jobs, measure
        assert page.locator(".chart[data-measure='label_balance'] g.point").count() == len(jobs)
        flagged = page.locator(".chart circle.point.flagged").evaluate_all("cs => cs.map(c => c.dataset.run)")
        assert flagged and set(map(int, flagged)) == {jobs[-1]}
        assert page.locator(".chart[data-measure='label_balance'] rect.bar.flagged").count() == 1
        banner = page.locator("#flags").inner_text()
        assert f"#{jobs[-1]}" in banner and "label_balance" in banner and f"#{jobs[0]} " not in banner
        assert page.locator(f"#runs tr[data-run='{jobs[-1]}'] td.flagged").inner_text() != ""
        shot = tmp_path / "drift.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("DRIFT_SCREENSHOT"):
            shutil.copy(shot, os.environ["DRIFT_SCREENSHOT"])
        page.fill("#threshold", "0.99")
        page.click("#open")
        page.wait_for_selector("#flags.ok")
        assert page.locator(".chart circle.point.flagged").count() == 0
