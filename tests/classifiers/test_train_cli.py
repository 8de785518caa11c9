"""``sentiforge train`` and ``sentiforge predict`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sentiforge.cli import app

runner = CliRunner()


def run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) == ok, result.output + repr(result.exception)
    return result.output + ("" if ok else str(result.exception))


def test_train_saves_a_model_with_metrics_and_predict_uses_it(tmp_path: Path) -> None:
    model = tmp_path / "m"
    out = run("train", "uci:yelp", "--classifier", "tfidf", "--out", str(model))
    assert "holdout (" in out
    meta = json.loads((model / "model.json").read_text())
    assert meta["kind"] == "tfidf" and meta["scheme"]["name"] == "binary"
    assert meta["training_data"]["source"] == "uci:yelp" and len(meta["training_data"]["fingerprint"]) == 24
    assert meta["metrics"]["holdout"]["accuracy"] > 0.7
    out = run("predict", str(model), "The food was wonderful and the staff lovely.", "Worst service ever, never again.")
    lines = out.strip().splitlines()
    assert lines[0].startswith("positive") and lines[1].startswith("negative")
    texts = tmp_path / "in.txt"
    texts.write_text("Great pizza!\n\nTerrible,\u2028cold and late.\n", encoding="utf-8")  # U+2028 inside a text
    answered = run("predict", str(model), "--file", str(texts), "--json").strip().split("\n")  # JSON Lines
    rows = [json.loads(line) for line in answered]
    assert [r["label"] for r in rows] == ["positive", "negative"] and rows[1]["text"] == "Terrible,\u2028cold and late."
    assert abs(sum(rows[0]["scores"].values()) - 1) < 1e-3


def test_train_and_predict_explain_bad_input(tmp_path: Path) -> None:
    assert "unknown classifier" in run("train", "uci:yelp", "-c", "svm", "--out", str(tmp_path / "x"), ok=False)
    assert "not a valid name" in run("train", "uci:yelp", "-c", "fake", "--out", str(tmp_path / "my model"), ok=False)
    assert not (tmp_path / "my model").exists()
    assert "not a saved sentiforge model" in run("predict", str(tmp_path), "hello", ok=False)
    run("train", "uci:yelp", "-c", "fake", "--out", str(tmp_path / "f"), "--no-evaluate")
    assert "give texts" in run("predict", str(tmp_path / "f"), ok=False)
    assert "for the embedding classifier" in run(
        "train", "uci:yelp", "-c", "tfidf", "--embedder", "minilm", "--out", str(tmp_path / "t"), ok=False
    )
    assert "unknown embedder 'glove' in 'minilm+glove'" in run(
        "train", "uci:yelp", "-c", "embedding", "--embedder", "minilm+glove", "--out", str(tmp_path / "g"), ok=False
    )
    assert not (tmp_path / "t").exists() and not (tmp_path / "g").exists()


def test_the_embedding_classifier_trains_on_the_sentence_body_asked(tmp_path: Path) -> None:
    model = tmp_path / "joined"
    run("train", "uci:yelp", "-c", "embedding", "--embedder", "minilm+fake", "--out", str(model), "--no-evaluate")
    meta = json.loads((model / "model.json").read_text())
    assert meta["params"]["embedder"] == "minilm+fake"
    out = run("predict", str(model), "The food was wonderful and the staff lovely.")
    assert out.strip().startswith("positive")


def test_reasoner_trains_from_a_file_with_rationales_and_predict_shows_them(tmp_path: Path, tiny_lm: Path) -> None:
    data = tmp_path / "tweets.jsonl"
    words = {"positive": "great", "neutral": "usual", "negative": "awful"}
    rows = [
        {"text": f"the bus {i} was {w}", "label": lab, "rationale": f"says {w}"}
        for i in range(4)
        for lab, w in words.items()
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    model = tmp_path / "reasoner"
    common = ["--scheme", "three_class", "--base-model", str(tiny_lm), "--epochs", "1", "--out", str(model)]
    run("train", str(data), "-c", "reasoner", "--no-evaluate", *common)
    meta = json.loads((model / "model.json").read_text())
    assert meta["kind"] == "reasoner" and meta["metrics"]["training"]["steps"] == 1
    answer = json.loads(run("predict", str(model), "the bus 9 was great", "--json").strip())
    assert answer["label"] in words and set(answer["scores"]) == set(words) and isinstance(answer["rationale"], str)


def test_missing_rationales_are_written_by_the_generator_before_the_reasoner_trains(
    tmp_path: Path, tiny_lm: Path
) -> None:
    from sentiforge.app.requests import TrainRequest
    from sentiforge.app.training import train
    from sentiforge.recipe import BackendSpec

    data = tmp_path / "plain.jsonl"
    rows = [
        {"text": f"ride {i} was {w}", "label": lab}
        for i in range(4)
        for lab, w in [("positive", "good"), ("negative", "bad")]
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows))
    common = {"dataset": str(data), "out_dir": str(tmp_path / "m"), "classifier": "reasoner", "scheme": "binary"}
    request = TrainRequest(
        **common, base_model=str(tiny_lm), epochs=1, evaluate=False, rationale_backend=BackendSpec(kind="fake")
    )
    trained = train(request)
    meta = json.loads((trained.folder / "model.json").read_text())
    assert meta["metrics"]["training"]["rationale_share"] == 1.0  # every sample got one from the fake generator


def test_a_saved_models_body_must_be_a_name_and_fit_its_weights(tmp_path: Path) -> None:
    """A hand-edited or mismatched model.json is one clear error, not a traceback or a 500."""
    model = tmp_path / "emb"
    run("train", "uci:yelp", "-c", "embedding", "--embedder", "fake", "--out", str(model), "--no-evaluate")
    meta = json.loads((model / "model.json").read_text())
    for body, says in [(123, "must be an embedder's name"), (["fake"], "must be an embedder's name"),
                       ("minilm", "256-wide vectors but embedder 'minilm' gives 384")]:  # fmt: skip
        (model / "model.json").write_text(json.dumps({**meta, "params": {**meta["params"], "embedder": body}}))
        assert says in run("predict", str(model), "great food", ok=False)


def test_an_out_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("a file", encoding="utf-8")
    assert "is a file, not a folder" in run("train", "uci:yelp", "-c", "fake", "--out", str(taken), ok=False)
    under = run("train", "uci:yelp", "-c", "fake", "--out", str(taken / "m"), ok=False)
    assert "is a file, not a folder" in under
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("\n".join(json.dumps({"text": f"t {i}", "label": "positive" if i % 2 else "negative"})
                                for i in range(20)), encoding="utf-8")  # fmt: skip
    args = ["build", str(seeds), "--scheme", "binary", "-c", "fake", "--folds", "2"]
    assert "is a file, not a folder" in run(*args, "--out", str(taken), ok=False)
    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join(f"t {i}" for i in range(20)), encoding="utf-8")  # the seeds again
    assert "every text of the pool (20) is one of the seeds" in run(
        *args, "--out", str(tmp_path / "m"), "--pool", str(pool), ok=False
    )
    assert not (tmp_path / "m").exists() and taken.read_text(encoding="utf-8") == "a file"


def test_a_saved_model_knows_its_sentence_body_even_at_the_same_width(tmp_path: Path) -> None:
    """The body's reading of a fixed sentence is saved and compared at load: another body of the
    same width (here: that reading changed, as MiniLM <-> E5 or a changed package would) is refused."""
    import numpy as np

    model = tmp_path / "emb"
    run("train", "uci:yelp", "-c", "embedding", "--embedder", "fake", "--out", str(model), "--no-evaluate")
    assert run("predict", str(model), "great food").strip()
    with np.load(model / "weights.npz") as saved:
        arrays = {k: saved[k] for k in saved.files}
    arrays["body_probe"] = -arrays["body_probe"]
    np.savez(model / "weights.npz", **arrays)
    assert "reads a fixed sentence differently" in run("predict", str(model), "great food", ok=False)
