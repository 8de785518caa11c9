"""llama.cpp's own server (``llama-server``) as a child process: the embedded engine.

Why a server process rather than llama.cpp driven from Python: llama-server batches the
requests in flight in C (parallel slots, continuous batching), keeps each slot's prompt in
its KV cache and picks the slot with the longest common prefix (the shared instructions of a
step are evaluated once, not per request), and samples, applies grammars and JSON schemas in
C. The Python-driven batched decoder it replaces reached 0.40 of ``llama-batched-bench``'s
tokens/s on the same machine (benchmarks/embedded).

Lifecycle, one server per process and settings (model file, context, threads, slots):
started on first use on a free loopback port, ready when ``/health`` answers 200, started
again when it died (a crash, an OOM kill), stopped at exit, and killed by the kernel when
this process dies (``PR_SET_PDEATHSIG``), so a SIGKILLed job never leaves a model in RAM.
Two sentiforge processes on one machine each own a server (each holds the model in RAM);
to share one, start ``llama-server`` yourself and use the ``openai`` backend with its URL.

The binary is built from the llama.cpp sources vendored in the pinned llama-cpp-python sdist
by ``scripts/build_llama_server.sh`` (CUDA where the machine has a GPU) and installed next to
the virtualenv's Python; a ``llama-server`` on PATH is used otherwise.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from sentiforge.errors import ConfigError, TransientBackendError

BUILD_HINT = "build it with: bash scripts/build_llama_server.sh (about 8 minutes on 2 cores)"
LOG_TAIL = 1500  # characters of the server's log quoted when it fails


def find_binary() -> Path:
    """The llama-server next to this Python (the install script puts it there), else on PATH."""
    beside = Path(sys.executable).parent / "llama-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("llama-server")
    if found:
        return Path(found)
    raise ConfigError(f"the embedded backend needs llama.cpp's llama-server, which was not found; {BUILD_HINT}")


@dataclass(frozen=True)
class ServerConfig:
    """What makes two servers different: the model, the context, the threads, the slots."""

    model: Path
    n_ctx: int = 4096  # tokens a slot may hold (the server's context is n_ctx x parallel, shared)
    threads: int = 2
    parallel: int = 4
    chat_template: str | None = None  # a built-in template name, for files without one

    def command(self, binary: Path, port: int) -> list[str]:
        args = [
            str(binary),
            "--model", str(self.model),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--threads", str(self.threads),
            "--threads-batch", str(self.threads),
            "--ctx-size", str(self.n_ctx * self.parallel),
            "--parallel", str(self.parallel),
            "--kv-unified",  # one KV buffer shared by the slots: a long prompt may use what others leave
            "--cont-batching",
            "--no-webui",
            "--metrics",  # /metrics: prompt tokens evaluated and tokens generated (benchmarks/embedded)
        ]  # fmt: skip
        if self.chat_template:
            args += ["--chat-template", self.chat_template]
        return args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask the kernel to SIGTERM the server when the process that started it dies."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _popen(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )


# PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process: a
# server started from asyncio.to_thread would be killed when that pool's thread exits (at the
# end of every asyncio.run). Every server is started from this one thread, which lives as long
# as the process.
_SPAWNER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentiforge-llama-spawner")


class LlamaServer:
    """One llama-server child process; thread-safe ``ensure()`` (re)starts it when needed."""

    def __init__(self, config: ServerConfig, *, binary: Path | None = None, startup_timeout: float = 300.0) -> None:
        self.config = config
        self.binary = binary  # None: found at the first start (find_binary)
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0  # how many times a process was started (restarts after a death count)
        self._lock = threading.Lock()
        self._log = Path(tempfile.gettempdir()) / f"sentiforge-llama-server-{os.getpid()}-{id(self):x}.log"

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (``.../v1``) of the running server."""
        if self.port is None:
            raise TransientBackendError("llama-server is not running")
        return f"http://127.0.0.1:{self.port}/v1"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ensure(self) -> str:
        """Start the server unless it runs; its base URL."""
        with self._lock:
            if not self.alive():
                self._start()
            return self.url

    def _start(self) -> None:
        """Start a process and wait until it serves; a port lost to another process between
        choosing and binding it gets a second try on a new port."""
        last: Exception | None = None
        for _ in range(3):
            port = self.port if self.port is not None and self.starts else _free_port()
            try:
                self._spawn(port)
                return
            except TransientBackendError as exc:
                last = exc
                self.port = None  # the next try takes a fresh port
        # three starts on three ports failed: the model or the binary is at fault, not a port
        raise ConfigError(f"llama-server could not start (3 tries): {last}") from last

    def _spawn(self, port: int) -> None:
        self._reap()
        command = self.config.command(self.binary or find_binary(), port)
        self.process = _SPAWNER.submit(_popen, command, self._log).result()
        self.port = port
        self.starts += 1
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TransientBackendError(
                    f"llama-server exited with code {self.process.returncode} while starting on "
                    f"{self.config.model.name}: {self.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2.0).status_code == 200:
                    return
            time.sleep(0.2)
        self._reap()
        raise ConfigError(
            f"llama-server did not become ready within {self.startup_timeout:g}s "
            f"(model {self.config.model}): {self.log_tail()}"
        )

    def log_tail(self) -> str:
        try:
            text = self._log.read_text(errors="replace")
        except OSError:
            return "<no log>"
        return " ".join(text[-LOG_TAIL:].split()) or "<empty log>"

    def _reap(self) -> None:
        """Stop the current process, if any (SIGTERM, then SIGKILL after 10 s)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def stop(self) -> None:
        with self._lock:
            self._reap()
        with contextlib.suppress(OSError):
            self._log.unlink()


_SERVERS: dict[ServerConfig, LlamaServer] = {}
_SERVERS_LOCK = threading.Lock()


def shared_server(config: ServerConfig) -> LlamaServer:
    """The process's server for these settings (made on first use, started by ``ensure``)."""
    with _SERVERS_LOCK:
        server = _SERVERS.get(config)
        if server is None:
            server = _SERVERS[config] = LlamaServer(config)
        return server


def stop_servers() -> None:
    """Stop every server this process started (also at exit)."""
    with _SERVERS_LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for server in servers:
        server.stop()


atexit.register(stop_servers)

__all__ = ["LlamaServer", "ServerConfig", "find_binary", "shared_server", "stop_servers"]
