"""``sentiforge evaluate`` with the fine-tuned transformer in the TSTR table: on the CPU it gets
the cpu preset by itself (the packaged MiniLM, a few hundred texts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentiforge.cli import app
from sentiforge.samples import Sample

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_the_transformer_row_joins_the_tstr_table_with_the_cpu_preset(tmp_path: Path, amazon: list[Sample]) -> None:
    synth = tmp_path / "synthetic.jsonl"
    synth.write_text("\n".join(json.dumps({"text": s.text, "label": s.label}) for s in amazon[:150]))
    args = ["--real", "uci:yelp", "--synthetic", str(synth), "--scheme", "binary", "--out", str(tmp_path / "rep")]
    fast = ["--embedder", "fake", "--bootstrap", "20", "--cv", "0", "--json"]
    result = CliRunner().invoke(app, ["evaluate", *args, "--classifiers", "tfidf,transformer", *fast])
    assert result.exit_code == 0, result.output + repr(result.exception)
    numbers = json.loads(result.output[result.output.index("{") : result.output.rindex("}") + 1])
    assert set(numbers) == {"tfidf", "transformer"}
    assert numbers["transformer"]["trtr"]["macro_f1"] > 0.7  # 700 real Yelp sentences, one epoch
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    used = report["tstr"]["transformer"]["config"]["model_params"]
    assert (used["preset"], used["epochs"], used["max_len"], used["freeze_layers"]) == ("cpu", 1, 64, 4)
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "transformer &middot; TSTR (synthetic)" in html
