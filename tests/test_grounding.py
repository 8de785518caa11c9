"""Grounded generation on real unlabelled text: chunk, cluster, generate per cluster; and
pseudo-labels of the pool. Real UCI sentences; fake embedder and backend at the seams
(the real embedder's cluster purity is the slow test)."""

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from sentiforge.app.jobs import submit
from sentiforge.app.requests import GenerateRequest
from sentiforge.app.unlabelled import ground_file, pseudo_label_pool
from sentiforge.engine import run_job
from sentiforge.grounding import chunk, ground, purity, read_texts
from sentiforge.io.datasets import load_builtin
from sentiforge.recipe import BackendSpec
from sentiforge.store import Store
from sentiforge.testing import FakeBackend

SOURCES = ("amazon", "imdb", "yelp")


def mixed_pool(per_source: int) -> tuple[list[str], list[str]]:
    texts, truth = [], []
    for source in SOURCES:
        for s in load_builtin(f"uci:{source}")[:per_source]:
            texts.append(s.text)
            truth.append(source)
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    return [texts[i] for i in order], [truth[i] for i in order]


def test_long_documents_are_chunked_at_sentence_ends() -> None:
    doc = " ".join(s.text for s in load_builtin("uci:yelp")[:40])
    pieces = chunk(doc, max_words=50)
    assert len(pieces) > 5 and all(len(p.split()) <= 50 for p in pieces)
    assert " ".join(pieces).split() == doc.split()  # nothing lost or reordered


def test_read_texts_from_txt_jsonl_csv(tmp_path: Path) -> None:
    texts, _ = mixed_pool(5)
    (tmp_path / "a.txt").write_text("\n\n".join(texts), encoding="utf-8")
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps({"body": t}) for t in texts), encoding="utf-8")
    import csv

    with (tmp_path / "a.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["text"], *[[t] for t in texts]])
    assert read_texts(tmp_path / "a.txt") == read_texts(tmp_path / "a.jsonl", text_column="body")
    assert read_texts(tmp_path / "a.csv") == [t.strip() for t in texts]


def test_a_txt_file_without_blank_lines_holds_a_text_per_line(tmp_path: Path) -> None:
    """A pool written one text per line (as `predict --file` reads) is not one giant text; a file
    in paragraphs still joins each paragraph's lines."""
    (tmp_path / "lines.txt").write_text("great pizza\n  \ncold fries\n", encoding="utf-8")
    (tmp_path / "short.txt").write_text("great pizza\ncold fries\nslow service", encoding="utf-8")
    (tmp_path / "paras.txt").write_text("a review\nwrapped here\n\nanother one\n", encoding="utf-8")
    assert read_texts(tmp_path / "short.txt") == ["great pizza", "cold fries", "slow service"]
    assert read_texts(tmp_path / "paras.txt") == ["a review\nwrapped here", "another one"]
    assert read_texts(tmp_path / "lines.txt") == ["great pizza", "cold fries"]  # a blank line: paragraphs


def test_stray_or_trailing_blank_lines_do_not_turn_a_pool_of_lines_into_paragraphs(tmp_path: Path) -> None:
    lines = [f"review number {i} was fine" for i in range(300)]
    cases = {
        "trailing.txt": "\n".join(lines) + "\n\n",
        "crlf.txt": "\r\n".join(lines) + "\r\n\r\n",
        "stray.txt": "\n".join(lines[:150]) + "\n   \n" + "\n".join(lines[150:]),
        "leading.txt": "\n\n" + "\n".join(lines),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content.encode("utf-8"))
        assert read_texts(tmp_path / name) == lines, name
    wrapped = "\n\n".join(f"review {i}\nwrapped over\nthree lines" for i in range(50)) + "\n\n"
    (tmp_path / "paras.txt").write_text(wrapped, encoding="utf-8")
    texts = read_texts(tmp_path / "paras.txt")
    assert len(texts) == 50 and texts[1] == "review 1\nwrapped over\nthree lines"


# Unicode line breaks that str.splitlines() splits on, inside real tweets' JSON strings
BREAKS = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]


