"""The web pages' browser tests: Debian's Chromium, and the real app run by Uvicorn over a
prepared database."""

from __future__ import annotations

import contextlib
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

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def uvicorn_app(home: Path, db: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The app under Uvicorn on a free port over ``db`` (``env``: more settings); yields its
    base URL once /health answers."""
    port = free_port()
    env = {
        **os.environ,
        "SENTIFORGE_HOME": str(home),
        "SENTIFORGE_DATABASE_URL": db,
        "SENTIFORGE_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONPATH": os.pathsep.join(sys.path),
        **(env or {}),
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
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


class WatchedBrowser:
    """A Playwright browser whose contexts report every console error, uncaught script error
    and Content-Security-Policy violation (Chromium logs those as console errors) into
    ``errors``; a test that expects some (a refused request's status) names them in ``allow``."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.errors: list[str] = []
        # a page's timer calling the API after the test stopped its server is no page error
        self.allow: list[str] = ["net::ERR_CONNECTION_REFUSED"]

    def _report(self, text: str) -> None:
        if not any(part in text for part in self.allow):
            self.errors.append(text)

    def new_context(self, **options: Any) -> Any:
        context = self.browser.new_context(**options)
        context.on("console", lambda m: m.type == "error" and self._report(f"{m.text} ({m.location.get('url')})"))
        context.on("weberror", lambda err: self._report(f"script: {err.error}"))
        return context

    def new_page(self, **options: Any) -> Any:
        return self.new_context(**options).new_page()

    def close(self) -> None:
        self.browser.close()


@contextlib.contextmanager
def watched_chromium() -> Iterator[WatchedBrowser]:
    """Chromium, watched: fails the test on any console error or CSP violation it saw."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        watched = WatchedBrowser(pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"]))
        try:
            yield watched
        finally:
            watched.close()
    assert watched.errors == [], "the pages logged errors:\n" + "\n".join(watched.errors)
