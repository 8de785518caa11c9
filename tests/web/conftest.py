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