def test_read_texts_keeps_unicode_line_breaks_and_quoted_newlines_inside_a_text(tmp_path: Path) -> None:
    texts = [f"first part{b}second part of tweet {i}" for i, b in enumerate(BREAKS)]
    jsonl = tmp_path / "tweets.jsonl"
    jsonl.write_text("\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts) + "\n", encoding="utf-8")
    assert read_texts(jsonl) == texts
    csv_file = tmp_path / "tweets.csv"
    csv_file.write_text('id,text\n1,"a text\nover two lines"\n2,"and one with ""quotes"""\n', encoding="utf-8")
    assert read_texts(csv_file) == ["a text\nover two lines", 'and one with "quotes"']


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("t.jsonl", '{"text": "fine"}\n{"text": "broken\n', ["t.jsonl", "line 2", "not valid JSON"]),
        ("t.jsonl", '{"text": "fine"}\n["a list"]\n', ["line 2", "expected a JSON object"]),
        ("t.jsonl", '{"text": "fine"}\n{"text": 3}\n', ["line 2", "not text"]),
        ("t.jsonl", '{"text": "fine"}\n{"body": "x"}\n', ["line 2", "no column 'text'"]),
        ("t.csv", 'text\n"fine"\n"unclosed\n', ["t.csv", "malformed CSV"]),
        ("t.csv", "body\nx\n", ["no column 'text'"]),
        ("t.txt", "a\n\nb\x00c\n", ["t.txt", "line 3", "NUL"]),
    ],
)
def test_a_bad_row_is_one_clear_error_naming_its_line(
    tmp_path: Path, name: str, content: str, expected: list[str]
) -> None:
    from sentiforge.errors import DataError

    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_texts(tmp_path / name)
    assert all(part in str(err.value) for part in expected), str(err.value)


def test_ground_on_tweets_with_unicode_line_breaks_from_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sentiforge.cli import app

    texts, _ = mixed_pool(10)
    rows = [{"text": t.replace(" ", BREAKS[i % len(BREAKS)], 1), "id": i} for i, t in enumerate(texts)]
    path = tmp_path / "tweets.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    db = f"sqlite:///{tmp_path}/t.db"
    grounded = CliRunner().invoke(app, ["ground", str(path), "-d", "pool", "--embedder", "fake", "--db", db])
    assert grounded.exit_code == 0, grounded.output
    assert "30 chunks of 30 texts" in grounded.output
    path.write_text(path.read_text(encoding="utf-8") + '\n{"text": 5}\n', encoding="utf-8")
    bad = CliRunner().invoke(app, ["ground", str(path), "-d", "pool2", "--embedder", "fake", "--db", db])
    from sentiforge.errors import DataError

    # a DataError: `sentiforge` (cli.main) prints it as one line, no traceback
    assert isinstance(bad.exception, DataError) and "line 31: column 'text' is not text" in str(bad.exception)


@pytest.fixture
def pool_store(tmp_path: Path) -> Store:
    texts, _ = mixed_pool(120)
    path = tmp_path / "pool.txt"
    path.write_text("\n\n".join(texts), encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path}/t.db")
    result = ground_file(store, path, "pool", embedder="fake", clusters=4, scheme="binary")
    assert result.language == "en" and result.chunks == len(texts) and len(result.clusters) == 4
    return store


async def test_grounded_generation_shows_one_cluster_per_prompt(pool_store: Store) -> None:
    pool = pool_store.samples(pool_store.dataset_id("pool"))
    cluster_of = {s.text: s.attributes["cluster"] for s in pool}
    request = GenerateRequest(
        dataset="g",
        count=16,
        scheme="binary",
        pool="pool",
        few_shot=3,
        backend=BackendSpec(kind="fake"),
        check_label="off",
    )
    fake = FakeBackend()
    job = submit(pool_store, request)
    res = await run_job(pool_store, job, backend=fake)
    assert res.status == "completed"
    for req in fake.history:
        shown = [line[2:] for line in req.messages[-1].content.splitlines() if line.startswith("- ")]
        assert len(shown) == 3 and len({cluster_of[t] for t in shown}) == 1
        assert "Topic: " in req.messages[-1].content and "same topic in the same style" in req.messages[-1].content
    made = pool_store.samples(res.dataset_id)
    assert Counter(s.label for s in made) == {"negative": 8, "positive": 8}
    assert len({s.provenance.params["cluster"] for s in made}) == 4  # every cluster gets its share
    assert all(s.provenance.strategy == "grounded" and len(s.provenance.params["sources"]) == 3 for s in made)


