from pathlib import Path

import pytest

from sentiforge.errors import LabelError
from sentiforge.labels import BUILTIN, LabelScheme, get_scheme
from sentiforge.samples import Sample, normalize_text, text_hash


def test_builtin_schemes_cover_the_mission() -> None:
    assert get_scheme("binary").labels == ("negative", "positive")
    assert get_scheme("three_class").labels == ("negative", "neutral", "positive")
    assert len(get_scheme("five_level").labels) == 5
    seven = get_scheme("seven_level")
    assert seven.labels[0] == "very negative" and seven.labels[-1] == "very positive" and seven.ordinal
    assert get_scheme("emotions").kind == "multi"
    assert get_scheme("aspect").kind == "aspect"
    assert BUILTIN["3class"] is BUILTIN["three_class"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("Positive", "positive"), ("pos", "positive"), ("1", "positive"), (0, "neutral")]
)
def test_normalize_accepts_case_and_aliases(raw: object, expected: str) -> None:
    assert get_scheme("three_class").normalize(raw) == expected


def test_unknown_label_names_the_choices() -> None:
    with pytest.raises(LabelError, match=r"unknown label 'great'.*negative"):
        get_scheme("three_class").normalize("great")


def test_multi_and_aspect_normalisation() -> None:
    emo = get_scheme("emotions")
    assert emo.normalize_set("anger, joy") == ["joy", "anger"]  # scheme order
    with pytest.raises(LabelError):
        emo.normalize_set([])
    aspects = get_scheme("aspect").normalize_aspects([{"term": "battery", "polarity": "NEG"}])
    assert aspects[0].polarity == "negative"


def test_user_scheme_from_yaml(tmp_path: Path) -> None:
    f = tmp_path / "urgency.yaml"
    f.write_text("name: urgency\nlabels: [low, medium, high]\nordinal: true\naliases: {p1: high}\n")
    scheme = get_scheme(str(f))
    assert scheme.normalize("P1") == "high"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlabels: [a]\n")
    with pytest.raises(LabelError, match="at least two labels"):
        get_scheme(str(bad))
    with pytest.raises(LabelError, match="unknown label scheme"):
        get_scheme("nonsense")


def test_scheme_rejects_duplicates_and_bad_aliases() -> None:
    with pytest.raises(LabelError, match="repeats"):
        LabelScheme(name="x", labels=("a", "a"))
    with pytest.raises(LabelError, match="unknown label"):
        LabelScheme(name="x", labels=("a", "b"), aliases={"c": "z"})


def test_exact_duplicate_key_folds_case_space_punct_unicode() -> None:
    assert normalize_text("  Great   SERVICE!!! ") == "great service"
    assert text_hash("Café — great.") == text_hash("cafe\u0301 great")
    assert text_hash("good") != text_hash("not good")


def test_sample_checked_against_scheme() -> None:
    s = Sample(text="fine", label="POS").checked(get_scheme("binary"))
    assert s.label == "positive"
    with pytest.raises(LabelError, match="empty text"):
        Sample(text="  ", label="positive").checked(get_scheme("binary"))
    with pytest.raises(LabelError, match="no label"):
        Sample(text="x").checked(get_scheme("binary"))


def test_descriptions_name_known_labels_and_fall_back_by_language() -> None:
    with pytest.raises(LabelError, match="describes unknown labels"):
        LabelScheme(name="x", labels=("a", "b"), descriptions={"c": "see"})
    with pytest.raises(LabelError, match="describes unknown labels"):
        LabelScheme(name="x", labels=("a", "b"), translations={"fr": {"c": "voir"}})
    scheme = get_scheme("three_class")
    assert scheme.describe("neutral").startswith("neutral (no feeling either way")
    assert scheme.describe("neutral", "fr").startswith("neutre (aucun sentiment")
    assert scheme.describe("neutral", "de") == scheme.describe("neutral")  # no German: the English one
    assert get_scheme("binary").describe("positive", "fr") == "positive"  # undescribed: the label
