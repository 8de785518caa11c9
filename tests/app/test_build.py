"""`sentiforge build` on real tweets with the fast classifiers: candidates scored on the seeds
alone, pseudo-labels fitted inside the folds, the winner saved with its report and served;
the time budget leaves out what does not fit; the CLI and the API run the same call."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentiforge.app.build import BuildRequest, build, build_from
from sentiforge.classifiers import load_classifier
from sentiforge.cli import app
from sentiforge.errors import BudgetExceededError, ConfigError
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
    tied = [c for c in built.candidates if c["tied_with_best"]]
    assert built.candidates[0]["tied_with_best"] and built.winner in tied
    assert len(tied) >= 2  # 150 seeds cannot rank the top candidates
    # the best score's sources all earned their place, so the winner trained on at least as much
    assert sum(built.winner["trained_on"]) >= sum(built.candidates[0]["trained_on"])
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
    assert "cannot tell from the best" in page and "promised precision" in page  # the rule and the promise
    assert built.pseudo_labels["asked_precision"] == 0.9
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
    request = request.model_copy(update={"classifiers": ["contrastive"]})
    with pytest.raises(BudgetExceededError, match=r"no candidate finished its folds within --max-minutes 0\.2"):
        build_from(request, seeds, SCHEME, [], {})


def test_a_candidate_that_overruns_is_stopped_after_a_fold_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The estimate before it starts fits; its first fold shows it will not: stopped, not left running."""
    from sentiforge.testing.classifier import FakeClassifier

    seeds, _ = tweets()
    fit = FakeClassifier.fit

    def slow_fit(self: FakeClassifier, *args: object, **kwargs: object) -> FakeClassifier:
        time.sleep(10.0)
        return fit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FakeClassifier, "fit", slow_fit)
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))  # its prior says it fits, whatever the load
    request = BuildRequest.build(
        seeds="tweets", out_dir=str(tmp_path / "m"), classifiers="tfidf,fake", max_minutes=0.67
    )
    seen: list[tuple[int, int, str]] = []
    built = build_from(request, seeds, SCHEME, [], {}, progress=lambda u: seen.append((u.done, u.total, u.stage)))
    stopped = [s for s in built.skipped if s.get("stopped")]
    assert [s["candidate"] for s in stopped] == ["fake+seeds"] and "after fold 1 of 5" in stopped[0]["why"]
    assert built.winner["candidate"] == "tfidf+seeds" and "fake+seeds" not in [c["candidate"] for c in built.candidates]
    assert built.seconds < 0.67 * 60  # one slow fold, not five
    assert seen[-1][0] == seen[-1][1]  # the bar ends full: the stopped folds left its total


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
    assert "built tfidf+seeds" in result.output and "source pseudo-all: helps; " in result.output
    assert "promised precision" in result.output and "(asked 0.90)" in result.output
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


def test_the_second_round_labels_a_seeded_sample_of_a_large_pool() -> None:
    from sentiforge.app.build_plan import TEACHING_POOL, teaching_pool

    pool = [Sample(text=f"text {i}") for i in range(3000)]
    taught = teaching_pool(pool, 150, seed=1)
    assert len(taught) == TEACHING_POOL and taught == teaching_pool(pool, 150, seed=1)
    assert len({s.text for s in taught}) == TEACHING_POOL and taught != teaching_pool(pool, 150, seed=2)
    assert len(teaching_pool(pool, 400, seed=1)) == 2000  # five per seed when that is more
    assert teaching_pool(pool[:500], 150, seed=1) == pool[:500]  # a small pool: all of it


def test_unmeasured_costs_grow_with_the_load_and_measured_ones_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    from sentiforge.app.build_plan import Budget

    budget = Budget(60.0)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("os.getloadavg", lambda: (1.0, 1.0, 1.0))
    idle = budget.cost("contrastive", [160] * 5)
    monkeypatch.setattr("os.getloadavg", lambda: (12.0, 12.0, 12.0))
    assert budget.cost("contrastive", [160] * 5) == pytest.approx(6 * idle)  # load 12 on 2 cores
    budget.learn("contrastive", 500.0, [160] * 5)
    assert budget.cost("contrastive", [160] * 5) == pytest.approx(500.0)  # measured under the load itself


