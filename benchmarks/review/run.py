"""The review page against a fast reviewer and a team, in Chromium (Playwright) against the real
app under Uvicorn. Writes results.json beside itself.

    flock /tmp/sentiforge-model.lock nice .venv/bin/python benchmarks/review/run.py [--db postgres]

Scenarios (each on a fresh demo queue, sentiforge.testing.review_demo.build_queue):
- ``person``: one scripted reviewer, 60 items, one key every ``--person-pace`` s (2.5 s: 24 a
  minute, just above the 20 a minute target: a person reading each item);
- ``fast``: the same reviewer with no pause at all (as fast as Playwright can read the page and
  press: the page's headroom);
- ``team``: two reviewers (two browser contexts, two keys) on 200 items at once, each pressing
  every ``--team-pace`` s.
The scripted reviewer (sentiforge.testing.scripted_reviewer) reads the item under the cursor and presses
the key a fixed rule gives for its text, so every stored decision is checked afterwards: a lost
key, a key on the wrong item, an item decided twice or by the wrong reviewer is an error; every
non-200 answer to a decision (a 409 is a collision) is counted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sentiforge.store import Store  # noqa: E402
from sentiforge.testing import scripted_reviewer as scripted  # noqa: E402
from sentiforge.testing.review_demo import build_queue  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def database(kind: str, tmp: Path, name: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / (name + '.db')}"
        return
    import psycopg

    db = f"sentiforge_review_bench_{name}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{db}"')  # type: ignore[arg-type]
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{db}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # type: ignore[arg-type]


@contextlib.contextmanager
def served(db: str, home: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "SENTIFORGE_HOME": str(home),
        "SENTIFORGE_DATABASE_URL": db,
        "SENTIFORGE_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONPATH": str(ROOT / "src"),
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "sentiforge.api.main:create_app", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def open_page(browser: Any, base: str, token: str) -> Any:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{base}/review?dataset=rq")
    page.fill("#key", token)
    page.click("#open")
    page.wait_for_selector("#list tr.current td.state-pending")
    return page


def scenario(browser: Any, kind: str, tmp: Path, name: str, items: int, people: int, pace: float) -> dict[str, Any]:
    with database(kind, tmp, name) as db:
        with Store(db) as store:
            build_queue(store, "rq", copies=items // 9 + 1, items=items)
            tokens = {who: store.create_key(who, ["review"])[1] for who in ("alice", "bob")[:people]}
        with served(db, tmp / name) as base:
            team = [scripted.Reviewer(open_page(browser, base, tok), who) for who, tok in tokens.items()]
            for r in team:
                r.watch()
            took = scripted.run(team, n=items, pace=pace, idle=20.0)
            for r in team:
                r.page.context.close()
        with Store(db) as store:
            errors = scripted.check(store, "rq", team)
            left = sum(i.status == "pending" for i in store.list_review_items(store.dataset_id("rq"), limit=10_000))
    pressed = sum(len(r.pressed) for r in team)
    refused = [s for r in team for s in r.statuses if s != 200]
    return {
        "database": kind,
        "items": items,
        "reviewers": people,
        "pace_s": pace,
        "pressed": pressed,
        "left_pending": left,
        "seconds": round(took, 1),
        "items_per_minute": round(pressed / took * 60, 1),
        "per_reviewer_per_minute": {r.name: round(len(r.pressed) / took * 60, 1) for r in team},
        "non_200_decisions": refused,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--person-pace", type=float, default=2.5)
    parser.add_argument("--team-pace", type=float, default=0.5)
    parser.add_argument("--only", nargs="*", default=["person", "fast", "team"])
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    before = uptime()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmpdir, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        plan = {"person": (60, 1, args.person_pace), "fast": (60, 1, 0.0), "team": (200, 2, args.team_pace)}
        for name in args.only:
            items, people, pace = plan[name]
            results[name] = scenario(browser, args.db, Path(tmpdir), name, items, people, pace)
            print(name, json.dumps(results[name]), flush=True)
        browser.close()
    person, team = results.get("person"), results.get("team")
    targets = {}
    if person:
        targets["20_items_a_minute_no_lost_or_misapplied_key"] = (
            person["items_per_minute"] >= 20 and not person["errors"] and person["pressed"] == person["items"]
        )
    if team:
        targets["two_reviewers_200_items_0_collisions_each_once"] = (
            not team["non_200_decisions"] and not team["errors"] and team["left_pending"] == 0
        )
    out = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "uptime_before": before,
        "uptime_after": uptime(),
        "scenarios": results,
        "targets_met": targets,
    }
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    old[args.db] = out
    args.out.write_text(json.dumps(old, indent=2) + "\n")
    print(json.dumps(targets))


if __name__ == "__main__":
    main()
