"""The embedded backend: llama.cpp's llama-server as a child process, its lifecycle, clear
errors, and real generations.

Tests marked slow run the packaged 0.5B model under the real llama-server binary."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.backends import from_spec, llama_server
from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.embedded import EmbeddedBackend, default_parallel
from sentiforge.backends.llama_server import LlamaServer, ServerConfig, find_binary, stop_servers
from sentiforge.errors import ConfigError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.strategies.output import contains_term

FAST = "qwen2.5-0.5b"
LABELS = ("positive", "negative", "neutral")


def req(text: str, **kw: Any) -> ChatRequest:
    return ChatRequest(messages=(Message(role="user", content=text),), **kw)


def gguf(tmp_path: Path, name: str = "mine.gguf", content: bytes = b"GGUF" + b"\0" * 64) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def have_server() -> bool:
    try:
        find_binary()
    except ConfigError:
        return False
    return True


needs_server = pytest.mark.skipif(not have_server(), reason="llama-server not built (scripts/build_llama_server.sh)")


# -- without a model --------------------------------------------------------------------


def test_key_identifies_the_model_file(tmp_path: Path) -> None:
    a = EmbeddedBackend(str(gguf(tmp_path, "a.gguf", b"GGUF" + b"a" * 64)))
    b = EmbeddedBackend(str(gguf(tmp_path, "b.gguf", b"GGUF" + b"b" * 64)))
    assert a.key.startswith("embedded:a.gguf:") and a.key != b.key.replace("b.gguf", "a.gguf")
    assert EmbeddedBackend(str(tmp_path / "a.gguf"), json_mode="none").key == a.key + ":nogrammar"


def test_settings_come_from_the_spec_and_the_machine(tmp_path: Path) -> None:
    path = gguf(tmp_path)
    backend = from_spec(BackendSpec(kind="embedded", model=str(path), n_ctx=2048, n_threads=3, parallel=5))
    assert isinstance(backend, EmbeddedBackend)
    assert (backend.config.n_ctx, backend.config.threads, backend.config.parallel) == (2048, 3, 5)
    assert backend.max_concurrency == 5
    command = backend.config.command(Path("/bin/llama-server"), 4321)
    assert command[command.index("--ctx-size") + 1] == str(2048 * 5)  # the slots share one context
    assert {"--kv-unified", "--cont-batching"} <= set(command) and command[command.index("--port") + 1] == "4321"
    assert default_parallel(1) == 4 and default_parallel(2) == 4 and default_parallel(6) == 12
    assert default_parallel(64) == 16
    with pytest.raises(ConfigError, match="parallel"):
        EmbeddedBackend(str(path), parallel=0)
    with pytest.raises(ConfigError, match="json_mode"):
        EmbeddedBackend(str(path), json_mode="yaml")  # type: ignore[arg-type]


def test_recipes_stored_before_the_server_still_load() -> None:
    old = {"kind": "embedded", "model": FAST, "copies": 2, "prefix_cache_mb": 512, "batch_size": 4}
    assert BackendSpec.model_validate(old).parallel == 4
    assert BackendSpec.model_validate({**old, "batch_size": 1}).parallel is None
    recipe = Recipe.model_validate({"backend": {"kind": "embedded", "copies": 1, "prefix_cache_mb": 0}})
    assert recipe.backend.parallel is None
    with pytest.raises(ValueError, match="extra"):
        BackendSpec.model_validate({"kind": "embedded", "n_gpu": 1})


def test_bad_model_paths_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model file .*nowhere\.gguf does not exist"):
        EmbeddedBackend(str(tmp_path / "nowhere.gguf"))
    with pytest.raises(ConfigError, match="unknown embedded model 'qwen-7b'"):
        EmbeddedBackend("qwen-7b")


def test_a_missing_server_binary_says_how_to_build_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match=r"scripts/build_llama_server\.sh"):
        find_binary()


def test_a_server_that_exits_at_start_reports_its_log(tmp_path: Path) -> None:
    """A stand-in binary at the process seam: it prints an error and exits, as llama-server
    does on a model it cannot load."""
    fake = tmp_path / "llama-server"
    fake.write_text("#!/bin/sh\necho 'error: failed to load model (tensor data missing)' >&2\nexit 1\n")
    fake.chmod(0o755)
    server = LlamaServer(ServerConfig(gguf(tmp_path)), binary=fake, startup_timeout=20)
    with pytest.raises(ConfigError, match=r"could not start \(3 tries\).*failed to load model"):
        server.ensure()
    assert not server.alive() and server.starts == 3


# -- the real llama-server --------------------------------------------------------------


@needs_server
async def test_an_unloadable_model_fails_the_job_with_the_reason(tmp_path: Path) -> None:
    path = gguf(tmp_path, "broken.gguf", b"GGUF\x03\0\0\0 not really a model")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    recipe = Recipe(backend=BackendSpec(kind="embedded", model=str(path)), steps=[StepSpec(params={"count": 2})])
    result = await run_recipe(recipe, store, "broken")
    assert result.status == "failed" and result.done == 0 and result.requests == 0
    assert "llama-server could not start" in (result.error or "") and "llama-server exited" in (result.error or "")
    stop_servers()


def run(recipe: Recipe, tmp_path: Path, name: str) -> tuple[Any, Store]:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    return asyncio.run(run_recipe(recipe, store, name)), store


def fast_recipe(scheme: str, count: int, **params: Any) -> Recipe:
    """Generation itself; the judge's label check (on by default here) is left to its own test."""
    params.setdefault("check_label", "off")
    return Recipe(
        scheme=scheme,
        seed=7,
        backend=BackendSpec(kind="embedded", model=FAST, n_ctx=2048),
        steps=[StepSpec(strategy="generate", params={"count": count, "few_shot": 0, **params})],
        max_attempts=2,
    )


