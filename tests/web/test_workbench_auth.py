"""The workbench's login, sessions, CSRF and scopes over plain HTTP (Starlette's TestClient on
the real app and a SQLite store); pages escape what users wrote; the stylesheet's colour
pairs meet WCAG AA."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sentiforge.api.workbench.auth import LOGIN_COOKIE, SESSION_COOKIE, safe_next
from sentiforge.app import jobs
from sentiforge.app.requests import GenerateRequest
from sentiforge.config import Settings
from sentiforge.labels import get_scheme
from sentiforge.recipe import BackendSpec
from sentiforge.samples import Provenance, Sample
from sentiforge.store import Store
from sentiforge.web import STATIC

PLANTS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'wb.db'}",
        classifiers_dir=tmp_path / "classifiers",
        reports_dir=tmp_path / "reports",
        rate_limit_per_minute=0,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store(settings.database_url) as s:
        yield s


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    made = {scope: store.create_key(f"{scope}-user", [scope])[1] for scope in ("read", "write", "predict", "admin")}
    return {**made, "editor": store.create_key("editor", ["read", "write"])[1]}


def _client(settings: Settings, base_url: str = "http://testserver") -> TestClient:
    from sentiforge.api import deps
    from sentiforge.api.main import create_app

    deps._cache.clear()
    return TestClient(create_app(settings), base_url=base_url)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def _login(client: TestClient, token: str, next_path: str = "/datasets") -> str:
    """Log in through the form; returns where the login redirected."""
    form = client.get("/login", params={"next": next_path})
    answer = client.post(
        "/login", data={"key": token, "csrf": _csrf(form.text), "next": next_path}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def test_login_sets_a_strict_httponly_cookie_and_never_shows_the_key(
    settings: Settings, tokens: dict[str, str]
) -> None:
    with _client(settings) as client:
        assert client.get("/jobs?status=running", follow_redirects=False).headers["location"] == (
            "/login?next=%2Fjobs%3Fstatus%3Drunning"
        )
        form = client.get("/login")
        answer = client.post("/login", data={"key": tokens["read"], "csrf": _csrf(form.text)}, follow_redirects=False)
        cookie = answer.headers["set-cookie"]
        assert answer.status_code == 303 and answer.headers["location"] == "/datasets"
        assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Secure" not in cookie.split(f"{LOGIN_COOKIE}=")[0]  # plain HTTP: a Secure cookie would be lost
        assert tokens["read"] not in cookie and tokens["read"] not in answer.headers["location"]
        page = client.get("/datasets")
        assert page.status_code == 200 and tokens["read"] not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
    with _client(settings, "https://testserver") as client:
        form = client.get("/login")
        answer = client.post("/login", data={"key": tokens["read"], "csrf": _csrf(form.text)}, follow_redirects=False)
        assert "Secure" in answer.headers["set-cookie"].split(f"{LOGIN_COOKIE}=")[0]


def test_a_wrong_key_or_a_forged_login_opens_nothing(settings: Settings, tokens: dict[str, str]) -> None:
    with _client(settings) as client:
        form = client.get("/login")
        wrong = client.post("/login", data={"key": "sfk_000000000000_nope", "csrf": _csrf(form.text)})
        assert wrong.status_code == 401 and "unknown or revoked" in wrong.text and "sfk_000000000000" not in wrong.text
        assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
        client.cookies.clear()
        forged = client.post("/login", data={"key": tokens["read"], "csrf": "guessed"}, follow_redirects=False)
        assert forged.status_code == 403 and SESSION_COOKIE not in forged.headers.get("set-cookie", "")
        form = client.get("/login")
        cross = client.post(
            "/login",
            data={"key": tokens["read"], "csrf": _csrf(form.text)},
            headers={"Origin": "https://evil.example"},
            follow_redirects=False,
        )
        assert cross.status_code == 403 and SESSION_COOKIE not in cross.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_login_never_redirects_off_the_site(settings: Settings, tokens: dict[str, str], target: str) -> None:
    assert safe_next(target) == "/datasets"
    with _client(settings) as client:
        assert _login(client, tokens["read"], target) == "/datasets"


def test_login_keeps_a_local_next_path(settings: Settings, tokens: dict[str, str]) -> None:
    with _client(settings) as client:
        wanted = "/jobs?status=running&kind=generate"
        assert _login(client, tokens["read"], wanted) == wanted


def test_logout_needs_the_csrf_token_and_ends_the_session(settings: Settings, tokens: dict[str, str]) -> None:
    with _client(settings) as client:
        _login(client, tokens["read"])
        page = client.get("/datasets")
        assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
        assert client.get("/datasets").status_code == 200  # still in
        stolen = client.cookies.get(SESSION_COOKIE)
        out = client.post("/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/login"
        client.cookies.set(SESSION_COOKIE, stolen or "")  # the old cookie, replayed
        assert client.get("/datasets", follow_redirects=False).status_code == 303
        late = client.post("/jobs/7/cancel", data={"csrf": _csrf(page.text)}, follow_redirects=False)
        assert late.headers["location"] == "/login?next=%2Fjobs%2F7"  # back to the job's page, not a replay


def test_a_revoked_key_or_an_expired_session_opens_nothing(
    settings: Settings, store: Store, tokens: dict[str, str]
) -> None:
    with _client(settings) as client:
        _login(client, tokens["read"])
        assert client.get("/datasets").status_code == 200
        store.revoke_key("read-user")
        assert client.get("/datasets", follow_redirects=False).headers["location"].startswith("/login")
    brief = settings.model_copy(update={"web_session_hours": 1e-9})
    with _client(brief) as client:
        _login(client, tokens["write"])
        assert client.get("/datasets", follow_redirects=False).status_code == 303


def _queued_job(store: Store) -> int:
    return jobs.submit(store, GenerateRequest(dataset="q", count=4, backend=BackendSpec(kind="fake")))


def test_scopes_as_the_api_a_read_only_key_sees_but_cannot_cancel(
    settings: Settings, store: Store, tokens: dict[str, str]
) -> None:
    job_id = _queued_job(store)
    with _client(settings) as client:
        _login(client, tokens["read"])
        page = client.get(f"/jobs/{job_id}")
        assert page.status_code == 200 and re.search(r'id="cancel"\s+disabled', page.text)
        refused = client.post(f"/jobs/{job_id}/cancel", data={"csrf": _csrf(page.text)})
        assert refused.status_code == 403 and "lacks the scope this needs: write" in refused.text
        assert store.job(job_id).status == "queued" and not store.job(job_id).cancel_requested
        assert client.get("/models").status_code == 200  # read or predict, as GET /v1/models
        asked = client.post("/models/any/try", data={"csrf": _csrf(page.text), "text": "hello"})
        assert asked.status_code == 403 and "lacks the scope this needs: predict" in asked.text
    with _client(settings) as client:
        _login(client, tokens["predict"])
        assert client.get("/datasets").status_code == 403
        assert client.get("/models").status_code == 200


def test_cancel_and_resume_need_the_sessions_csrf_token_and_this_site(
    settings: Settings, store: Store, tokens: dict[str, str]
) -> None:
    job_id = _queued_job(store)
    with _client(settings) as client:
        _login(client, tokens["editor"])
        page = client.get(f"/jobs/{job_id}")
        assert client.post(f"/jobs/{job_id}/cancel", data={}).status_code == 403
        assert client.post(f"/jobs/{job_id}/cancel", data={"csrf": "x" * 43}).status_code == 403
        cross = client.post(
            f"/jobs/{job_id}/cancel", data={"csrf": _csrf(page.text)}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403 and store.job(job_id).status == "queued"
        done = client.post(f"/jobs/{job_id}/cancel", data={"csrf": _csrf(page.text)}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == f"/jobs/{job_id}"
        assert store.job(job_id).status == "cancelled"
        assert client.post(f"/jobs/{job_id}/resume", data={}).status_code == 403
        resumed = client.post(f"/jobs/{job_id}/resume", data={"csrf": _csrf(page.text)}, follow_redirects=False)
        assert resumed.status_code == 303
        for _ in range(200):  # the app's runner runs it again, to the end
            if store.job(job_id).status == "completed":
                break
            time.sleep(0.05)
        assert store.job(job_id).status == "completed" and store.job(job_id).done == 4
        missing = client.post("/jobs/999999/cancel", data={"csrf": _csrf(page.text)})
        assert missing.status_code == 404 and "<html" in missing.text  # an error page, not JSON
        assert client.get(f"/jobs/{job_id}").status_code == 200
    with _client(settings) as client:
        _login(client, tokens["write"])  # write alone, as over the API: may cancel, may not read
        assert client.get(f"/jobs/{job_id}").status_code == 403


def test_what_users_wrote_is_escaped_everywhere(settings: Settings, store: Store, tokens: dict[str, str]) -> None:
    dataset = store.create_dataset("plants", get_scheme("three_class"), kind="real")
    samples = [
        Sample(text=f"{plant} text {n}", label="positive", provenance=Provenance(strategy=plant))
        for n, plant in enumerate(PLANTS)
    ]
    store.add_samples(dataset, samples)
    job_id = _queued_job(store)
    store.add_job_event(job_id, "warning", message=PLANTS[1], detail=PLANTS[0])
    with _client(settings) as client:
        _login(client, tokens["read"])
        for path in ("/datasets", "/datasets/plants", "/datasets/plants?text=%3Cscript%3E", f"/jobs/{job_id}", "/jobs"):
            html = client.get(path).text
            for plant in PLANTS:
                assert plant not in html, (path, plant)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/datasets/plants").text
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in client.get(f"/jobs/{job_id}").text
        bad_name = client.get("/datasets/%3Cscript%3E")  # names cannot hold markup: refused, and escaped
        assert bad_name.status_code == 422 and "<script>" not in bad_name.text
        drift = client.get('/drift?dataset="><script>')
        assert drift.status_code == 422 and "<script>" not in drift.text


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colour_pairs_meet_aa() -> None:
    """Every text colour of workbench.css on the backgrounds it is used on: >= 4.5:1."""
    css = (STATIC / "workbench.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    pairs = [
        ("ink", "paper"), ("ink", "card"), ("muted", "paper"), ("muted", "card"), ("link", "paper"), ("link", "card"),
        ("top-ink", "top"), ("top-link", "top"), ("button-ink", "button"), ("off-ink", "off"),
        ("ok", "ok-bg"), ("bad", "bad-bg"), ("run", "run-bg"), ("wait", "wait-bg"), ("bad", "card"),
        ("top-ink", "bad"), ("ink", "quote"), ("ok", "current"), ("bad", "current"), ("link", "current"),
        ("muted", "current"),
    ]  # fmt: skip
    low = {f"{fg} on {bg}": round(_contrast(colours[fg], colours[bg]), 2) for fg, bg in pairs}
    assert all(ratio >= 4.5 for ratio in low.values()), low
    assert _contrast(colours["focus"], colours["card"]) >= 3 and _contrast(colours["top-accent"], colours["top"]) >= 3
