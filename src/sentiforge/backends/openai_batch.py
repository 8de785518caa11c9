"""OpenAI's batch API over HTTP: upload a JSONL file of requests, create a batch, poll it,
download its output and error files.

Half the price of the same requests sent one by one, answered within a completion window
(24 h) instead of at once. This module is the provider side only: the lines it sends and the
outcomes it reads back. Which requests go into a batch, and what happens to the answers, is
:mod:`sentiforge.engine.batching`'s business; the backend opens this API (``open_batches``,
:class:`~sentiforge.backends.base.BatchBackend`).

Shapes (https://platform.openai.com/docs/guides/batch): an input line is
``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``; an output or
error line is ``{"custom_id", "response": {"status_code", "body"} | null, "error": {"code",
"message"} | null}``. A batch is ``validating``, ``in_progress``, ``finalizing``, then one of
``completed``, ``failed``, ``expired``, ``cancelled``; an expired batch returns the lines it
finished in its output file and the others in its error file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from sentiforge.errors import PermanentBackendError, TransientBackendError

log = logging.getLogger(__name__)

ENDPOINT = "/v1/chat/completions"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_TRANSIENT = {408, 409, 425, 429}
# OpenAI's limits on one batch's input file: 50,000 requests, 200 MB (some margin kept)
MAX_LINES = 50_000
MAX_BYTES = 190_000_000
POLL_FAILURES = 20  # looks at a batch failing in a row (each after its own retries) before giving up
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class LineOutcome:
    """One request line of a finished batch: its answer body, or why it has none."""

    custom_id: str
    body: dict[str, Any] | None = None
    error: str | None = None


def request_line(custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}


def chunks(lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Request lines cut into batches within the provider's limits (MAX_LINES, MAX_BYTES)."""
    out: list[list[dict[str, Any]]] = [[]]
    size = 0
    for line in lines:
        length = len(json.dumps(line, ensure_ascii=False).encode("utf-8")) + 1
        if out[-1] and (len(out[-1]) >= MAX_LINES or size + length > MAX_BYTES):
            out.append([])
            size = 0
        out[-1].append(line)
        size += length
    return [chunk for chunk in out if chunk]


def parse_lines(text: str, source: str) -> tuple[list[LineOutcome], list[str]]:
    """The outcomes in an output or error file, and one message per line that is not a valid
    outcome (not JSON, no custom_id): a broken line costs that line only."""
    outcomes: list[LineOutcome] = []
    problems: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):  # not splitlines(): U+2028 stays in a JSON string
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            problems.append(f"{source} line {number} is not JSON: {raw[:120]!r}")
            continue
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        if not isinstance(custom_id, str):
            problems.append(f"{source} line {number} has no custom_id: {raw[:120]!r}")
            continue
        outcomes.append(_outcome(custom_id, data))
    return outcomes, problems


def _outcome(custom_id: str, data: dict[str, Any]) -> LineOutcome:
    response = data.get("response") if isinstance(data.get("response"), dict) else None
    error = data.get("error")
    if response is not None and response.get("status_code") == 200 and isinstance(response.get("body"), dict):
        return LineOutcome(custom_id, body=response["body"])
    if isinstance(error, dict):
        return LineOutcome(custom_id, error=f"{error.get('code') or 'error'}: {error.get('message') or ''}".strip())
    if response is not None:
        body = response.get("body")
        inner = body.get("error") if isinstance(body, dict) else None
        message = inner.get("message") if isinstance(inner, dict) else body
        return LineOutcome(custom_id, error=f"HTTP {response.get('status_code')}: {str(message)[:200]}")
    return LineOutcome(custom_id, error="no response and no error given")