@pytest.mark.slow
@needs_server
def test_real_three_class_generation_carries_the_requested_labels(tmp_path: Path) -> None:
    result, store = run(fast_recipe("three_class", 3, kind_of_text="product review"), tmp_path, "tc")
    assert result.status in {"completed", "incomplete"} and result.done >= 2
    assert result.completion_tokens > 0 and result.requests >= 3
    for s in store.samples(result.dataset_id):
        assert s.label in LABELS and len(s.text.split()) >= 3 and not s.text.rstrip().endswith("}")
        assert s.provenance.backend == "embedded" and s.provenance.model == FAST
        assert s.provenance.completion_tokens > 0


@pytest.mark.slow
@needs_server
def test_real_generation_with_the_default_label_check(tmp_path: Path) -> None:
    """On the embedded model the judge reads every text: a judge call per generated text."""
    result, store = run(fast_recipe("three_class", 2, check_label="auto"), tmp_path, "judged")
    assert result.status in {"completed", "incomplete"}
    everything = store.samples(result.dataset_id, status=None)
    assert result.requests > result.done + result.rejected
    for s in everything:
        assert s.status == "accepted" or (s.reason and s.reason.strip())
    events = [e.kind for e in store.job_events(result.job_id)]
    assert "judge_calibrated" in events


@pytest.mark.slow
@needs_server
def test_real_aspect_generation_is_checked_or_rejected_with_reasons(tmp_path: Path) -> None:
    result, store = run(fast_recipe("aspect", 2, aspect_terms=["battery", "screen"]), tmp_path, "asp")
    assert result.status in {"completed", "incomplete"}
    for s in store.samples(result.dataset_id, status=None):
        if s.status == "rejected":
            assert s.reason and s.reason.strip()
            continue
        assert s.aspects and all(contains_term(s.text, a.term) for a in s.aspects)
        assert any(a.term.lower() in {"battery", "screen"} for a in s.aspects)


def real_backend() -> EmbeddedBackend:
    return EmbeddedBackend(FAST, n_ctx=2048, parallel=2)


