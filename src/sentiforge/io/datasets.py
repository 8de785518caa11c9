"""Loaders for the real, human-labelled public sets that ship inside the package
(``sentiforge/io/data``, MIT, with their licences): VADER's four rated sets and the UCI
labelled sentences.

They are the *real* side of every TSTR evaluation, the seeds of augmentation benchmarks,
and test data. Labels come from the human mean ratings, binned as the datasets' README says.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from sentiforge.errors import DataError
from sentiforge.labels import LabelScheme, get_scheme
from sentiforge.samples import Sample

VADER_FILES = {
    "tweets": "tweets_GroundTruth.txt",
    "movies": "movieReviewSnippets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
}
UCI_FILES = {"imdb": "imdb.json", "yelp": "yelp.json", "amazon": "amazon.json"}

# Bin edges on VADER's -4..+4 mean rating (io/data/README.md).
EDGES = {
    "binary": (0.0,),
    "three_class": (-0.5, 0.5),
    "five_level": (-2.0, -0.5, 0.5, 2.0),
    "seven_level": (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5),
}
MOVIE_POSITIVE_LAST_ID = 5331  # ids 1..5331 are Pang & Lee's positive sentences
PACKAGED = Path(__file__).resolve().parent / "data"


def datasets_root(configured: Path | None = None) -> Path:
    """The folder configured (``SENTIFORGE_DATASETS``, handed down from an entry point) when
    given, else the copy packaged with sentiforge."""
    root = configured or PACKAGED
    if not root.is_dir():
        raise DataError(f"the datasets folder {root} does not exist; unset SENTIFORGE_DATASETS or fix its path")
    return root


def bin_rating(mean: float, scheme: LabelScheme) -> str:
    edges = EDGES.get(scheme.name)
    if edges is None or scheme.kind != "single":
        raise DataError(f"VADER ratings can be binned into {sorted(EDGES)}, not scheme '{scheme.name}'")
    index = sum(mean > edge for edge in edges)
    return scheme.labels[index]


def load_vader(name: str, scheme: str | LabelScheme = "three_class", *, root: Path | None = None) -> list[Sample]:
    """One of VADER's sets (tweets, movies, amazon, nyt) with labels binned from the mean rating.

    For ``movies`` with the binary scheme the label is Pang & Lee's original polarity (by id).
    """
    if name not in VADER_FILES:
        raise DataError(f"unknown VADER set {name!r}; choose one of {sorted(VADER_FILES)}")
    sch = get_scheme(scheme)
    path = datasets_root(root) / "vader" / VADER_FILES[name]
    out: list[Sample] = []
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) < 3 or not parts[2].strip():
                continue
            try:
                item_id, mean = int(parts[0]), float(parts[1])
            except ValueError as exc:
                raise DataError(f"{path}:{lineno}: expected id<TAB>mean<TAB>text, got {line[:80]!r}") from exc
            if name == "movies" and sch.name == "binary":
                label = "positive" if item_id <= MOVIE_POSITIVE_LAST_ID else "negative"
            else:
                label = bin_rating(mean, sch)
            text = html.unescape(parts[2].strip())
            out.append(
                Sample(text=text, label=label, attributes={"source": f"vader-{name}", "id": item_id, "rating": mean})
            )
    return out


def load_uci(name: str, *, root: Path | None = None) -> list[Sample]:
    """One of the UCI labelled-sentence sets (imdb, yelp, amazon), binary."""
    if name not in UCI_FILES:
        raise DataError(f"unknown UCI set {name!r}; choose one of {sorted(UCI_FILES)}")
    path = datasets_root(root) / "uci-sentences" / UCI_FILES[name]
    items = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, item in enumerate(items):
        if "class" not in item or not str(item.get("text", "")).strip():
            continue  # a few entries lack a class
        label = "positive" if int(item["class"]) == 1 else "negative"
        out.append(Sample(text=item["text"].strip(), label=label, attributes={"source": f"uci-{name}", "id": i}))
    return out


def load_builtin(spec: str, scheme: str | LabelScheme | None = None, *, root: Path | None = None) -> list[Sample]:
    """``vader:tweets``, ``vader:movies``, ``uci:yelp`` ... as samples (from ``root``, else the
    packaged copy)."""
    family, _, name = spec.partition(":")
    if family == "vader":
        return load_vader(name, scheme or "three_class", root=root)
    if family == "uci":
        return load_uci(name, root=root)
    raise DataError(
        f"unknown built-in dataset {spec!r}; use vader:{{{','.join(VADER_FILES)}}} or uci:{{{','.join(UCI_FILES)}}}"
    )
