"""`sentiforge build` on real tweets with the fast classifiers: candidates scored on the seeds
alone, pseudo-labels fitted inside the folds, the winner saved with its report and served;
the time budget leaves out what does not fit; the CLI and the API run the same call."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentiforge.app.build import BuildRequest, build, build_from
from sentiforge.classifiers import load_classifier
from sentiforge.cli import app
from sentiforge.errors import ConfigError
from sentiforge.io.datasets import load_builtin
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample

SCHEME = get_scheme("three_class")


def tweets() -> tuple[list[Sample], list[Sample]]:
    data = load_builtin("vader:tweets", SCHEME)
    random.Random(2).shuffle(data)
    return data[:150], [Sample(text=s.text) for s in data[150:750]]


def test_build_scores_every_candidate_on_the_seeds_and_saves_the_winner(tmp_path: Path) -> None:
    seeds, pool = tweets()
    seen: list[tuple[int, int, str]] = []
    request = BuildRequest.build(seeds="tweets", out_dir=str(tmp_path / "m"), classifiers="tfidf,fake", folds=3)
    built = build_from(request, seeds, SCHEME, pool, {}, progress=lambda u: seen.append((u.done, u.total, u.stage)))
    names = [c["candidate"] for c in built.candidates]
    assert built.folds == 3 and built.pool == 600
    ties = [c for c in built.candidates if c["macro_f1"] >= built.candidates[0]["macro_f1"] - 0.01]
    assert built.winner == min(ties, key=lambda c: (c["seconds"], -c["macro_f1"]))  # the fastest of the best
    assert {"tfidf+seeds", "fake+seeds", "tfidf+seeds+pseudo1x", "tfidf+seeds+pseudo-all"} <= set(names)
    assert any(n.startswith("tfidf+seeds") and "self:" in n for n in names)  # the second round ran
    assert all(c["interval"][0] <= c["macro_f1"] <= c["interval"][1] for c in built.candidates)
    assert all(c["trained_on"][0] >= 95 for c in built.candidates)  # 2 of 3 folds of 150 seeds, at least
    pseudo = built.contributions["pseudo-all"]
    assert {p["without"] for p in pseudo["pairs"]} == {"tfidf+seeds", "fake+seeds"}
    assert pseudo["helps"] and pseudo["best_gain"] > 0  # 150 seeds: the pool's labels help TF-IDF
    assert built.pseudo_labels["examined"] == 600 and "promised_precision" in built.pseudo_labels
    clf = load_classifier(built.folder)
    assert clf.kind == built.winner["kind"] and clf.info.metrics["build"]["cross_validation"] == built.winner
    assert all(label in SCHEME.labels for label in clf.predict(["what a lovely day", "this is awful"]))
    page = Path(built.report["html"]).read_text(encoding="utf-8")
    assert "<svg" in page and built.winner["candidate"] in page
    assert json.loads(Path(built.report["json"]).read_text())["winner"] == built.winner
    done = [d for d, _, _ in seen]
    assert done == sorted(done) and seen[-1][0] == seen[-1][1] and seen[-1][2] == "done"


def test_the_time_budget_leaves_out_the_slow_kinds_and_says_so(tmp_path: Path) -> None:
    seeds, _ = tweets()
    request = BuildRequest.build(
        seeds="tweets", out_dir=str(tmp_path / "m"), classifiers="fake,contrastive", max_minutes=0.2
    )
    built = build_from(request, seeds, SCHEME, [], {})
    assert built.winner["candidate"] == "fake+seeds"
    assert [s["candidate"] for s in built.skipped] == ["contrastive+seeds"] and "min left" in built.skipped[0]["why"]


def test_a_generation_budget_points_to_the_generate_command(tmp_path: Path) -> None:
    request = BuildRequest.build(seeds="vader:tweets", out_dir=str(tmp_path), generate=300)
    with pytest.raises(ConfigError, match="sentiforge generate"):
        build(request)


def test_the_cli_builds_from_files_with_a_progress_bar(tmp_path: Path) -> None:
    seeds, pool = tweets()
    seed_file, pool_file = tmp_path / "seeds.jsonl", tmp_path / "pool.txt"
    seed_file.write_text("\n".join(json.dumps({"text": s.text, "label": s.label}) for s in seeds), encoding="utf-8")
    pool_file.write_text("\n\n".join(s.text.replace("\n", " ") for s in pool[:300]), encoding="utf-8")
    args = ["build", str(seed_file), "--out", str(tmp_path / "m"), "--pool", str(pool_file), "--scheme",
            "three_class", "--language", "en", "-c", "tfidf", "--folds", "3", "--no-self-training"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "built tfidf+seeds" in result.output and "source pseudo-all" in result.output
    assert (tmp_path / "m" / "build.html").is_file() and (tmp_path / "m" / "model.json").is_file()


def test_build_requests_are_checked_at_the_edge() -> None:
    """What schemathesis sent to POST /v1/jobs/build (a null classifier list was a 500)."""
    import pydantic

    from sentiforge.app.build import BuildRequest

    ok = BuildRequest.model_validate({"seeds": "s", "out_dir": "m", "classifiers": "tfidf, embedding"})
    assert ok.classifiers == ["tfidf", "embedding"]
    for bad in (
        {"classifiers": None},
        {"classifiers": ["bogus"]},
        {"classifiers": [1]},
        {"bootstrap": 10**9},
        {"seed": -1},
        {"pseudo_sizes": [0]},
        {"max_minutes": float("inf")},
    ):
        with pytest.raises(pydantic.ValidationError):
            BuildRequest.model_validate({"seeds": "s", "out_dir": "m", **bad})