@pytest.mark.slow
@needs_server
async def test_real_choices_schemas_logprobs_and_seeds() -> None:
    backend = real_backend()
    texts = ["The refund never came and nobody answers.", "Works great, thanks!", "The parcel arrived on Tuesday."]
    for i, text in enumerate(texts):
        request = req(f"Sentiment of: {text}\nAnswer with one word.", grammar_choices=LABELS, temperature=1.5, seed=i)
        assert (await backend.complete(request)).text in LABELS
    odd = ('say "yes"', "back\\slash")
    assert (await backend.complete(req("Pick one.", grammar_choices=odd, temperature=1.0, seed=3))).text in odd
    scored = await backend.complete(
        req("Label: negative, neutral or positive?\nText: I love it.", max_tokens=1, temperature=0, top_logprobs=10)
    )
    assert scored.logprobs and len(scored.logprobs) >= 5 and all(v <= 0 for v in scored.logprobs.values())
    # greedy decoding repeats itself; a sampled text may differ in its last bits when the server
    # answers from a slot's cached prompt (llama.cpp's numerics vary with the batch), which is
    # why a job's reproducibility rests on the response cache, not on seeds
    ask = req("Write one short sentence about a late train.", temperature=0.0, max_tokens=30, seed=42)
    first = await backend.complete(ask)
    cake = req("Write one short sentence about a cake.", temperature=0.0, max_tokens=30, seed=1)
    other = await backend.complete(cake)
    again = await backend.complete(ask)
    assert first.text == again.text and first.text != other.text
    await backend.aclose()


@pytest.mark.slow
@needs_server
async def test_real_server_is_started_again_after_a_kill() -> None:
    backend = real_backend()
    assert (await backend.complete(req("Say hi.", max_tokens=4, temperature=0))).text
    server = backend.server
    first_pid = server.process.pid  # type: ignore[union-attr]
    os.kill(first_pid, signal.SIGKILL)
    server.process.wait()  # type: ignore[union-attr]
    completion = await backend.complete(req("Say hello.", max_tokens=4, temperature=0))
    assert completion.text and server.starts == 2 and server.process.pid != first_pid  # type: ignore[union-attr]
    await backend.aclose()
    stop_servers()
    assert not server.alive()


@pytest.mark.slow
@needs_server
def test_real_server_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """SIGKILL of the sentiforge process leaves no server behind (PR_SET_PDEATHSIG)."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from sentiforge.backends.embedded import EmbeddedBackend
        from sentiforge.backends.base import ChatRequest, Message
        b = EmbeddedBackend({FAST!r}, n_ctx=1024, parallel=1)
        asyncio.run(b.complete(ChatRequest(messages=(Message(role="user", content="hi"),), max_tokens=2)))
        print(b.server.process.pid, flush=True)
        sys.stdin.read()
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # it runs
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _running(child):
        time.sleep(0.2)
    assert not _running(child)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_stop_servers_forgets_every_server(tmp_path: Path) -> None:
    llama_server.shared_server(ServerConfig(gguf(tmp_path), parallel=1))
    assert llama_server._SERVERS
    stop_servers()
    assert not llama_server._SERVERS


@pytest.mark.slow
@needs_server
def test_real_server_outlives_the_event_loop_that_started_it() -> None:
    """PR_SET_PDEATHSIG follows the thread that started the child: a server started from an
    executor thread of one asyncio.run must still serve the next one (the CLI's job, then its gate)."""
    backend = EmbeddedBackend(FAST, n_ctx=1024, parallel=1)
    asyncio.run(backend.complete(req("Say hi.", max_tokens=2, temperature=0)))
    first = backend.server.process.pid  # type: ignore[union-attr]
    time.sleep(1.0)  # the first loop's executor threads are gone by now
    assert backend.server.alive()
    again = EmbeddedBackend(FAST, n_ctx=1024, parallel=1)  # a new job's backend: the process's server
    asyncio.run(again.complete(req("Say hello.", max_tokens=2, temperature=0)))
    assert again.server is backend.server and backend.server.starts == 1
    assert backend.server.process.pid == first  # type: ignore[union-attr]
    stop_servers()
