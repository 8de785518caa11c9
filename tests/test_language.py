"""The language comes from the text where nothing says it (real French and English data)."""

import json
from pathlib import Path

import pytest

from sentiforge.evaluation.inputs import load_samples
from sentiforge.io.datasets import load_builtin
from sentiforge.io.importers import ColumnMap, import_file, read_file
from sentiforge.labels import get_scheme
from sentiforge.language import detect_language, resolve_language
from sentiforge.store import Store

FRENCH = [
    ("Le service client ne répond jamais, c'est vraiment décevant.", "negative"),
    ("Livraison rapide et produit conforme, je suis ravi de mon achat.", "positive"),
    ("La commande est arrivée mardi dans un carton standard.", "neutral"),
    ("Impossible de joindre quelqu'un au téléphone depuis trois jours.", "negative"),
    ("Merci beaucoup pour votre aide, tout fonctionne parfaitement maintenant.", "positive"),
    ("Le colis contient le chargeur et le câble comme prévu.", "neutral"),
]


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_detects_french_and_english_real_texts() -> None:
    assert detect_language(t for t, _ in FRENCH) == "fr"
    assert detect_language(s.text for s in load_builtin("uci:yelp")[:100]) == "en"
    assert detect_language(["ok", "fine"]) == "en"  # too little text: the default
    assert resolve_language("de", [t for t, _ in FRENCH]) == "de"  # a given language wins


def test_imported_french_file_is_french_unless_said_otherwise(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "fr.jsonl", [{"text": t, "label": y} for t, y in FRENCH])
    scheme = get_scheme("three_class")
    assert {s.language for s in read_file(path, scheme)} == {"fr"}
    assert {s.language for s in read_file(path, scheme, language="en")} == {"en"}
    store = Store(f"sqlite:///{tmp_path}/t.db")
    result = import_file(store, path, "fr", scheme)
    assert result.by_language == {"fr": len(FRENCH)}
    assert store.dataset("fr").meta["imports"][0]["languages"] == {"fr": len(FRENCH)}


def test_a_language_column_still_wins(tmp_path: Path) -> None:
    rows = [{"text": t, "label": y, "lang": "fr-CA"} for t, y in FRENCH]
    path = write_jsonl(tmp_path / "fr.jsonl", rows)
    samples = list(read_file(path, get_scheme("three_class"), columns=ColumnMap(language="lang")))
    assert {s.language for s in samples} == {"fr-CA"}


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_evaluate_inputs_of_french_files_choose_the_multilingual_embedder(tmp_path: Path, suffix: str) -> None:
    from sentiforge.evaluation.pipeline import _language

    path = tmp_path / f"fr{suffix}"
    if suffix == ".jsonl":
        write_jsonl(path, [{"text": t, "label": y} for t, y in FRENCH])
    else:
        import csv

        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["text", "label"])
            w.writerows(FRENCH)
    samples, _ = load_samples(str(path), "three_class")
    assert _language(samples) == "fr"  # evaluate() picks "multilingual" for a non-English language
