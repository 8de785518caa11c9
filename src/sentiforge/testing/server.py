"""A real OpenAI-compatible HTTP server with fault injection, for tests and benchmarks.

Like httpx's MockTransport it ships in the library, so users can test their own recipes
against it: start it in-process (a background thread on 127.0.0.1, random port)::

    with OpenAITestServer(latency=0.05, faults={"rate_limit": 0.2}) as server:
        recipe.backend = BackendSpec(kind="openai", base_url=server.base_url, model="test")

or in its own process: ``python -m sentiforge.testing.server --port 8199 --latency 0.1``.

Valid answers fill the request's JSON schema deterministically with the fake backend's
logic. Faults come from a scripted queue first (``script("server_error", "timeout")``),
then from a server-enforced requests/min limit, then at random with the given (seeded)
probabilities. Every request is recorded (body hash, outcome, timing) with the maximum
number in flight, so tests can assert "nothing answered twice" and concurrency bounds.
Admin endpoints for out-of-process use: ``GET /_stats``, ``POST /_reset``, ``POST /_script``.
The batch API (``/v1/files``, ``/v1/batches``, with its own faults) is ``server.batches``
(:mod:`sentiforge.testing.batches`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import random
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from typing import Any

from sentiforge.backends.base import ChatRequest, Message, estimate_tokens
from sentiforge.backends.openai_compat import schema_from_response_format
from sentiforge.backends.ratelimit import TokenBucket
from sentiforge.errors import ConfigError, SentiforgeError, require
from sentiforge.testing.backend import FakeBackend
from sentiforge.testing.batches import BatchService
from sentiforge.testing.faults import (
    FAULTS,
    LOW_HEADERS,
    Fault,
    RecordedRequest,
    Truncated,
    error_body,
    format_duration,
    json_response,
    merge_headers,
    quiet_uvicorn,
    unauthorized,
)


class OpenAITestServer:
    """An OpenAI-compatible server that misbehaves on request. See the module docstring."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        faults: Mapping[str, float] | None = None,
        rpm_limit: float | None = None,
        rpm_burst_seconds: float = 1.0,
        limit_headers: bool = True,
        retry_after: float = 1.0,
        hang: float = 30.0,
        seed: int = 0,
        model: str = "sentiforge-test",
        json_modes: Iterable[str] = ("json_schema", "json_object"),
        record_bodies: bool = True,
        distinct_texts: int | None = None,
        api_key: str | None = None,
        batch_line_seconds: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.latency = latency
        self.faults = dict(faults or {})
        unknown = set(self.faults) - set(FAULTS)
        if unknown or sum(self.faults.values()) > 1.0 or any(p < 0 for p in self.faults.values()):
            raise ConfigError(f"fault probabilities must name faults in {list(FAULTS)} and add up to at most 1")
        self.retry_after = retry_after
        self.hang = hang
        self.model = model
        self.json_modes = set(json_modes)
        self.record_bodies = record_bodies
        self.api_key = api_key  # when set, other keys get a 401 (which echoes the key, as some servers do)
        self.host, self.port = host, port
        self.rpm_limit = rpm_limit
        self.limit_headers = limit_headers  # False: the limit is undisclosed, only 429s tell it
        self._rpm_burst = max(1.0, (rpm_limit or 0) / 60.0 * rpm_burst_seconds)
        self._seed = seed
        self._fake = FakeBackend(model=model, seed=seed, distinct_texts=distinct_texts)  # repeats: a text pool
        self._lock = threading.Lock()
        self.reset()
        # /v1/files and /v1/batches (testing/batches.py): batches answer a line every batch_line_seconds
        self.batches = BatchService(self, line_seconds=batch_line_seconds)
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self.app = self._build_app()

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget recorded requests, scripted faults and the rate-limit state."""
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self.in_flight = getattr(self, "in_flight", 0)  # requests still running finish normally
            self.max_in_flight = self.in_flight
            self._script: deque[Fault] = deque()
            self._rng = random.Random(self._seed)
            now = time.monotonic()
            self._bucket = TokenBucket(self.rpm_limit / 60.0, self._rpm_burst, now=now) if self.rpm_limit else None

    def script(self, *faults: str | Fault) -> None:
        """Answer the next requests with these faults, in order (before any random fault)."""
        items = [f if isinstance(f, Fault) else Fault(f) for f in faults]
        with self._lock:
            self._script.extend(items)

    @property
    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(r.outcome for r in self.requests)

    def answered_twice(self) -> list[str]:
        """Body hashes that got a valid answer more than once (work the client paid twice for)."""
        with self._lock:
            ok = Counter(r.body_hash for r in self.requests if r.outcome in {"ok", "low_headers", "empty"})
        return [h for h, n in ok.items() if n > 1]

    def stats(self, *, times: bool = False) -> dict[str, Any]:
        with self._lock:
            reqs = list(self.requests)
            data: dict[str, Any] = {
                "requests": len(reqs),
                "outcomes": dict(Counter(r.outcome for r in reqs)),
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
            }
        data["answered_twice"] = len(self.answered_twice())
        data["batch_lines_billed"] = self.batches.lines_billed
        data["batch_lines_billed_twice"] = len(self.batches.billed_twice())
        if times:
            data["times"] = [[r.started, r.finished, r.outcome] for r in reqs]
        return data

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def _config(self, loop: str) -> Any:
        uvicorn: Any = require("uvicorn", feature="the OpenAI test server", extra="testing")
        quiet_uvicorn()
        return uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop=loop,
            timeout_graceful_shutdown=1,
            backlog=4096,
            timeout_keep_alive=30,
        )

    def start(self) -> OpenAITestServer:
        """Serve on a background thread; returns once the server accepts connections."""
        uvicorn: Any = require("uvicorn", feature="the OpenAI test server", extra="testing")
        # proto must say TCP, or asyncio skips TCP_NODELAY and every answer waits ~40 ms (Nagle)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(self._config("asyncio"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="openai-test-server"
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise SentiforgeError("the OpenAI test server did not start within its timeout; is loopback usable?")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        if self._loop is not None and self._closing is not None:
            self._loop.call_soon_threadsafe(self._closing.set)
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None

    def serve_forever(self) -> None:
        """Serve in the foreground (the CLI); uvicorn handles Ctrl-C and SIGTERM."""
        uvicorn: Any = require("uvicorn", feature="the OpenAI test server", extra="testing")
        config = self._config("auto")
        config.host, config.port = self.host, self.port
        uvicorn.Server(config).run()

    def __enter__(self) -> OpenAITestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the app ----------------------------------------------------------------------------
    def _build_app(self) -> Any:
        require("starlette", feature="the OpenAI test server", extra="testing")
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                *self.batches.routes(),
                Route("/_stats", self._stats, methods=["GET"]),
                Route("/_reset", self._reset, methods=["POST"]),
                Route("/_script", self._script_endpoint, methods=["POST"]),
            ]
        )

    async def _models(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        model = {"id": self.model, "object": "model", "owned_by": "sentiforge"}
        return JSONResponse({"object": "list", "data": [model]})

    async def _stats(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse(self.stats(times=request.query_params.get("times") == "1"))

    async def _reset(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        self.reset()
        return JSONResponse({"ok": True})

    async def _script_endpoint(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        data = await request.json()
        self.script(*[Fault(**f) if isinstance(f, dict) else Fault(f) for f in data.get("faults", [])])
        return JSONResponse({"ok": True})

    async def _chat(self, request: Any) -> Any:
        if self._closing is None:
            self._loop, self._closing = asyncio.get_running_loop(), asyncio.Event()
        raw = await request.body()
        with self._lock:
            digest = hashlib.sha256(raw).hexdigest()
            record = RecordedRequest(len(self.requests), None, digest, started=time.monotonic())
            self.requests.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await self._answer(raw, record, request.receive, request.headers.get("authorization", ""))
            record.status = response.status_code
            return response
        finally:
            record.finished = time.monotonic()
            with self._lock:
                self.in_flight -= 1

    def _decide(self) -> tuple[str, Fault | None, float]:
        """Scripted fault, else the rpm limit, else a random fault, else ok."""
        with self._lock:
            if self._script:
                fault = self._script.popleft()
                return fault.kind, fault, 0.0
            if self._bucket is not None:
                wait = self._bucket.try_take(1, time.monotonic())
                if wait > 0:
                    return "rpm_limited", None, wait
            draw = self._rng.random()
        for kind, p in self.faults.items():
            if draw < p:
                return kind, Fault(kind), 0.0
            draw -= p
        return "ok", None, 0.0

    async def _answer(self, raw: bytes, record: RecordedRequest, receive: Any, auth: str) -> Any:

        given = auth.removeprefix("Bearer ").strip()
        if self.api_key is not None and given != self.api_key:
            record.outcome = "unauthorized"
            return unauthorized(given)
        try:
            body = json.loads(raw)
            chat = self._chat_request(body)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            record.outcome = "bad_request"
            return json_response(error_body(f"invalid request: {exc}", "invalid_request_error"), 400)
        if self.record_bodies:
            record.body = body
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") not in self.json_modes | {"text"}:
            record.outcome = "bad_request"
            message = f"response_format.type {fmt.get('type')!r} is not supported; use one of {sorted(self.json_modes)}"
            return json_response(error_body(message, "invalid_request_error"), 422)
        kind, fault, wait = self._decide()
        record.outcome = kind
        if kind in {"rate_limit", "rate_limit_bare", "rpm_limited"}:
            return self._rate_limited(kind, fault, wait)
        if kind == "unauthorized":
            return unauthorized(given)
        if kind == "bad_request":
            message = "Invalid value for 'messages'. (injected fault)"
            return json_response(error_body(message, "invalid_request_error"), 400)
        if kind == "timeout":
            await self._hang(receive)
        elif self.latency:
            await asyncio.sleep(self.latency)
        return self._respond(kind, fault, chat, record.number)

    def _chat_request(self, body: dict[str, Any]) -> ChatRequest:
        def content(value: Any) -> str:
            if isinstance(value, list):  # content parts
                return "".join(p.get("text", "") for p in value if isinstance(p, dict))
            return str(value)

        roles = {"system", "user", "assistant"}
        messages = tuple(
            Message(role=m["role"] if m.get("role") in roles else "user", content=content(m.get("content", "")))
            for m in body["messages"]
        )
        stop = body.get("stop") or ()
        return ChatRequest(
            messages=messages,
            temperature=body.get("temperature", 1.0) if body.get("temperature") is not None else 1.0,
            top_p=body.get("top_p") or 1.0,
            max_tokens=body.get("max_tokens") or body.get("max_completion_tokens") or 256,
            seed=body.get("seed"),
            stop=(stop,) if isinstance(stop, str) else tuple(stop),
            json_schema=schema_from_response_format(body.get("response_format")),
        )

    async def _hang(self, receive: Any) -> None:
        """Wait ``hang`` seconds, or until the client disconnects or the server stops."""
        assert self._closing is not None
        waiters = [asyncio.ensure_future(self._closing.wait()), asyncio.ensure_future(receive())]
        try:
            await asyncio.wait(waiters, timeout=self.hang, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    def _limit_headers(self) -> dict[str, str]:
        if self._bucket is None or self.rpm_limit is None or not self.limit_headers:
            return {}
        with self._lock:
            self._bucket.try_take(0, time.monotonic())
            tokens = self._bucket.tokens
        return {
            "x-ratelimit-limit-requests": f"{self.rpm_limit:g}",
            "x-ratelimit-remaining-requests": str(max(0, int(tokens))),
            "x-ratelimit-reset-requests": format_duration((self._bucket.capacity - tokens) / self._bucket.rate),
        }

    def _rate_limited(self, kind: str, fault: Fault | None, wait: float) -> Any:

        headers = self._limit_headers()
        if kind != "rate_limit_bare":
            seconds = self.retry_after
            if kind == "rpm_limited":
                seconds = wait
            elif fault is not None and fault.retry_after is not None:
                seconds = fault.retry_after
            headers["retry-after"] = str(math.ceil(seconds))  # whole seconds, as HTTP says
            headers["retry-after-ms"] = str(round(seconds * 1000))
            if kind == "rpm_limited" and self.limit_headers:
                headers["x-ratelimit-remaining-requests"] = "0"
        if fault is not None:
            merge_headers(headers, fault.headers)
        message = "Rate limit reached for requests. Please try again later."
        return json_response(error_body(message, "requests", "rate_limit_exceeded"), 429, headers)

    def _respond(self, kind: str, fault: Fault | None, chat: ChatRequest, number: int) -> Any:
        from starlette.responses import Response

        headers = self._limit_headers()
        if kind == "server_error":
            return json_response(
                error_body("The server had an error processing your request.", "server_error"), 500, headers
            )
        if kind == "not_json":
            return Response(b"<html><body><h1>502 Bad Gateway</h1></body></html>", 200, headers, media_type="text/html")
        if kind == "no_choices":
            empty = {"id": f"chatcmpl-{number}", "object": "chat.completion", "choices": []}
            return json_response(json.dumps(empty).encode(), 200, headers)
        if kind == "low_headers":
            headers.update(LOW_HEADERS)
        if fault is not None:
            merge_headers(headers, fault.headers)
        text = "" if kind == "empty" else self._fake.default_answer(chat)
        payload = json.dumps(self._completion(chat, text, number)).encode()
        if kind == "truncated":
            return Truncated(payload, headers)
        return json_response(payload, 200, headers)

    def answer_body(self, body: dict[str, Any], number: int) -> dict[str, Any]:
        """The chat-completions body this server answers a request body with (a batch line's too)."""
        chat = self._chat_request(body)
        return self._completion(chat, self._fake.default_answer(chat), number)

    def _completion(self, chat: ChatRequest, text: str, number: int) -> dict[str, Any]:
        prompt, completion = estimate_tokens(chat.prompt_chars()), estimate_tokens(len(text)) if text else 0
        message = {"role": "assistant", "content": text}
        return {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sentiforge.testing.server",
        description="An OpenAI-compatible server with fault injection, for tests and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--rpm", type=float, default=None, help="requests/min the server enforces with 429s")
    parser.add_argument("--rpm-burst-seconds", type=float, default=1.0, help="seconds of the rpm limit allowed at once")
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After of injected 429s, seconds")
    parser.add_argument("--hang", type=float, default=30.0, help="how long a 'timeout' fault hangs, seconds")
    parser.add_argument(
        "--fault", action="append", default=[], metavar="KIND=P", help=f"fault probability; KIND in {', '.join(FAULTS)}"
    )
    parser.add_argument("--batch-line-seconds", type=float, default=0.0, help="seconds a batch takes per line")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="sentiforge-test")
    parser.add_argument("--no-bodies", action="store_true", help="record only body hashes (long runs)")
    parser.add_argument(
        "--no-limit-headers", action="store_true", help="keep the rpm limit undisclosed (no x-ratelimit-* headers)"
    )
    args = parser.parse_args(argv)
    faults = {}
    for item in args.fault:
        kind, _, p = item.partition("=")
        faults[kind] = float(p)
    server = OpenAITestServer(
        latency=args.latency,
        faults=faults,
        rpm_limit=args.rpm,
        rpm_burst_seconds=args.rpm_burst_seconds,
        retry_after=args.retry_after,
        hang=args.hang,
        seed=args.seed,
        model=args.model,
        record_bodies=not args.no_bodies,
        limit_headers=not args.no_limit_headers,
        batch_line_seconds=args.batch_line_seconds,
        host=args.host,
        port=args.port,
    )
    print(f"sentiforge test server on {server.base_url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
