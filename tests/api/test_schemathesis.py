"""schemathesis against the served OpenAPI schema: no generated request gets a 5xx, with an
admin key and without one. A real uvicorn on loopback serves a fresh SQLite store."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    import uvicorn

    from sentiforge.api.main import create_app
    from sentiforge.config import Settings
    from sentiforge.store import Store

    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    db = f"sqlite:///{tmp / 'st.db'}"
    with Store(db) as store:
        token = store.create_key("fuzzer", ["admin"])[1]
    app = create_app(Settings(home=tmp, database_url=db, classifiers_dir=tmp / "c", reports_dir=tmp / "r",
                              rate_limit_per_minute=0))  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "token": token}
    server.should_exit = True
    thread.join(timeout=20)


def test_no_server_errors(served: dict[str, str]) -> None:
    from hypothesis import given

    schema = schemathesis.openapi.from_url(served["url"] + "/openapi.json")
    auth = {"Authorization": f"Bearer {served['token']}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/stream"):
            continue  # an endless stream by design; tested in test_jobs.py

        @given(case=operation.as_strategy())
        @settings(
            max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "3")),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def check(case: Any) -> None:
            for headers in (auth, {}):
                response = case.call(headers=headers, timeout=30)
                assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
                if not headers and case.path not in ("/health", "/ready"):
                    assert response.status_code == 401

        check()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert len(checked) >= 20, checked