def test_pseudo_labels_of_the_pool_go_to_their_own_dataset(pool_store: Store) -> None:
    summary = pseudo_label_pool(pool_store, "pool", "uci:yelp", "pseudo", seed_split=None, target_precision=0.85)
    kept = pool_store.samples(pool_store.dataset_id("pseudo"))
    assert summary["kept"] == len(kept) > 0 and summary["promised_precision"] >= 0.85
    assert pool_store.dataset("pseudo").kind == "pseudo"
    assert all(s.provenance.strategy == "pseudo_label" and s.provenance.params["source_id"] for s in kept)
    assert summary["balanced"] and set(summary["thresholds"]) == {"negative", "positive"}
    one = pseudo_label_pool(pool_store, "pool", "uci:yelp", "one", seed_split=None, balance=False)
    assert not one["balanced"] and "thresholds" not in one


@pytest.mark.slow
def test_clusters_of_a_mixed_pool_separate_the_sources() -> None:
    """MiniLM on 300 sentences each of Amazon, IMDb and Yelp: purity above 0.8."""
    from sentiforge.embeddings import get_embedder

    texts, truth = mixed_pool(300)
    grounded = ground(texts, get_embedder("minilm"), k=3)
    assert purity([s.attributes["cluster"] for s in grounded], truth) > 0.8


def test_the_main_jobs_unlabelled_path_from_the_command_line(tmp_path: Path) -> None:
    """scripts/main_job.sh with UNLABELLED=...: ground, then generate on the pool with matched style."""
    from typer.testing import CliRunner

    from sentiforge.cli import app

    texts, _ = mixed_pool(60)
    path = tmp_path / "tickets.txt"
    path.write_text("\n\n".join(texts), encoding="utf-8")
    db = f"sqlite:///{tmp_path}/t.db"
    runner = CliRunner()
    grounded = runner.invoke(
        app, ["ground", str(path), "-d", "pool", "--embedder", "fake", "--clusters", "3", "--db", db]
    )
    assert grounded.exit_code == 0, grounded.output
    assert "180 chunks of 180 texts, language en, 3 clusters" in grounded.output
    made = runner.invoke(
        app, ["generate", "-d", "out", "-n", "6", "--pool", "pool", "--match-style", "--backend", "fake", "--db", db]
    )
    assert made.exit_code == 0, made.output
    with Store(db) as store:
        samples = store.samples(store.dataset_id("out"))
    assert len(samples) == 6 and {s.provenance.strategy for s in samples} == {"grounded"}


async def test_pseudo_labels_mix_beside_synthetic_data_with_their_own_share(pool_store: Store) -> None:
    from sentiforge.mixing import mix

    real = pool_store.create_dataset("real", pool_store.scheme("pool"), kind="real")
    pool_store.add_samples(real, [s.model_copy(update={"split": "train"}) for s in load_builtin("uci:yelp")[:200]])
    pseudo_label_pool(pool_store, "pool", "real", "pseudo", target_precision=0.85)
    request = GenerateRequest(dataset="synth", count=20, scheme="binary", backend=BackendSpec(kind="fake"))
    await run_job(pool_store, submit(pool_store, request), backend=FakeBackend())
    report = mix(pool_store, "real", ["synth", "pseudo"], "mixed", max_synthetic_share=0.5)
    assert set(report.per_strategy) == {"generate", "pseudo_label"} and report.per_strategy["pseudo_label"] > 0
    assert pool_store.dataset("mixed").meta["mix"]["per_strategy"] == report.per_strategy