def test_english_builds_try_each_sentence_body_and_other_languages_the_multilingual_one() -> None:
    from sentiforge.app.build_plan import arms

    english = arms(["tfidf", "embedding", "transformer"], "en")
    assert [a.arm for a in english] == [
        "tfidf",
        "embedding",
        "embedding(multilingual)",
        "embedding(minilm+multilingual)",
        "transformer",
    ]
    assert english[3].on(("pseudo-all",)).name == "embedding(minilm+multilingual)+seeds+pseudo-all"
    assert dict(english[3].params) == {"embedder": "minilm+multilingual"}
    assert dict(english[4].params) == {"preset": "cpu"}
    french = arms(["embedding", "contrastive"], "fr")
    assert [a.arm for a in french] == ["embedding", "contrastive"] and french[0].params == ()  # E5: French's default


def test_a_build_scores_every_body_and_its_winner_reloads_with_its_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bodies are the fake embedder beside MiniLM here (E5 is slow for a unit test); the
    winner, whatever its body, is saved and reloaded with it."""
    seeds, pool = tweets()
    monkeypatch.setattr("sentiforge.app.build_plan.bodies", lambda language: ["minilm", "fake", "minilm+fake"])
    request = BuildRequest.build(
        seeds="tweets", out_dir=str(tmp_path / "m"), classifiers="embedding", folds=3, self_training=False
    )
    built = build_from(request, seeds, SCHEME, pool[:200], {})
    names = {c["candidate"] for c in built.candidates}
    for arm in ("embedding", "embedding(fake)", "embedding(minilm+fake)"):
        assert {f"{arm}+seeds", f"{arm}+seeds+pseudo-all"} <= names
    assert {c["arm"] for c in built.candidates} == {"embedding", "embedding(fake)", "embedding(minilm+fake)"}
    pairs = built.contributions["pseudo-all"]["pairs"]  # each body against itself without the source
    assert {(p["with"].split("+seeds")[0], p["without"].split("+seeds")[0]) for p in pairs} == {
        (a, a) for a in ("embedding", "embedding(fake)", "embedding(minilm+fake)")
    }
    clf = load_classifier(built.folder)
    body = {"embedding": "minilm", "embedding(fake)": "fake", "embedding(minilm+fake)": "minilm+fake"}
    assert clf.info.params["embedder"] == body[built.winner["arm"]]
    texts = ["what a lovely day", "this is awful", "it is a tuesday"]
    assert (clf.predict_proba(texts) == load_classifier(built.folder).predict_proba(texts)).all()


def test_an_embedding_classifier_on_joined_bodies_saves_and_reloads(tmp_path: Path) -> None:
    from sentiforge.classifiers.registry import build_classifier

    seeds, _ = tweets()
    clf = build_classifier("embedding", SCHEME, embedder="minilm+fake")
    clf.fit([s.text for s in seeds], [str(s.label) for s in seeds])
    texts = ["what a lovely day", "this is awful"]
    again = load_classifier(clf.save(tmp_path / "joined"))
    assert again.info.params["embedder"] == "minilm+fake"
    assert abs(again.predict_proba(texts) - clf.predict_proba(texts)).max() < 1e-6


def test_a_source_with_no_measurable_change_may_stay_in_the_winner_and_the_report_says_so() -> None:
    from sentiforge.app.build_report import verdict

    winner = {
        "candidate": "embedding(minilm+multilingual)+seeds+self:embedding+seeds1x",
        "sources": ["self:embedding+seeds1x"],
    }
    assert verdict("self:embedding+seeds1x", {"best_gain": 0.0}, winner) == "no measurable change; in the chosen model"
    assert verdict("pseudo1x", {"best_gain": 0.02}, winner) == "helps; not in the chosen model"
    assert verdict("pseudo-all", {"best_gain": -0.01}, winner) == "hurts; not in the chosen model"
    # a name that only appears inside the winner's name (its arm, or another source's teacher) is not in it
    assert verdict("multilingual", {"best_gain": 0.01}, winner).endswith("not in the chosen model")
