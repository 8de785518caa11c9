import json
from collections import Counter
from pathlib import Path

import pytest

import sentiforge
from sentiforge.config import get_settings
from sentiforge.errors import DataError
from sentiforge.io.datasets import bin_rating, datasets_root, load_builtin, load_uci, load_vader
from sentiforge.labels import get_scheme


def test_vader_tweets_three_class_counts(datasets_dir: Path) -> None:
    samples = load_vader("tweets", "three_class", root=datasets_dir)
    assert len(samples) == 4200
    counts = Counter(s.label for s in samples)
    assert set(counts) == {"negative", "neutral", "positive"}
    assert counts["positive"] > counts["negative"] > counts["neutral"]
    assert "&amp;" not in " ".join(s.text for s in samples)  # HTML entities decoded


def test_movies_binary_uses_original_polarity(datasets_dir: Path) -> None:
    samples = load_vader("movies", "binary", root=datasets_dir)
    assert Counter(s.label for s in samples) == {"positive": 5331, "negative": 5274}


@pytest.mark.parametrize(
    ("mean", "scheme", "label"),
    [
        (-3.0, "seven_level", "very negative"),
        (0.0, "seven_level", "neutral"),
        (2.6, "seven_level", "very positive"),
        (-1.0, "five_level", "2"),
        (0.51, "three_class", "positive"),
        (-0.49, "three_class", "neutral"),
        (-0.5, "three_class", "negative"),
    ],
)
def test_binning_edges(mean: float, scheme: str, label: str) -> None:
    assert bin_rating(mean, get_scheme(scheme)) == label


def test_uci_and_errors(datasets_dir: Path) -> None:
    yelp = load_uci("yelp", root=datasets_dir)
    assert Counter(s.label for s in yelp) == {"positive": 500, "negative": 500}
    with pytest.raises(DataError, match="unknown VADER set"):
        load_vader("reddit")
    with pytest.raises(DataError, match="built-in dataset"):
        load_builtin("kaggle:x")
    with pytest.raises(DataError, match="not scheme 'emotions'"):
        bin_rating(0.0, get_scheme("emotions"))


def test_the_real_data_ships_inside_the_package_with_its_licences(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTIFORGE_DATASETS", raising=False)
    get_settings.cache_clear()
    root = datasets_root(get_settings().datasets)
    assert root == Path(sentiforge.__file__).resolve().parent / "io" / "data"
    assert (root / "vader" / "LICENSE.txt").is_file() and (root / "uci-sentences" / "LICENSE.md").is_file()
    assert len(load_builtin("vader:tweets")) == 4200
    assert len(load_builtin("uci:yelp")) == 1000


def test_sentiforge_datasets_names_another_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "uci-sentences").mkdir()
    items = [{"text": "Great food.", "class": 1}, {"text": "Cold soup.", "class": 0}]
    (tmp_path / "uci-sentences" / "yelp.json").write_text(json.dumps(items), encoding="utf-8")
    monkeypatch.setenv("SENTIFORGE_DATASETS", str(tmp_path))
    get_settings.cache_clear()  # one settings object, read once
    root = get_settings().datasets  # an entry point hands the folder down
    assert [s.label for s in load_builtin("uci:yelp", root=root)] == ["positive", "negative"]
    monkeypatch.setenv("SENTIFORGE_DATASETS", str(tmp_path / "missing"))
    get_settings.cache_clear()
    with pytest.raises(DataError, match="unset SENTIFORGE_DATASETS"):
        datasets_root(get_settings().datasets)
