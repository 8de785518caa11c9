"""The batch API of the loopback test server: ``/v1/files`` and ``/v1/batches``, with faults.

Mounted by :class:`~sentiforge.testing.server.OpenAITestServer` (``server.batches``). A batch
answers its lines in the background with the server's own answer logic, one every
``line_seconds``; its output and error files are JSONL in OpenAI's shapes. Faults, scripted
with :meth:`BatchService.script` and used up as they strike:

- ``fail_lines``: the next N lines processed fail (HTTP 500 in the error file);
- ``garbage_lines``: the next N output lines are written broken (not JSON);
- ``invalid``: the next batch fails at validation (no line is run);
- ``expire_after``: the next batch expires after K lines (the rest go to its error file).

(``POST /_batch_script`` with those keywords as JSON, for a server in another process.)
Every line answered is billed once per body: ``billed_twice()`` lists bodies billed more than
once, what a client that re-submits work would pay twice for.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from sentiforge.testing.faults import error_body, json_response, unauthorized

EXPIRED = {
    "code": "batch_expired",
    "message": "This request could not be executed before the completion window expired.",
}


@dataclass
class BatchScript:
    fail_lines: int = 0
    garbage_lines: int = 0
    invalid: bool = False
    expire_after: int | None = None


def _ok(data: Any) -> Any:
    return json_response(json.dumps(data).encode(), 200)


class ChatServer(Protocol):
    """What the batches need of the server that mounts them (OpenAITestServer)."""

    api_key: str | None

    def answer_body(self, body: dict[str, Any], number: int) -> dict[str, Any]:
        """The chat-completions body the server answers a request body with."""
        ...


class BatchService:
    """Files and batches kept in memory; see the module docstring."""

    def __init__(self, server: ChatServer, *, line_seconds: float = 0.0) -> None:
        self.server = server
        self.line_seconds = line_seconds
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.billed: Counter[str] = Counter()
        self._script = BatchScript()
        self._tasks: set[asyncio.Task[None]] = set()

    def script(
        self, *, fail_lines: int = 0, garbage_lines: int = 0, invalid: bool = False, expire_after: int | None = None
    ) -> None:
        with self._lock:
            self._script = BatchScript(fail_lines, garbage_lines, invalid, expire_after)

    def billed_twice(self) -> list[str]:
        with self._lock:
            return [h for h, n in self.billed.items() if n > 1]

    @property
    def lines_billed(self) -> int:
        with self._lock:
            return sum(self.billed.values())

    def routes(self) -> list[Any]:
        from starlette.routing import Route

        return [
            Route("/v1/files", self._upload, methods=["POST"]),
            Route("/v1/files/{file_id}/content", self._content, methods=["GET"]),
            Route("/v1/batches", self._create, methods=["POST"]),
            Route("/v1/batches", self._list, methods=["GET"]),
            Route("/v1/batches/{batch_id}", self._get, methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", self._cancel, methods=["POST"]),
            Route("/_batch_script", self._script_endpoint, methods=["POST"]),
        ]

    async def _script_endpoint(self, request: Any) -> Any:
        """``script`` for a server in another process: a JSON body of its keyword arguments."""
        self.script(**await request.json())
        return _ok({"ok": True})

    # -- endpoints --------------------------------------------------------------------------
    def _refused(self, request: Any) -> Any:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return unauthorized(given) if self.server.api_key is not None and given != self.server.api_key else None

    async def _upload(self, request: Any) -> Any:
        if (refused := self._refused(request)) is not None:
            return refused
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return json_response(
                error_body("a file is required (multipart field 'file')", "invalid_request_error"), 400
            )
        content = await upload.read()
        return _ok(self._add_file(content, str(form.get("purpose") or ""), upload.filename))

    def _add_file(self, content: bytes, purpose: str, filename: str | None = None) -> dict[str, Any]:
        file_id = f"file-{next(self._ids)}"
        meta = {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                "filename": filename or f"{file_id}.jsonl", "purpose": purpose}  # fmt: skip
        with self._lock:
            self.files[file_id] = meta
            self.contents[file_id] = content
        return meta

    async def _content(self, request: Any) -> Any:
        from starlette.responses import Response

        if (refused := self._refused(request)) is not None:
            return refused
        content = self.contents.get(request.path_params["file_id"])
        if content is None:
            return json_response(error_body("No such File object", "invalid_request_error"), 404)
        return Response(content, 200, media_type="application/jsonl")

    async def _create(self, request: Any) -> Any:
        if (refused := self._refused(request)) is not None:
            return refused
        body = await request.json()
        file_id = body.get("input_file_id")
        if file_id not in self.contents or body.get("endpoint") != "/v1/chat/completions":
            message = "input_file_id must name an uploaded file and endpoint be /v1/chat/completions"
            return json_response(error_body(message, "invalid_request_error"), 400)
        batch_id = f"batch_{next(self._ids)}"
        batch: dict[str, Any] = {
            "id": batch_id, "object": "batch", "endpoint": body["endpoint"], "input_file_id": file_id,
            "completion_window": body.get("completion_window", "24h"), "status": "validating",
            "output_file_id": None, "error_file_id": None, "errors": None, "created_at": int(time.time()),
            "request_counts": {"total": 0, "completed": 0, "failed": 0}, "metadata": body.get("metadata"),
        }  # fmt: skip
        with self._lock:
            self.batches[batch_id] = batch
            script, self._script = self._script, BatchScript(self._script.fail_lines, self._script.garbage_lines)
        task = asyncio.create_task(self._process(batch, self.contents[file_id], script))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return _ok(batch)

    async def _get(self, request: Any) -> Any:
        if (refused := self._refused(request)) is not None:
            return refused
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return json_response(error_body("No such Batch object", "invalid_request_error"), 404)
        return _ok(batch)

    async def _list(self, request: Any) -> Any:
        if (refused := self._refused(request)) is not None:
            return refused
        limit = int(request.query_params.get("limit", 20))
        newest = list(reversed(self.batches.values()))[:limit]
        return _ok({"object": "list", "data": newest, "has_more": False})

    async def _cancel(self, request: Any) -> Any:
        if (refused := self._refused(request)) is not None:
            return refused
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return json_response(error_body("No such Batch object", "invalid_request_error"), 404)
        if batch["status"] in {"validating", "in_progress"}:
            batch["status"] = "cancelling"
        return _ok(batch)

    # -- processing -------------------------------------------------------------------------
    async def _process(self, batch: dict[str, Any], content: bytes, script: BatchScript) -> None:
        lines = [line for line in content.decode("utf-8", "replace").splitlines() if line.strip()]
        batch["request_counts"]["total"] = len(lines)
        if script.invalid:
            batch["errors"] = {"object": "list", "data": [{"code": "invalid_request", "message": "injected fault"}]}
            batch["status"] = "failed"
            return
        batch["status"] = "in_progress"
        output: list[str] = []
        errors: list[str] = []
        for number, raw in enumerate(lines):
            if batch["status"] == "cancelling" or (script.expire_after is not None and number >= script.expire_after):
                line = json.loads(raw)
                errors.append(json.dumps({"id": f"batch_req_{number}", "custom_id": line.get("custom_id"),
                                          "response": None, "error": EXPIRED}))  # fmt: skip
                batch["request_counts"]["failed"] += 1
                continue
            if self.line_seconds:
                await asyncio.sleep(self.line_seconds)
            self._run_line(raw, number, output, errors, batch["request_counts"])
        cancelled = batch["status"] == "cancelling"
        batch["status"] = "finalizing"
        for name, rows in (("output_file_id", output), ("error_file_id", errors)):
            if rows:
                batch[name] = self._add_file("".join(r + "\n" for r in rows).encode(), f"batch_{name[:-8]}")["id"]
        expired = script.expire_after is not None and script.expire_after < len(lines)
        batch["status"] = "cancelled" if cancelled else "expired" if expired else "completed"

    def _run_line(self, raw: str, number: int, output: list[str], errors: list[str], counts: dict[str, int]) -> None:
        line = json.loads(raw)
        custom_id, body = line.get("custom_id"), line.get("body") or {}
        with self._lock:
            fail = self._script.fail_lines > 0
            self._script.fail_lines -= int(fail)
            garbage = not fail and self._script.garbage_lines > 0
            self._script.garbage_lines -= int(garbage)
        if fail:
            counts["failed"] += 1
            answer = {"status_code": 500, "request_id": f"req_{number}", "body": json.loads(error_body(
                "The server had an error processing your request.", "server_error"))}  # fmt: skip
            errors.append(json.dumps({"id": f"batch_req_{number}", "custom_id": custom_id, "response": answer,
                                      "error": None}))  # fmt: skip
            return
        completion = self.server.answer_body(body, number)
        with self._lock:
            self.billed[hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()] += 1
        counts["completed"] += 1
        answer = {"status_code": 200, "request_id": f"req_{number}", "body": completion}
        row = json.dumps({"id": f"batch_req_{number}", "custom_id": custom_id, "error": None, "response": answer})
        output.append(row[: len(row) // 2] if garbage else row)


__all__ = ["BatchService"]
