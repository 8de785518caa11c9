"""Sentiment classifiers behind one small interface (fit / predict / predict_proba / save / load).

Kinds: ``tfidf`` (baseline), ``embedding`` (MiniLM or multilingual E5 + logistic regression),
``transformer`` (fine-tuned MiniLM), ``contrastive`` (SetFit-style pair-tuned MiniLM + logistic
regression), ``reasoner`` (a small causal LM that writes a rationale then the label; its
``predict_with_rationale`` returns both). Another kind registers itself
(:func:`register_classifier`) from a ``sentiforge.plugins`` entry point, as ``fake`` (naive
Bayes, for tests) does from :mod:`sentiforge.testing`. Heavy libraries load only when a kind that needs them is built.
"""

from sentiforge.classifiers.base import Classifier, ModelInfo, targets_of
from sentiforge.classifiers.registry import (
    build_classifier,
    factory,
    kinds,
    load_classifier,
    register_classifier,
    train,
)

__all__ = [
    "Classifier",
    "ModelInfo",
    "build_classifier",
    "factory",
    "kinds",
    "load_classifier",
    "register_classifier",
    "targets_of",
    "train",
]
