"""Prometheus metrics, correct under several Gunicorn workers.

Counters and histograms of the HTTP service (requests, latency, predictions, 429s) use
prometheus_client's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set
(deploy/gunicorn.conf.py sets it): every worker writes its own files and a scrape, answered by
any worker, sums them. What the database knows is read from the store at scrape time, so it
is the same whichever worker answers: jobs by status, LLM tokens and cost, quality rejects by
check, samples written in the last minute by any process, and the fleet's counters
(``sentiforge.app.fleet``: rate-limit waits and samples accepted by the jobs of every server
and every Celery worker, wherever it runs).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentiforge.app import fleet

if TYPE_CHECKING:
    from sentiforge.app.predict import ModelRegistry
    from sentiforge.store import Store

REQUESTS = Counter("sentiforge_http_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "sentiforge_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PREDICTIONS = Counter("sentiforge_predictions", "Texts classified by /v1/sentiment", ["model"])
RATE_LIMITED = Counter("sentiforge_rate_limited", "Requests refused with 429 (per-key request limit)")
FLEET = {  # the fleet's counters (app/fleet.py) as metrics: name, help, label
    fleet.SAMPLES: ("Samples accepted by the jobs of every server and worker", None),
    fleet.WAITS: ("LLM requests of every server's and worker's jobs that waited for a limit", "kind"),
    fleet.WAIT_SECONDS: ("Seconds LLM requests of every server's and worker's jobs waited for limits", "kind"),
}


class StoreCollector:
    """Metrics read from the database at each scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Any]:
        jobs = GaugeMetricFamily("sentiforge_jobs", "Jobs by status", labels=["status"])
        from sentiforge.store.jobs import STATUSES

        counts = self.store.job_status_counts()
        for status in STATUSES:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs
        totals = self.store.job_totals()
        tokens = CounterMetricFamily("sentiforge_llm_tokens", "LLM tokens spent by jobs", labels=["kind"])
        tokens.add_metric(["prompt"], totals["prompt_tokens"])
        tokens.add_metric(["completion"], totals["completion_tokens"])
        yield tokens
        yield CounterMetricFamily("sentiforge_llm_cost_usd", "LLM cost of jobs (USD)", value=totals["cost"])
        rejects = CounterMetricFamily(
            "sentiforge_quality_rejects", "Samples rejected by the quality gate", labels=["check"]
        )
        for check, n in sorted(self.store.quality_reject_counts().items()):
            rejects.add_metric([check], n)
        yield rejects
        yield GaugeMetricFamily(
            "sentiforge_samples_last_minute", "Samples written in the last minute", value=self.store.samples_since(60)
        )
        yield from self.fleet()

    def fleet(self) -> Iterator[Any]:
        totals = self.store.fleet_counters()
        for name, (doc, label) in FLEET.items():
            family = CounterMetricFamily(f"sentiforge_{name}", doc, labels=[label] if label else None)
            found = {lab: v for (n, lab), v in totals.items() if n == name}
            if label is None:
                family.add_metric([], found.get("", 0.0))
            else:
                for value_label, value in sorted(found.items()):
                    family.add_metric([value_label], value)
            yield family


class DriftCollector:
    """Input drift of the models this process served, computed at each scrape (per worker
    process: each Gunicorn worker reports the window of the texts it answered)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        shift = GaugeMetricFamily(
            "sentiforge_input_drift", "Shift of served texts from the training texts", labels=["model", "measure"]
        )
        limit = GaugeMetricFamily(
            "sentiforge_input_drift_limit", "Shift beyond which a measure is flagged", labels=["model", "measure"]
        )
        flagged = GaugeMetricFamily(
            "sentiforge_input_drift_flagged", "Measures flagged for input drift", labels=["model"]
        )
        window = GaugeMetricFamily("sentiforge_input_drift_window", "Served texts in the window", labels=["model"])
        for name in self.registry.watch.watched():
            report = self.registry.watch.report(name, self.registry.folder / name)
            for measure, value in report["shift"].items():
                shift.add_metric([name, measure], value)
                limit.add_metric([name, measure], report["limit"][measure])
            flagged.add_metric([name], len(report["flagged"]))
            window.add_metric([name], report["window"])
        yield from (shift, limit, flagged, window)


def render(store: Store, models: ModelRegistry | None = None) -> bytes:
    """The exposition text: this process's (or every worker's) metrics, the store's, and the
    input drift of the models this process served."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    out = generate_latest(registry)
    fleet.save(store)  # this process's own counters, current at this scrape
    extra = CollectorRegistry(auto_describe=False)
    extra.register(StoreCollector(store))
    if models is not None:
        extra.register(DriftCollector(models))
    return out + generate_latest(extra)


class MetricsMiddleware:
    """Counts every answer by route template (``/v1/jobs/{job_id}``, never raw paths) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)
