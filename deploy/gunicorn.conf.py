"""Gunicorn for the sentiforge API: Uvicorn workers, Prometheus multiprocess metrics.

    gunicorn -c deploy/gunicorn.conf.py

Settings come from SENTIFORGE_* variables (see the README); these read their own:
GUNICORN_BIND (default 127.0.0.1:8000), GUNICORN_WORKERS (default: 2 per core, at most 8),
GUNICORN_TIMEOUT (default 60 s). PROMETHEUS_MULTIPROC_DIR is set to a fresh folder unless
given, so /metrics sums every worker's counters whichever worker answers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

wsgi_app = "sentiforge.api.main:create_app()"
worker_class = "uvicorn.workers.UvicornWorker"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(8, 2 * (os.cpu_count() or 1))))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"

# Multiprocess metrics: the folder must exist, empty, before any worker imports prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sentiforge-metrics-")
else:
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(_server: Any, worker: Any) -> None:
    """A dead worker's live gauges leave the sums (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
