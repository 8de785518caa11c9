"""The deployment as shipped: Debian's nginx (TLS, self-signed certificate) in front of
Gunicorn with two Uvicorn workers (deploy/), on loopback. Metrics are summed over workers."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import SEEDS_CSV

from sentiforge.store import Store

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not shutil.which("nginx"), reason="needs Debian's nginx (scripts/install.sh --system)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], **kw: object) -> None:
    for _ in range(150):
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1, **kw).status_code == 200:  # type: ignore[arg-type]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def _train(folder: Path) -> None:
    import csv
    import io

    from sentiforge.classifiers import train
    from sentiforge.labels import get_scheme
    from sentiforge.samples import Sample

    rows = list(csv.DictReader(io.StringIO(SEEDS_CSV)))
    train([Sample(text=r["text"], label=r["label"]) for r in rows], get_scheme("three_class")).save(folder)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Gunicorn (2 workers) and nginx (TLS) on free loopback ports; yields the base URL, token, cert."""
    db = f"sqlite:///{tmp_path / 'svc.db'}"
    with Store(db) as store:
        token = store.create_key("ops", ["admin"])[1]
    _train(tmp_path / "classifiers" / "m")
    app_port, tls_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "SENTIFORGE_HOME": str(tmp_path / "home"), "SENTIFORGE_DATABASE_URL": db,
        "SENTIFORGE_CLASSIFIERS_DIR": str(tmp_path / "classifiers"), "SENTIFORGE_MAX_UPLOAD_MB": "0.001",
        "GUNICORN_BIND": f"127.0.0.1:{app_port}", "GUNICORN_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "PYTHONPATH": str(ROOT / "src"),
    }  # fmt: skip
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
    app = subprocess.Popen(gunicorn, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    conf = conf.replace("/etc/sentiforge/tls/cert.pem", str(cert)).replace("/etc/sentiforge/tls/key.pem", str(key))
    conf = conf.replace("127.0.0.1:8000", f"127.0.0.1:{app_port}").replace("127.0.0.1:8443", f"127.0.0.1:{tls_port}")
    conf = re.sub(r"/tmp/sentiforge-nginx", str(tmp_path / "nginx"), conf)
    (tmp_path / "nginx.conf").write_text(conf)
    web = subprocess.Popen(
        ["nginx", "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"https://127.0.0.1:{tls_port}"
    try:
        _wait(f"http://127.0.0.1:{app_port}/health", app)
        _wait(f"{base}/health", web, verify=str(cert))
        yield {"base": base, "token": token, "cert": str(cert)}
    finally:
        for proc in (web, app):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _sum(metrics: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_the_api_through_nginx_and_gunicorn(stack: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {stack['token']}"}
    with httpx.Client(base_url=stack["base"], verify=stack["cert"], headers=headers, timeout=30) as client:
        for i in range(40):
            answer = client.post("/v1/sentiment", json={"text": f"loved it, great service {i}"})
            assert answer.status_code == 200 and answer.json()["label"] == "positive"
        for _ in range(6):  # whichever worker answers the scrape, it counts every worker's requests
            metrics = client.get("/metrics").text
            assert _sum(metrics, "sentiforge_predictions_total", model="m") == 40
            assert _sum(metrics, "sentiforge_http_requests_total", route="/v1/sentiment", status="200") == 40
            assert _sum(metrics, "sentiforge_http_request_duration_seconds_count", route="/v1/sentiment") == 40
        assert 'sentiforge_jobs{status="queued"}' in metrics
        big = client.post("/v1/datasets/x/import", files={"file": ("s.csv", SEEDS_CSV * 2)})
        assert big.status_code == 413 and "MB" in big.json()["detail"]  # the API's answer, through nginx
        assert client.get("/v1/jobs", headers={"Authorization": ""}).status_code == 401


def test_sse_is_not_buffered_by_nginx(stack: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {stack['token']}"}
    slow = {"kind": "fake", "fake_latency": 0.05, "concurrency": 1}
    with httpx.Client(base_url=stack["base"], verify=stack["cert"], headers=headers, timeout=60) as client:
        job = client.post("/v1/jobs/generate", json={"dataset": "sse", "count": 30, "backend": slow}).json()
        arrivals: list[float] = []
        with client.stream("GET", f"/v1/jobs/{job['id']}/stream") as answer:
            for line in answer.iter_lines():
                if line == "event: progress":
                    arrivals.append(time.monotonic())
                if line == "event: end":
                    break
    assert len(arrivals) >= 3 and arrivals[-1] - arrivals[0] > 0.5  # events came as they happened
