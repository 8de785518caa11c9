"""The shipped OpenAI-compatible test server: endpoints, faults, limits, records, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest

from sentiforge.errors import ConfigError
from sentiforge.testing import FAULTS, Fault, OpenAITestServer, ServerProcess
from sentiforge.testing.faults import format_duration

BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 20}
SCORE = {"type": "integer", "minimum": 1, "maximum": 5}
SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}, "score": SCORE}}


def post(server: OpenAITestServer, body: dict[str, object] | None = None, timeout: float = 5) -> httpx.Response:
    return httpx.post(server.base_url + "/chat/completions", json=body or BODY, timeout=timeout)


def test_models_and_a_schema_filled_answer() -> None:
    with OpenAITestServer(model="tiny") as server:
        models = httpx.get(server.base_url + "/models").json()
        body = {**BODY, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}}}
        first, again = post(server, body).json(), post(server, body).json()
    assert models["data"][0]["id"] == "tiny"
    answer = json.loads(first["choices"][0]["message"]["content"])
    assert set(answer) == {"text", "score"} and 1 <= answer["score"] <= 5
    assert first["choices"][0]["message"]["content"] == again["choices"][0]["message"]["content"]  # deterministic
    assert first["usage"]["total_tokens"] == first["usage"]["prompt_tokens"] + first["usage"]["completion_tokens"]


def test_json_object_style_schema_is_filled_too() -> None:
    with OpenAITestServer() as server:
        body = {**BODY, "response_format": {"type": "json_object", "schema": SCHEMA}}
        content = post(server, body).json()["choices"][0]["message"]["content"]
    assert set(json.loads(content)) == {"text", "score"}


def test_scripted_faults_come_first_and_in_order() -> None:
    with OpenAITestServer(retry_after=2) as server:
        server.script("server_error", Fault("rate_limit"), "rate_limit_bare", "empty", "low_headers")
        server.script("unauthorized", "bad_request")
        answers = [post(server) for _ in range(8)]
    assert [r.status_code for r in answers] == [500, 429, 429, 200, 200, 401, 400, 200]
    assert answers[1].headers["retry-after"] == "2" and answers[1].headers["retry-after-ms"] == "2000"
    assert "retry-after" not in answers[2].headers
    assert answers[3].json()["choices"][0]["message"]["content"] == ""
    assert answers[4].headers["x-ratelimit-remaining-requests"] == "0"
    assert [r.outcome for r in server.requests][:3] == ["server_error", "rate_limit", "rate_limit_bare"]


def test_broken_bodies() -> None:
    with OpenAITestServer() as server:
        server.script("not_json", "no_choices", "truncated")
        html, no_choices = post(server), post(server)
        with pytest.raises(httpx.RemoteProtocolError):
            post(server)
    assert html.status_code == 200 and html.text.startswith("<html>")
    assert no_choices.json()["choices"] == []


def test_random_faults_follow_the_seeded_probabilities() -> None:
    def outcomes(seed: int) -> list[str]:
        with OpenAITestServer(faults={"server_error": 0.3, "empty": 0.1}, seed=seed) as server:
            with httpx.Client() as client:
                for i in range(300):
                    client.post(server.base_url + "/chat/completions", json={**BODY, "seed": i})
            return [r.outcome for r in server.requests]

    first = outcomes(1)
    counts = Counter(first)
    assert 60 <= counts["server_error"] <= 120 and 15 <= counts["empty"] <= 45
    assert first == outcomes(1) and first != outcomes(2)


def test_timeout_fault_ends_when_the_client_leaves() -> None:
    with OpenAITestServer(hang=30) as server:
        server.script("timeout")
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            post(server, timeout=0.3)
        deadline = time.monotonic() + 3
        while server.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.in_flight == 0
        server.script("timeout")
    assert time.monotonic() - started < 5  # neither the hang nor stop() waited 30 s


def test_rpm_limit_answers_429_with_its_headers() -> None:
    with OpenAITestServer(rpm_limit=60, rpm_burst_seconds=1) as server:  # one a second, no burst
        ok, refused = post(server), post(server)
    assert ok.status_code == 200 and refused.status_code == 429
    assert ok.headers["x-ratelimit-limit-requests"] == "60" and ok.headers["x-ratelimit-remaining-requests"] == "0"
    # one second to the next token, less the time between the two requests
    assert 500 <= int(refused.headers["retry-after-ms"]) <= 1000 and refused.headers["retry-after"] == "1"
    assert server.counts == Counter({"ok": 1, "rpm_limited": 1})


def test_records_and_admin_endpoints() -> None:
    with OpenAITestServer() as server:
        post(server), post(server)
        httpx.post(server.url + "/_script", json={"faults": ["server_error", {"kind": "rate_limit", "retry_after": 3}]})
        assert post(server).status_code == 500 and post(server).headers["retry-after"] == "3"
        stats = httpx.get(server.url + "/_stats").json()
        httpx.post(server.url + "/_reset")
        assert server.requests == []
    assert stats["requests"] == 4 and stats["outcomes"] == {"ok": 2, "server_error": 1, "rate_limit": 1}
    assert stats["answered_twice"] == 1 and stats["max_in_flight"] == 1  # the same body answered twice


def test_invalid_requests_get_400() -> None:
    with OpenAITestServer() as server:
        bad = [post(server, {"messages": "nope"}), post(server, {**BODY, "temperature": 9})]
        raw = httpx.post(server.base_url + "/chat/completions", content=b"{not json")
    assert [r.status_code for r in [*bad, raw]] == [400, 400, 400]
    assert all("invalid request" in r.json()["error"]["message"] for r in bad)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown fault"):
        Fault("meteor")
    with pytest.raises(ConfigError, match="add up to at most 1"):
        OpenAITestServer(faults={"empty": 0.7, "server_error": 0.5})


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0.02, 1.0, 1.5, 360.0)] == ["20ms", "1s", "1.5s", "6m0s"]


def test_every_fault_is_documented_in_the_cli_help() -> None:
    out = subprocess.run([sys.executable, "-m", "sentiforge.testing.server", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert all(kind in out.stdout.replace("\n", " ").replace("  ", " ") for kind in FAULTS)


def test_cli_runs_in_its_own_process() -> None:
    with ServerProcess(latency=0.01, faults={"server_error": 1.0}) as server:
        response = httpx.post(server.base_url + "/chat/completions", json=BODY)
        server.script("empty")
        empty = httpx.post(server.base_url + "/chat/completions", json=BODY).json()
        stats = server.stats(times=True)
        server.reset()
        after = server.stats()
        proc = server.proc
    assert proc is not None and proc.poll() is not None  # stopped on exit
    assert response.status_code == 500 and empty["choices"][0]["message"]["content"] == ""
    assert stats["outcomes"] == {"server_error": 1, "empty": 1} and len(stats["times"]) == 2
    assert after["requests"] == 0
