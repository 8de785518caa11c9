"""What an attacker or a careless client sends gets a clear 4xx that stores nothing, on SQLite
and PostgreSQL: backends the operator did not allow, server paths as schemes, names that are
not names, numbers the database cannot hold, NUL characters, loose types (issue 21)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.api.conftest import SEEDS_CSV

from sentiforge.config import Settings
from sentiforge.store import Store

FAKE = {"kind": "fake"}
INT4 = 2**31  # one past PostgreSQL's integer


def _nothing_stored(store: Store) -> None:
    assert store.list_jobs() == [] and store.list_datasets() == []


# -- 1. every backend spec goes through one check ---------------------------------------------
@pytest.mark.parametrize(
    "path, body",
    [
        ("train", {"dataset": "uci:yelp", "out_dir": "m", "classifier": "reasoner", "rationale_backend": "SPEC"}),
        ("generate", {"dataset": "x", "backend": "SPEC"}),
        ("augment", {"dataset": "x", "seeds": "vader:tweets", "backend": "SPEC"}),
        ("recipe", {"dataset": "x", "recipe": {"backend": "SPEC"}}),
    ],
)
@pytest.mark.parametrize(
    "spec, says",
    [
        ({"kind": "openai", "base_url": "http://127.0.0.1:9/v1"}, "SENTIFORGE_BACKEND_URLS"),
        ({"kind": "openai", "api_key_env": "SENTIFORGE_HOME"}, "SENTIFORGE_BACKEND_KEY_ENVS"),
        ({"kind": "openai", "api_key_env": "ANTHROPIC_API_KEY"}, "SENTIFORGE_BACKEND_KEY_ENVS"),
        ({"kind": "fake", "api_key_env": "HOME"}, "SENTIFORGE_BACKEND_KEY_ENVS"),
    ],
)
async def test_no_backend_anywhere_escapes_the_operators_lists(
    make_client: Any, tokens: dict[str, str], store: Store, path: str, body: dict[str, Any], spec: Any, says: str
) -> None:
    async with make_client(tokens["write"]) as writer:  # a key with only the write scope
        sent = json.loads(json.dumps(body).replace('"SPEC"', json.dumps(spec)))
        answer = await writer.post(f"/v1/jobs/{path}", json=sent)
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["detail"] and answer.json()["error"] == "ConfigError"
    _nothing_stored(store)


async def test_the_quality_judge_and_allowed_backends_pass_the_same_check(
    make_client: Any, tokens: dict[str, str], settings: Settings, store: Store
) -> None:
    only_mine = settings.model_copy(update={"backend_key_envs": "MY_API_KEY", "backend_urls": "http://10.0.0.1/v1"})
    async with make_client(tokens["write"], only_mine) as writer:
        judge = await writer.post("/v1/jobs/quality", json={"dataset": "x", "judge": "openai"})
        assert judge.status_code == 422 and "judge.api_key_env" in judge.json()["detail"]
        mine = {"kind": "openai", "base_url": "http://10.0.0.1/v1/", "api_key_env": "MY_API_KEY"}
        allowed = await writer.post("/v1/jobs/generate", json={"dataset": "x", "count": 1, "backend": mine})
        assert allowed.status_code == 202, allowed.text
        await writer.post(f"/v1/jobs/{allowed.json()['id']}/cancel")


# -- 2. a scheme over HTTP is a name or an object, never a path --------------------------------
async def test_a_scheme_path_neither_leaks_a_file_nor_probes_for_one(
    admin: httpx.AsyncClient, store: Store, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"name": "s3cr3t-value", "labels": {"pw": "hunter2-password"}}))
    answers = []
    for path in (secret, tmp_path / "missing.json"):
        for route, body in (
            ("generate", {"dataset": "x", "scheme": str(path), "backend": FAKE}),
            ("recipe", {"dataset": "x", "recipe": {"scheme": str(path), "backend": FAKE}}),
            ("train", {"dataset": "uci:yelp", "out_dir": "m", "scheme": str(path)}),
            ("evaluate", {"real": "uci:yelp", "synthetic": "uci:imdb", "scheme": str(path)}),
        ):
            answer = await admin.post(f"/v1/jobs/{route}", json=body)
            assert answer.status_code == 422, answer.text
            answers.append(answer.json()["detail"].replace(str(path), "PATH"))
        upload = await admin.post(
            "/v1/datasets/seeds/import", files={"file": ("s.csv", SEEDS_CSV)}, data={"scheme": str(path)}
        )
        assert upload.status_code == 422
        answers.append(upload.json()["detail"].replace(str(path), "PATH"))
    assert not any("s3cr3t" in a or "hunter2" in a for a in answers)
    assert answers[:5] == answers[5:]  # an existing file and a missing one answer alike
    _nothing_stored(store)
    inline = {"name": "mine", "labels": ["good", "bad"], "descriptions": {"good": "happy"}}
    ok = await admin.post("/v1/jobs/generate", json={"dataset": "x", "count": 2, "scheme": inline, "backend": FAKE})
    assert ok.status_code == 202, ok.text


@pytest.mark.parametrize(
    "route, body, says",
    [
        ("generate", {"dataset": "x", "backend": {"model": "/srv/secret.gguf"}}, "backend.model"),
        ("quality", {"dataset": "x", "judge": "embedded", "judge_model": "../m.gguf"}, "judge.model"),
        ("train", {"dataset": "uci:yelp", "out_dir": "m", "base_model": "/etc/passwd"}, "base_model"),
        ("train", {"dataset": "uci:yelp", "out_dir": "m", "base_model": "model.gguf"}, "base_model"),
        ("evaluate", {"real": "uci:yelp", "synthetic": "uci:imdb", "base_model": "../x"}, "base_model"),
    ],
)
async def test_no_model_field_names_a_server_file(
    admin: httpx.AsyncClient, store: Store, route: str, body: dict[str, Any], says: str
) -> None:
    answer = await admin.post(f"/v1/jobs/{route}", json=body)
    assert answer.status_code == 422 and says in answer.json()["detail"], answer.text
    _nothing_stored(store)


# -- 3. one name rule ----------------------------------------------------------------------------
BAD_NAMES = ["..", ".hidden", "a\u2028b", "a\\b", "a/b", "x" * 101, "café", "a b", "-dash", ""]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_bad_names_are_refused_everywhere(admin: httpx.AsyncClient, store: Store, name: str) -> None:
    quoted = httpx.URL("http://t/").copy_with(path="/v1/datasets/" + name.replace("/", "%2F").replace(".", "%2E"))
    upload = await admin.post(f"{quoted.raw_path.decode()}/import", files={"file": ("s.csv", SEEDS_CSV)})
    assert upload.status_code in (404, 405, 422), upload.text  # "" and "a/b" match no route
    assert "error" in upload.json()
    job = await admin.post("/v1/jobs/generate", json={"dataset": name, "count": 1, "backend": FAKE})
    recipe = await admin.post("/v1/jobs/recipe", json={"dataset": "ok", "recipe": {"name": name, "backend": FAKE}})
    key = await admin.post("/v1/keys", json={"name": name, "scopes": ["read"]})
    model = await admin.post("/v1/jobs/train", json={"dataset": "uci:yelp", "out_dir": name})
    assert [a.status_code for a in (job, recipe, key, model)] == [422] * 4
    _nothing_stored(store)
    assert len(store.list_keys()) == 5  # the fixture's keys only


async def test_a_dot_dot_dataset_cannot_be_exported_and_archives_name_their_own_entries(
    admin: httpx.AsyncClient, store: Store
) -> None:
    from sentiforge.errors import ConfigError
    from sentiforge.labels import get_scheme

    with pytest.raises(ConfigError, match="not a valid name"):
        store.create_dataset("..", get_scheme("three_class"))  # the store itself keeps the rule (CLI too)
    answer = await admin.get("/v1/datasets/%2E%2E/export")
    assert answer.status_code == 422 and answer.json()["error"] == "ValidationError"


# -- 9. numbers the database holds, NUL characters ---------------------------------------------
@pytest.mark.parametrize("count", [INT4, 2**63, 2**64])
async def test_counts_past_the_databases_integers_are_422(admin: httpx.AsyncClient, store: Store, count: int) -> None:
    generate = await admin.post("/v1/jobs/generate", json={"dataset": "x", "count": count, "backend": FAKE})
    steps = [{"strategy": "generate", "params": {"count": count}}]
    recipe = await admin.post("/v1/jobs/recipe", json={"dataset": "x", "recipe": {"steps": steps, "backend": FAKE}})
    two = [{"strategy": "generate", "params": {"count": INT4 // 2 + 1}}] * 2  # each fits, the sum does not
    summed = await admin.post("/v1/jobs/recipe", json={"dataset": "x", "recipe": {"steps": two, "backend": FAKE}})
    assert [a.status_code for a in (generate, recipe, summed)] == [422] * 3, recipe.text
    assert "at most" in summed.json()["detail"]
    _nothing_stored(store)


@pytest.mark.parametrize(
    "url",
    [
        f"/v1/jobs/{INT4}",
        f"/v1/jobs/{2**62}/events",
        f"/v1/jobs/1/events?after={INT4}",
        f"/v1/jobs?cursor={INT4}",
        f"/v1/datasets?cursor={INT4}",
        f"/v1/datasets/x/samples?cursor={INT4}",
        f"/v1/evaluations/{INT4}",
        f"/v1/evaluations?cursor={INT4}",
    ],
)
async def test_ids_and_cursors_past_the_databases_integers_are_422(admin: httpx.AsyncClient, url: str) -> None:
    answer = await admin.get(url)
    assert answer.status_code == 422 and answer.json()["error"] == "ValidationError", answer.text


async def test_review_ids_past_the_databases_integers_are_422(make_client: Any, tokens: dict[str, str]) -> None:
    async with make_client(tokens["review"]) as reviewer:
        one = await reviewer.post(f"/v1/review/items/{INT4}/decision", json={"action": "approve"})
        bulk = await reviewer.post("/v1/review/bulk", json={"ids": [INT4], "action": "approve"})
    assert (one.status_code, bulk.status_code) == (422, 422)


@pytest.mark.parametrize(
    "method, url, body",
    [
        ("GET", "/v1/datasets/a%00b", None),
        ("GET", "/v1/jobs?dataset=a%00b", None),
        ("GET", "/v1/jobs?kind=%00", None),
        ("GET", "/v1/datasets/x/samples?label=%00", None),
        ("GET", "/v1/review/x/items?reason=a%00", None),
        ("GET", "/v1/jobs?status=%00", None),
        ("GET", "/v1/datasets/x/samples?split=a%00", None),
        ("GET", "/v1/datasets/x/samples?strategy=%00", None),
        ("POST", "/v1/keys", {"name": "a\u0000b", "scopes": ["read"]}),
        ("POST", "/v1/jobs/generate", {"dataset": "x", "kind_of_text": "a\u0000", "backend": FAKE}),
        ("POST", "/v1/jobs/generate", {"dataset": "x", "attributes": {"a\u0000": ["b"]}, "backend": FAKE}),
        ("POST", "/v1/jobs/quality", {"dataset": "x", "seed_split": "tr\u0000ain"}),
        ("POST", "/v1/review/items/1/decision", {"action": "edit", "text": "a\u0000"}),
    ],
)
async def test_nul_characters_are_refused_at_the_edge(
    admin: httpx.AsyncClient, make_client: Any, store: Store, method: str, url: str, body: Any
) -> None:
    answer = await admin.request(method, url, json=body)
    assert answer.status_code == 422 and answer.json()["error"] == "ValidationError", answer.text
    assert "NUL" in answer.json()["detail"] or "pattern" in answer.json()["detail"]
    _nothing_stored(store)
    async with make_client() as anonymous:  # no key: 401 before anything is validated
        assert (await anonymous.request(method, url, json=body)).status_code == 401


async def test_a_nul_inside_an_imported_text_is_one_clear_422_without_sql(
    admin: httpx.AsyncClient, store: Store
) -> None:
    rows = [{"text": "fine text", "label": "positive"}, {"text": "bad \u0000 text", "label": "negative"}]
    jsonl = "\n".join(json.dumps(r) for r in rows)
    answer = await admin.post("/v1/datasets/seeds/import", files={"file": ("s.jsonl", jsonl)})
    assert answer.status_code == 422 and answer.json()["error"] == "DataError"
    assert "line 2" in answer.json()["detail"] and "NUL" in answer.json()["detail"]
    assert "INSERT" not in answer.text and "parameters" not in answer.text
    _nothing_stored(store)


async def test_infinite_or_nan_numbers_are_422(admin: httpx.AsyncClient, store: Store) -> None:
    json_type = {"content-type": "application/json"}
    for body in (b'{"dataset": "x", "max_cost": Infinity}', b'{"dataset": "x", "temperature": NaN}'):
        assert (await admin.post("/v1/jobs/generate", content=body, headers=json_type)).status_code == 422
    resume = await admin.post("/v1/jobs/1/resume", content=b'{"max_cost": Infinity}', headers=json_type)
    assert resume.status_code == 422
    _nothing_stored(store)


async def test_a_database_failure_answers_503_without_its_sql() -> None:
    from sentiforge.api.errors import sentiforge_error
    from sentiforge.errors import StoreError

    failure = StoreError("could not add samples: [SQL: INSERT INTO samples (text) VALUES (%(text)s)] [parameters: ...]")
    answer = await sentiforge_error(None, failure)  # type: ignore[arg-type]
    body = json.loads(bytes(answer.body))
    assert answer.status_code == 503 and body["error"] == "StoreError"
    assert "SQL" not in body["detail"] and "INSERT" not in body["detail"] and "retry" in body["detail"]


# -- 11. error bodies, time zones, empty filters, strict types ----------------------------------
async def test_every_error_answer_has_the_error_field(
    make_client: Any, tokens: dict[str, str], settings: Settings
) -> None:
    limited = settings.model_copy(update={"rate_limit_per_minute": 1, "max_upload_mb": 0.001})
    async with make_client(None, limited) as anonymous:
        assert (await anonymous.get("/v1/jobs")).json()["error"] == "Unauthorized"
        bad = await anonymous.get("/v1/jobs", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and bad.json()["error"] == "Unauthorized" and bad.headers["www-authenticate"]
    async with make_client(tokens["read"], limited) as reader:
        forbidden = await reader.post("/v1/jobs/generate", json={"dataset": "x"})
        assert forbidden.status_code == 403 and forbidden.json()["error"] == "Forbidden"
        limit = await reader.get("/v1/jobs")
        assert limit.status_code == 429 and limit.json()["error"] == "TooManyRequests" and limit.headers["retry-after"]
    async with make_client(tokens["admin"], limited.model_copy(update={"rate_limit_per_minute": 0})) as admin:
        unknown = await admin.get("/v1/no/such/path")
        assert unknown.status_code == 404 and unknown.json()["error"] == "NotFound"
        method = await admin.put("/v1/jobs")
        assert method.status_code == 405 and method.json()["error"] == "MethodNotAllowed"

        async def chunks() -> Any:
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
            for _ in range(20):
                yield b"x" * 1000

        form = {"content-type": "multipart/form-data; boundary=b"}  # chunked: no Content-Length to refuse at once
        big = await admin.post("/v1/datasets/d/import", content=chunks(), headers=form)
        assert big.status_code == 413 and big.json()["error"] == "BodyTooLarge"
        latin1 = await admin.post(
            "/v1/jobs/generate", content='{"dataset": "caf\xe9"}'.encode("latin-1"),
            headers={"content-type": "application/json"},
        )  # fmt: skip
        assert latin1.status_code == 400 and latin1.json()["error"] in ("BadRequest", "MalformedJSON")


async def test_timestamps_carry_their_time_zone(admin: httpx.AsyncClient) -> None:
    job = (await admin.post("/v1/jobs/generate", json={"dataset": "x", "count": 1, "backend": FAKE})).json()
    assert job["created_at"].endswith("Z") and job["updated_at"].endswith("Z")
    key = (await admin.get("/v1/keys")).json()[0]
    assert key["created_at"].endswith("Z")
    schema = (await admin.get("/openapi.json")).json()["components"]["schemas"]
    created = schema["JobPublic"]["properties"]["created_at"]
    assert (created["type"], created["format"]) == ("string", "date-time")


async def test_empty_filters_are_no_filters(admin: httpx.AsyncClient) -> None:
    answer = await admin.get("/v1/jobs", params={"status": "", "dataset": "", "kind": ""})
    assert answer.status_code == 200 and answer.json()["items"] == []


@pytest.mark.parametrize(
    "route, body",
    [
        ("generate", {"dataset": "x", "count": "5"}),
        ("generate", {"dataset": "x", "count": True}),
        ("generate", {"dataset": "x", "count": 5.0}),
        ("generate", {"dataset": "x", "rationale": "yes"}),
        ("generate", {"dataset": "x", "backend": {"kind": "fake", "concurrency": "8"}}),
        ("recipe", {"dataset": "x", "recipe": {"seed": "1"}}),
        ("train", {"dataset": "uci:yelp", "out_dir": "m", "classifier": "bogus"}),
        ("train", {"dataset": "uci:yelp", "out_dir": "m", "epochs": "3"}),
        ("evaluate", {"real": "uci:yelp", "synthetic": "uci:imdb", "classifiers": ["tfidf", "bogus"]}),
        ("generate", {"dataset": "x", "language": "x" * 13}),
        ("generate", {"dataset": "x", "seed": -1}),
        ("quality", {"dataset": "x", "config": {"no_such_setting": 1}}),
        ("quality", {"dataset": "x", "embedder": "/srv/model"}),
        ("evaluate", {"real": "uci:yelp", "synthetic": "uci:imdb", "embedder": "bogus"}),
    ],
)
async def test_types_are_strict_and_values_known_at_the_edge(
    admin: httpx.AsyncClient, store: Store, route: str, body: dict[str, Any]
) -> None:
    answer = await admin.post(f"/v1/jobs/{route}", json=body)
    assert answer.status_code == 422 and answer.json()["error"] == "ValidationError", answer.text
    _nothing_stored(store)


@pytest.mark.parametrize("count", ["5", True, 5.0])
async def test_recipe_step_options_are_strict_too(admin: httpx.AsyncClient, store: Store, count: Any) -> None:
    steps = [{"strategy": "generate", "params": {"count": count}}]
    answer = await admin.post("/v1/jobs/recipe", json={"dataset": "x", "recipe": {"steps": steps, "backend": FAKE}})
    assert answer.status_code == 422 and "count" in answer.json()["detail"], answer.text
    _nothing_stored(store)


@pytest.mark.parametrize(
    "body, says",
    [
        ({"classifier": "embedding", "embedder": "minilm+minilm"}, "names a model twice"),
        ({"classifier": "embedding", "embedder": "minilm+en"}, "names a model twice"),  # an alias is the same model
        ({"classifier": "embedding", "embedder": "minilm+"}, "unknown embedder"),
        ({"classifier": "embedding", "embedder": "auto+minilm"}, "unknown embedder"),
        ({"classifier": "embedding", "embedder": "x" * 100_000}, "unknown embedder"),
        ({"classifier": "embedding", "embedder": "none"}, "sentence body"),
        ({"classifier": "tfidf", "embedder": "multilingual"}, "sentence body"),
        ({"classifier": "embedding", "embedder": ["minilm"]}, "string"),
    ],
)
async def test_a_train_requests_sentence_body_is_checked_at_the_edge(
    admin: httpx.AsyncClient, store: Store, body: dict[str, Any], says: str
) -> None:
    answer = await admin.post("/v1/jobs/train", json={"dataset": "uci:yelp", "out_dir": "m", **body})
    assert answer.status_code == 422, answer.text
    assert says in answer.text and len(answer.text) < 5_000  # a huge name is not echoed whole
    _nothing_stored(store)
