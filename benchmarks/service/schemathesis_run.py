"""schemathesis against the service on PostgreSQL for a given time, with fresh random data:
counts server errors (5xx) and schema violations (answers that do not match the OpenAPI
schema: body, status code, content type). Writes schemathesis.json (our summary) beside
itself, and schemathesis' JUnit report and its output under schemathesis/.

    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/service/schemathesis_run.py --minutes 10

A fresh PostgreSQL database (dropped afterwards) holds the store; Redis backs /ready. The
server is the real app (``create_app``) under Uvicorn on loopback, with one change: jobs stay
queued instead of running (the fuzzer posts generate/train/evaluate jobs with the embedded LLM
and transformer classifiers, hours of CPU on this machine; running jobs is not the API's edge).
The fuzzer sends every request with an admin key (every route reachable) and, as
``tests/api/test_schemathesis.py`` does in CI, nothing here is derandomized: each run draws new data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def serve(url: str, home: str, port: int) -> None:
    """The server process: the real app, jobs queued but never started."""
    import uvicorn

    from sentiforge.api import main, runner
    from sentiforge.config import Settings

    class QueueOnly(runner.JobRunner):
        def start(self, job_id: int) -> None:  # the job stays queued (see the module docstring)
            return None

    main.JobRunner = QueueOnly  # type: ignore[misc]
    settings = Settings(
        home=Path(home), database_url=url, rate_limit_per_minute=0, redis_url="redis://127.0.0.1:6379/15",
        classifiers_dir=Path(home) / "classifiers", reports_dir=Path(home) / "reports",
    )  # fmt: skip
    uvicorn.run(main.create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def summarise(junit: Path, output: str) -> dict[str, Any]:
    """Unique failures by check (``ST103 Undocumented status code``) and operation, from the JUnit
    report; the number of generated cases from schemathesis' summary line."""
    import re
    import xml.etree.ElementTree as ET

    failures: dict[str, dict[str, int]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        for failure in case.iter("failure"):
            for check in set(re.findall(r"^- (ST\d+ [^\n]+|Server error[^\n]*)$", failure.text or "", re.M)):
                failures.setdefault(check.strip(), {}).setdefault(case.get("name", "?"), 0)
                failures[check.strip()][case.get("name", "?")] += 1
    generated = re.search(r"(\d+) generated", output)
    return {"cases": int(generated.group(1)) if generated else None, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--serve", nargs=3, metavar=("URL", "HOME", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], int(args.serve[2]))
        return
    from sentiforge.store import Store

    name = f"sentiforge_fuzz_{os.getpid()}"
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    out = HERE / "schemathesis"
    out.mkdir(exist_ok=True)
    for old in out.glob("*"):
        old.unlink()
    try:
        with Store(url) as store:
            token = store.create_key("fuzzer", ["admin"])[1]
        with tempfile.TemporaryDirectory(prefix="sentiforge-fuzz-") as home:
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent / "src")}
            server = subprocess.Popen([sys.executable, __file__, "--serve", url, home, str(port)], env=env)
            try:
                _wait(base, server)
                started = time.time()
                seed = secrets.randbelow(2**31)
                command = [
                    str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/openapi.json",
                    "-H", f"Authorization: Bearer {token}", "--checks", CHECKS,
                    "--max-time", str(int(args.minutes * 60)), "--workers", str(args.workers),
                    "--seed", str(seed), "--generation-database", "none", "--generation-allow-x00", "true",
                    "--generation-with-security-parameters", "false",
                    "--exclude-path-regex", "/stream$", "--request-timeout", "30", "--no-color",
                    "--report", "junit", "--report-dir", str(out),
                ]  # fmt: skip
                run = subprocess.run(command, capture_output=True, text=True)
                seconds = time.time() - started
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    (out / "output.txt").write_text(run.stdout[-20000:] + run.stderr[-5000:], encoding="utf-8")
    found = summarise(max(out.glob("junit-*.xml")), run.stdout)
    failures = found["failures"]
    server = {k: v for k, v in failures.items() if "server error" in k.lower()}
    result = {
        "database": "postgresql",
        "minutes": round(seconds / 60, 1),
        "seed": seed,
        "checks": CHECKS.split(","),
        "cases": found["cases"],
        "server_errors": sum(sum(ops.values()) for ops in server.values()),
        "schema_violations": sum(sum(ops.values()) for check, ops in failures.items() if check not in server),
        "failures": failures,
        "exit_code": run.returncode,
        "schemathesis": run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "",
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg(), "python": platform.python_version()},
    }
    (HERE / "schemathesis.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("minutes", "cases", "server_errors", "schema_violations")}))


if __name__ == "__main__":
    main()