class BatchAPI:
    """The files and batches endpoints of one OpenAI-compatible provider."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key_env: str,
        timeout: float = 60.0,
        attempts: int = 5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.attempts = attempts
        self._sleep = sleep
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout))

    async def aclose(self) -> None:
        await self._client.aclose()

    def chunks(self, lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """Request lines cut into batches within this provider's file limits."""
        return chunks(lines)

    # -- calls ------------------------------------------------------------------------------
    async def upload(self, lines: list[dict[str, Any]]) -> str:
        """Upload request lines as a JSONL file (purpose "batch"); its file id."""
        content = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
        files = {"file": ("sentiforge-batch.jsonl", content, "application/jsonl")}
        data = await self._retrying(lambda: self._call("POST", "/files", data={"purpose": "batch"}, files=files))
        return str(data["id"])

    async def create(self, input_file_id: str, metadata: dict[str, str]) -> dict[str, Any]:
        """Create a batch of an uploaded file. A call that fails in transit may still have
        created it, so before creating again, look for a batch of the same file."""
        body = {"input_file_id": input_file_id, "endpoint": ENDPOINT, "completion_window": "24h", "metadata": metadata}
        for attempt in range(self.attempts):
            try:
                return await self._call("POST", "/batches", json=body)
            except TransientBackendError:
                if attempt + 1 >= self.attempts:
                    raise
                await self._sleep(0.5 * 2**attempt)
            found = await self._retrying(lambda: self.find(input_file_id))
            if found is not None:
                return found
        raise TransientBackendError(f"{self.base_url} could not create a batch")  # pragma: no cover (loop returns)

    async def get(self, batch_id: str) -> dict[str, Any]:
        return await self._retrying(lambda: self._call("GET", f"/batches/{batch_id}"))

    async def cancel(self, batch_id: str) -> dict[str, Any]:
        return await self._retrying(lambda: self._call("POST", f"/batches/{batch_id}/cancel"))

    async def find(self, input_file_id: str) -> dict[str, Any] | None:
        """The newest batch made of this input file, if any (the last 100 batches are looked at)."""
        data = await self._call("GET", "/batches", params={"limit": 100})
        for batch in data.get("data") or []:
            if isinstance(batch, dict) and batch.get("input_file_id") == input_file_id:
                return batch
        return None

    async def content(self, file_id: str) -> str:
        return await self._retrying(lambda: self._text(f"/files/{file_id}/content"))

    async def wait(self, batch_id: str, *, longest: float, stopped: Callable[[], bool]) -> dict[str, Any] | None:
        """Poll until the batch ends (its last state), or None once ``stopped()`` says so.
        Waits grow from one second (or ``longest`` if shorter) to ``longest``."""
        delay = min(1.0, longest)
        failures = 0
        while True:
            try:
                batch = await self.get(batch_id)
                failures = 0
            except TransientBackendError as exc:  # a provider blip must not end a day-long wait
                failures += 1
                if failures >= POLL_FAILURES:
                    raise
                log.warning("batch %s: could not look at it (%s); trying again", batch_id, exc)
                batch = {}
            if batch.get("status") in TERMINAL:
                return batch
            log.info("batch %s is %s (%s)", batch_id, batch.get("status"), batch.get("request_counts"))
            slept = 0.0
            while slept < delay:  # in short naps, to see a cancel soon
                if stopped():
                    return None
                nap = min(0.2, delay - slept)
                await self._sleep(nap)
                slept += nap
            delay = min(longest, delay * 2)

    async def outcomes(self, batch: dict[str, Any]) -> tuple[list[LineOutcome], list[str]]:
        """Every line outcome in a finished batch's output and error files, and the broken lines."""
        outcomes: list[LineOutcome] = []
        problems: list[str] = []
        for field in ("output_file_id", "error_file_id"):
            file_id = batch.get(field)
            if file_id:
                lines, bad = parse_lines(await self.content(str(file_id)), f"batch {batch.get('id')} {field}")
                outcomes += lines
                problems += bad
        return outcomes, problems

    # -- HTTP -------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env, "").strip()
        return {"Authorization": f"Bearer {key}"} if key else {}

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(self.attempts):
            try:
                return await call()
            except TransientBackendError:
                if attempt + 1 >= self.attempts:
                    raise
                await self._sleep(0.5 * 2**attempt)
        raise TransientBackendError(f"{self.base_url} kept failing")  # pragma: no cover (the loop raises)

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.base_url + path
        try:
            response = await self._client.request(method, url, headers=self._headers(), **kwargs)
        except httpx.HTTPError as exc:
            raise TransientBackendError(f"{method} {url} failed: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status == 200:
            return response
        detail = " ".join(response.text.split())[:300]
        key = os.environ.get(self.api_key_env, "").strip()
        if key:
            detail = detail.replace(key, "***")
        if status >= 500 or status in _TRANSIENT:
            raise TransientBackendError(f"{method} {url} answered HTTP {status} (will retry): {detail}")
        raise PermanentBackendError(
            f"{method} {url} answered HTTP {status}: {detail}. Does this provider have the batch API "
            f"(/v1/files, /v1/batches) and may the key in {self.api_key_env} use it?"
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._send(method, path, **kwargs)
        try:
            data = response.json()
        except ValueError as exc:
            raise TransientBackendError(f"{method} {path} answered a body that is not JSON") from exc
        if not isinstance(data, dict):
            raise TransientBackendError(f"{method} {path} answered JSON that is not an object")
        return data

    async def _text(self, path: str) -> str:
        return (await self._send("GET", path)).text


__all__ = [
    "ENDPOINT",
    "MAX_BYTES",
    "MAX_LINES",
    "TERMINAL",
    "BatchAPI",
    "LineOutcome",
    "chunks",
    "parse_lines",
    "request_line",
]
