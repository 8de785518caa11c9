"""The test server's batch API over plain HTTP: files, batches, their faults and billing."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from sentiforge.testing import OpenAITestServer

KEY = "sk-batch-test"
AUTH = {"Authorization": f"Bearer {KEY}"}


def line(n: int) -> dict[str, Any]:
    body = {"model": "m", "messages": [{"role": "user", "content": f"hello {n}"}], "max_tokens": 20}
    return {"custom_id": f"req-{n}", "method": "POST", "url": "/v1/chat/completions", "body": body}


def submit(server: OpenAITestServer, lines: list[dict[str, Any]]) -> dict[str, Any]:
    content = "".join(json.dumps(item) + "\n" for item in lines).encode()
    upload = httpx.post(
        server.base_url + "/files", headers=AUTH, data={"purpose": "batch"}, files={"file": ("in.jsonl", content)}
    )
    assert upload.status_code == 200 and upload.json()["purpose"] == "batch"
    body = {"input_file_id": upload.json()["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    created = httpx.post(server.base_url + "/batches", headers=AUTH, json=body)
    assert created.status_code == 200, created.text
    return dict(created.json())


def finished(server: OpenAITestServer, batch_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        batch = httpx.get(f"{server.base_url}/batches/{batch_id}", headers=AUTH).json()
        if batch["status"] in {"completed", "failed", "expired", "cancelled"}:
            return dict(batch)
        time.sleep(0.01)
    raise AssertionError("the batch did not finish")


def rows(server: OpenAITestServer, file_id: str | None) -> list[str]:
    if file_id is None:
        return []
    return httpx.get(f"{server.base_url}/files/{file_id}/content", headers=AUTH).text.splitlines()


def test_a_batch_answers_every_line_and_bills_it_once() -> None:
    with OpenAITestServer(api_key=KEY) as server:
        batch = finished(server, submit(server, [line(n) for n in range(5)])["id"])
        output = [json.loads(r) for r in rows(server, batch["output_file_id"])]
        listed = httpx.get(server.base_url + "/batches", headers=AUTH, params={"limit": 5}).json()
        refused = httpx.get(f"{server.base_url}/batches/{batch['id']}", headers={"Authorization": "Bearer nope"})
        assert server.batches.lines_billed == 5 and server.batches.billed_twice() == []
        submit(server, [line(0)])  # the same body in a second batch is billed again
        time.sleep(0.2)
        assert server.batches.billed_twice() and server.stats()["batch_lines_billed"] == 6
    assert batch["status"] == "completed" and batch["request_counts"] == {"total": 5, "completed": 5, "failed": 0}
    assert batch["error_file_id"] is None
    assert [o["custom_id"] for o in output] == [f"req-{n}" for n in range(5)]
    assert all(o["response"]["status_code"] == 200 and o["response"]["body"]["choices"] for o in output)
    assert listed["data"][0]["id"] == batch["id"]
    assert refused.status_code == 401


def test_scripted_line_failures_expiry_and_garbage() -> None:
    with OpenAITestServer() as server:
        httpx.post(server.url + "/_batch_script", json={"fail_lines": 1, "garbage_lines": 1, "expire_after": 4})
        batch = finished(server, submit(server, [line(n) for n in range(6)])["id"])
        output, errors = rows(server, batch["output_file_id"]), rows(server, batch["error_file_id"])
        again = finished(server, submit(server, [line(n) for n in range(2)])["id"])  # expiry was for one batch
    assert batch["status"] == "expired" and batch["request_counts"] == {"total": 6, "completed": 3, "failed": 3}
    assert len(output) == 3 and not output[0].endswith("}")  # the first answer is cut in half
    parsed = [json.loads(e) for e in errors]
    assert parsed[0]["response"]["status_code"] == 500
    assert [e["error"]["code"] for e in parsed[1:]] == ["batch_expired", "batch_expired"]
    assert again["status"] == "completed"


def test_validation_failure_and_cancel() -> None:
    with OpenAITestServer(batch_line_seconds=0.05) as server:
        server.batches.script(invalid=True)
        failed = finished(server, submit(server, [line(0)])["id"])
        running = submit(server, [line(n) for n in range(40)])
        time.sleep(0.2)
        httpx.post(f"{server.base_url}/batches/{running['id']}/cancel")
        cancelled = finished(server, running["id"])
        missing = httpx.get(server.base_url + "/batches/batch_999")
    assert failed["status"] == "failed" and failed["errors"]["data"][0]["message"] == "injected fault"
    assert cancelled["status"] == "cancelled"
    assert 0 < cancelled["request_counts"]["completed"] < 40
    assert cancelled["request_counts"]["completed"] + cancelled["request_counts"]["failed"] == 40
    assert missing.status_code == 404
