"""The test server in its own process: :class:`ServerProcess` starts its command
(``python -m sentiforge.testing.server``) and talks to its admin endpoints.

A separate process matters for benchmarks: a server on a thread of the client's process
shares its interpreter lock, so the client would be measured together with the server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from sentiforge.errors import SentiforgeError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``with ServerProcess(latency=0.1, faults={"server_error": 0.1}) as server:`` runs the
    CLI in a child process on a free port and stops it on exit."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        faults: Mapping[str, float] | None = None,
        rpm: float | None = None,
        extra_args: Sequence[str] = (),
        python: str = sys.executable,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = self.url + "/v1"
        args = [python, "-m", "sentiforge.testing.server", "--port", str(self.port), "--latency", str(latency)]
        args.append("--no-bodies")
        if rpm is not None:
            args += ["--rpm", str(rpm)]
        for kind, p in (faults or {}).items():
            args += ["--fault", f"{kind}={p}"]
        self.args = [*args, *extra_args]
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(self.base_url + "/models", timeout=1).raise_for_status()
                return self
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    output = self.log()[-2000:]
                    self.stop()
                    raise SentiforgeError(f"the test server did not start ({self.args}): {output}") from None
                time.sleep(0.05)

    def stats(self, *, times: bool = False) -> dict[str, Any]:
        params = {"times": "1" if times else "0"}
        data: dict[str, Any] = httpx.get(self.url + "/_stats", params=params, timeout=30).json()
        return data

    def reset(self) -> None:
        httpx.post(self.url + "/_reset", timeout=10).raise_for_status()

    def script(self, *faults: str | Mapping[str, Any]) -> None:
        httpx.post(self.url + "/_script", json={"faults": list(faults)}, timeout=10).raise_for_status()

    def cpu_seconds(self) -> float | None:
        """CPU time the server process used so far (Linux /proc), to tell client from server cost."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log(self) -> str:
        """What the server process wrote to stderr so far."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return str(self._log.read().decode(errors="replace"))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["ServerProcess", "free_port"]
