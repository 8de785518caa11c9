"""``sentiforge evaluate`` end to end: built-in real data, synthetic data from a file or the store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sentiforge.cli import app
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample
from sentiforge.store import Store

runner = CliRunner()
FAST = ["--classifier", "fake", "--embedder", "fake", "--bootstrap", "50", "--cv", "0"]


def run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) == ok, result.output + repr(result.exception)
    return result.output + ("" if ok else str(result.exception))


def test_evaluate_builtin_real_against_a_jsonl_file(tmp_path: Path, amazon: list[Sample]) -> None:
    synth = tmp_path / "synthetic.jsonl"
    synth.write_text("\n".join(json.dumps({"text": s.text, "label": s.label, "domain": "phones"}) for s in amazon))
    out = run(
        "evaluate",
        "--real",
        "uci:yelp",
        "--synthetic",
        str(synth),
        "--scheme",
        "binary",
        "--out",
        str(tmp_path / "rep"),
        "--json",
        *FAST,
    )
    numbers = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert 0.5 < numbers["fake"]["ratio"] < 1.2
    assert numbers["fake"]["trtr"]["macro_f1"] > 0.7
    assert (tmp_path / "rep" / "report.html").is_file()
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["meta"]["sources"]["synthetic"] == str(synth)
    assert report["bias"]["synthetic"]["attributes"] == []  # one domain only: nothing to compare


def test_evaluate_store_datasets_with_stored_splits(
    tmp_path: Path, yelp_split: tuple[list[Sample], list[Sample]], amazon: list[Sample]
) -> None:
    db = f"sqlite:///{tmp_path / 'e.db'}"
    store = Store(db)
    scheme = get_scheme("binary")
    train, hold = yelp_split
    store.add_samples(store.create_dataset("yelp", scheme, kind="real"), [*train, *hold])
    store.add_samples(store.create_dataset("syn", scheme), amazon[:300])
    out = run("evaluate", "--real", "yelp", "--synthetic", "syn", "--db", db, "--out", str(tmp_path / "r"), *FAST)
    assert "TSTR/TRTR" in out
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["meta"]["split"] == "splits stored with the real data"
    assert report["meta"]["sizes"]["holdout"] == len(hold)


def test_evaluate_explains_bad_input(tmp_path: Path) -> None:
    out = run(
        "evaluate",
        "--real",
        "uci:yelp",
        "--synthetic",
        str(tmp_path / "missing.jsonl"),
        "--scheme",
        "binary",
        *FAST,
        ok=False,
    )
    assert "does not exist" in out
    out = run(
        "evaluate",
        "--real",
        "uci:yelp",
        "--synthetic",
        "nope",
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        *FAST,
        ok=False,
    )
    assert "no dataset 'nope'" in out
    out = run("evaluate", "--real", "uci:yelp", "--synthetic", "uci:amazon", "--on-leak", "maybe", *FAST, ok=False)
    assert "--on-leak" in out


def test_evaluate_with_the_reasoner_shows_rationales_of_holdout_errors(tmp_path: Path, tiny_lm: Path) -> None:
    words = {"positive": "great", "neutral": "usual", "negative": "awful"}
    real, synth = tmp_path / "real.jsonl", tmp_path / "synthetic.jsonl"
    things = ["tram", "metro", "ferry", "coach", "train", "shuttle", "cable car", "night bus", "funicular", "taxi"]
    stops = ["Gare", "Opéra", "Port", "Parc", "Campus", "Marché", "Stade", "Musée", "Plage", "Hôpital"]
    rows = [
        {"text": f"{stops[(i + j) % 10]}: the {t} {j} was {w}", "label": lab}
        for i, t in enumerate(things)
        for j, (lab, w) in enumerate(words.items())
    ]
    real.write_text("\n".join(json.dumps(r) for r in rows))
    places = ["Lyon", "Nice", "Lille", "Brest", "Metz", "Dijon", "Tours", "Rouen"]
    made = [
        {"text": f"yesterday in {p} our {i}th ride felt {w} overall", "label": lab, "rationale": f"it says {w}"}
        for i, p in enumerate(places)
        for lab, w in words.items()
    ]
    synth.write_text("\n".join(json.dumps(r) for r in made))
    args = ["--real", str(real), "--synthetic", str(synth), "--scheme", "three_class", "-c", "reasoner"]
    run(
        "evaluate",
        *args,
        "--base-model",
        str(tiny_lm),
        "--epochs",
        "1",
        "--embedder",
        "fake",
        "--bootstrap",
        "20",
        "--cv",
        "0",
        "--out",
        str(tmp_path / "rep"),
    )
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    settings = report["tstr"]["reasoner"]["settings"]
    errors = [e for s in settings.values() for e in s["explained_errors"]]
    assert errors, "a one-epoch tiny model gets some of the holdout wrong"
    assert (
        set(errors[0]) == {"text", "truth", "predicted", "rationale"} and errors[0]["truth"] != errors[0]["predicted"]
    )
    assert "with the rationale it wrote" in (tmp_path / "rep" / "report.html").read_text()
