"""A small causal LM fine-tuned to write a one-sentence rationale, then the label.

Each training sample becomes ``Text: ...\\nRationale: ...\\nLabel: <label><eos>`` (the
rationale line is left out for samples without one), and the loss counts only what follows
the text. LoRA (peft) by default, full fine-tuning with ``lora=False``; gradient
accumulation keeps the micro-batches small; a GPU and mixed precision are used when torch
sees one, never required.

Prediction writes the rationale greedily up to the end of its line, then scores every label
of the scheme as a continuation of ``Label:``: the label's probability is its sequence
probability renormalised over the scheme's labels. The answer is therefore always a label of
the scheme, and ``predict_proba`` is a real score (ROC-AUC works).

For the service and the report: :meth:`ReasonerClassifier.predict_with_rationale` returns
``Reasoned(label, scores, rationale)`` per text (``explain`` is the same, by name).
Single-label schemes only (the 7-level scale and French included).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sentiforge.classifiers import causal_lm as lm
from sentiforge.classifiers.base import (
    ModelInfo,
    Target,
    check_training_data,
    is_multi,
    read_info,
    versions,
    write_info,
)
from sentiforge.errors import ConfigError, DataError
from sentiforge.labels import LabelScheme

DEFAULTS: dict[str, Any] = {
    "base_model": lm.GEMMA,
    "lora": True,
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.05,
    "lora_targets": ["q_proj", "v_proj"],
    "epochs": 1,
    "batch_size": 4,  # micro-batch
    "grad_accum": 4,  # optimizer step every batch_size * grad_accum samples
    "lr": 2e-4,  # LoRA; use ~2e-5 for full fine-tuning
    "warmup": 0.1,
    "max_text_tokens": 128,
    "max_rationale_tokens": 48,
    "max_steps": None,  # stop after this many optimizer steps (tests, quick checks)
    "seed": 0,
}


SENTENCE_ENDS = (".", "!", "?")


def first_sentence(text: str) -> str:
    """The rationale: the first line, up to the end of its first sentence."""
    line = text.split("\n")[0].strip()
    cut = re.search(r"[.!?](\s|$)", line)
    return line[: cut.start() + 1] if cut else line


@dataclass(frozen=True)
class Reasoned:
    """One answer: the label, every label's probability, and the rationale written before it."""

    label: str
    scores: dict[str, float]
    rationale: str


class ReasonerClassifier:
    kind: ClassVar[str] = "reasoner"
    uses_rationales: ClassVar[bool] = True
    uses_base_models: ClassVar[bool] = True  # takes base_model_dir: where packaged base models are joined

    def __init__(
        self, scheme: LabelScheme, *, device: str | None = None, base_model_dir: Path | None = None, **params: Any
    ) -> None:
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ConfigError(f"unknown reasoner option(s) {sorted(unknown)}; allowed: {sorted(DEFAULTS)}")
        if is_multi(scheme):
            raise ConfigError(f"the reasoner answers one label; scheme '{scheme.name}' is multi-label")
        self.scheme = scheme
        self.params = {**DEFAULTS, **params}
        self.device = device
        self.base_model_dir = base_model_dir  # SENTIFORGE_MODEL_DIR, handed down (not saved with the model)
        self.info = ModelInfo(kind=self.kind, scheme=scheme.model_dump(mode="json"), params=dict(self.params))
        self.losses: list[float] = []
        self.rationale_share = 0.0
        self._model: Any = None
        self._tok: Any = None
        self._stops: list[int] | None = None

    # -- prompt format ----------------------------------------------------------------
    def _ids(self, text: str, *, first: bool = False) -> list[int]:
        return list(self._tok(text, add_special_tokens=first)["input_ids"])

    def _prompt(self, text: str) -> list[int]:
        body = self._ids(f" {text.strip()}")[: self.params["max_text_tokens"]]
        return self._ids("Text:", first=True) + body + self._ids("\n")

    def _answer(self, rationale: str | None) -> list[int]:
        """The tokens before the label: an optional rationale line, then ``Label:``."""
        line = self._ids(f"Rationale: {rationale.strip()}\n") if rationale and rationale.strip() else []
        return line + self._ids("Label:")

    def _label_ids(self) -> list[list[int]]:
        return [[*self._ids(f" {label}"), self._tok.eos_token_id] for label in self.scheme.labels]

    # -- training ---------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        targets: Sequence[Target],
        *,
        sample_weight: Sequence[float] | None = None,
        rationales: Sequence[str | None] | None = None,
    ) -> ReasonerClassifier:
        torch = lm.torch_module()
        y = check_training_data(texts, targets, self.scheme)
        why = list(rationales) if rationales is not None else [None] * len(texts)
        if len(why) != len(texts):
            raise DataError(f"got {len(texts)} texts but {len(why)} rationales")
        torch.manual_seed(self.params["seed"])
        self._setup(lm.load_base(self.params["base_model"], self.base_model_dir))
        labels = self._label_ids()
        rows = [self._prompt(t) + self._answer(r) + labels[int(k)] for t, r, k in zip(texts, why, y, strict=True)]
        starts = [len(self._prompt(t)) for t in texts]
        w = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.rationale_share = float(np.mean([bool(r and r.strip()) for r in why]))
        self._train(rows, starts, w)
        self.info.versions = versions("torch", "transformers", "peft", "gguf", "safetensors")
        self.info.versions["base_model"] = lm.base_identity(self.params["base_model"], self.base_model_dir)
        return self

    def _setup(self, base: tuple[Any, Any]) -> None:
        model, self._tok = base
        self.device = lm.pick_device(self.device)
        if self.params["lora"]:
            model = lm.with_lora(model, self.params)
        self._model = model.to(self.device)

    def _batch(self, rows: list[list[int]], starts: list[int]) -> tuple[Any, Any, Any]:
        torch = lm.torch_module()
        width = max(len(r) for r in rows)
        pad = self._tok.pad_token_id
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        target = torch.full((len(rows), width), -100, dtype=torch.long)
        for i, (row, start) in enumerate(zip(rows, starts, strict=True)):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
            target[i, start : len(row)] = torch.tensor(row[start:])
        return ids.to(self.device), mask.to(self.device), target.to(self.device)

    def _row_losses(self, ids: Any, mask: Any, target: Any) -> Any:
        """Mean token loss of each row over its answer tokens."""
        torch = lm.torch_module()
        device = self.device or "cpu"
        width = ids.shape[1]
        first = int((target != -100).to(torch.int8).argmax(1).min())  # the earliest answer token
        keep = min(width, width - first + 1)  # logits only from there: the vocabulary is large (262k for Gemma)
        with torch.autocast(device_type="cuda", dtype=lm.compute_dtype(device), enabled=device.startswith("cuda")):
            out = self._model(input_ids=ids, attention_mask=mask, logits_to_keep=keep)
        logits = out.logits[:, :-1].float()
        gold = target[:, width - keep + 1 :]
        tok = torch.nn.functional.cross_entropy(logits.transpose(1, 2), gold, ignore_index=-100, reduction="none")
        counted = (gold != -100).sum(1).clamp(min=1)
        return tok.sum(1) / counted

    def _train(self, rows: list[list[int]], starts: list[int], w: np.ndarray) -> None:
        torch = lm.torch_module()
        p = self.params
        bs, accum = p["batch_size"], p["grad_accum"]
        steps = p["epochs"] * math.ceil(len(rows) / (bs * accum))
        if p["max_steps"] is not None:
            steps = min(steps, int(p["max_steps"]))
        trainable = [q for q in self._model.parameters() if q.requires_grad]
        opt = torch.optim.AdamW(trainable, lr=p["lr"], weight_decay=0.0)
        warm = max(1, int(steps * p["warmup"]))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm))
        )
        rng = np.random.default_rng(p["seed"])
        self._model.train()
        step, started, epoch_seconds = 0, time.perf_counter(), []
        for _ in range(p["epochs"]):
            order = rng.permutation(len(rows))
            chunks = [order[i : i + bs] for i in range(0, len(order), bs)]
            for g in range(0, len(chunks), accum):
                if step >= steps:
                    break
                self.losses.append(self._step(chunks[g : g + accum], rows, starts, w, trainable))
                opt.step()
                sched.step()
                opt.zero_grad()
                step += 1
            epoch_seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
        self._model.eval()
        self.info.metrics["training"] = {
            "steps": step,
            "loss_first": self.losses[0] if self.losses else None,
            "loss_last": self.losses[-1] if self.losses else None,
            "seconds_per_epoch": [round(s, 1) for s in epoch_seconds],
            "device": self.device,
            "rationale_share": round(self.rationale_share, 3),
        }

    def _step(
        self, chunks: list[np.ndarray], rows: list[list[int]], starts: list[int], w: np.ndarray, trainable: list[Any]
    ) -> float:
        """One optimizer step's worth of micro-batches: gradients accumulate, weighted by samples."""
        torch = lm.torch_module()
        total_w = float(sum(w[c].sum() for c in chunks)) or 1.0
        seen = 0.0
        for chunk in chunks:
            ids, mask, target = self._batch([rows[i] for i in chunk], [starts[i] for i in chunk])
            weights = torch.tensor(w[chunk], dtype=torch.float32, device=self.device)
            loss = (self._row_losses(ids, mask, target) * weights).sum() / total_w
            loss.backward()
            seen += float(loss.detach())
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        return seen

    # -- prediction -------------------------------------------------------------------
    def _ready(self) -> None:
        if self._model is None:
            raise ConfigError("this classifier is not trained yet; call fit() first")

    def rationales(self, texts: Sequence[str], *, batch_size: int = 8) -> list[str]:
        """The rationale line the model writes for each text (greedy, up to its newline)."""
        self._ready()
        if self.rationale_share == 0.0:
            return [""] * len(texts)
        lead = self._ids("Rationale:")  # forced: a barely tuned base model may not start its line with it
        out: list[str] = []
        for start in range(0, len(texts), batch_size):
            out += self._generate([self._prompt(t) + lead for t in texts[start : start + batch_size]])
        return out

    def _generate(self, prompts: list[list[int]]) -> list[str]:
        return [first_sentence(self._tok.decode(row, skip_special_tokens=True)) for row in self._continue(prompts)]

    def _continue(self, prompts: list[list[int]]) -> list[list[int]]:
        """The token ids greedy decoding writes after each prompt (left-padded batch)."""
        torch = lm.torch_module()
        width = max(len(p) for p in prompts)
        pad = self._tok.pad_token_id
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        with torch.no_grad():
            gen = self._model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=self.params["max_rationale_tokens"] + 4,
                do_sample=False,
                no_repeat_ngram_size=3,  # greedy decoding of a barely tuned base model loops on a phrase
                pad_token_id=pad,
                eos_token_id=self._stop_ids(),
            )
        return [row.tolist() for row in gen[:, width:]]

    def _stop_ids(self) -> list[int]:
        """Token ids that end the rationale: any holding a newline or ending a sentence, and
        end-of-sequence (the rationales it learns from are one sentence)."""
        if self._stops is None:
            pieces = self._tok.batch_decode([[i] for i in range(len(self._tok))])
            ends = [i for i, piece in enumerate(pieces) if "\n" in piece or piece.rstrip().endswith(SENTENCE_ENDS)]
            self._stops = [*ends, self._tok.eos_token_id]
        return self._stops

    def label_scores(self, texts: Sequence[str], rationales: Sequence[str], *, batch_size: int = 16) -> np.ndarray:
        """P(label | text, rationale) over the scheme's labels: sequence log-probabilities renormalised."""
        self._ready()
        torch = lm.torch_module()
        labels = self._label_ids()
        rows, starts = [], []
        for text, why in zip(texts, rationales, strict=True):
            prefix = self._prompt(text) + self._answer(why)
            rows += [prefix + lab for lab in labels]
            starts += [len(prefix)] * len(labels)
        logp = []
        with torch.no_grad():
            for i in range(0, len(rows), batch_size):
                ids, mask, target = self._batch(rows[i : i + batch_size], starts[i : i + batch_size])
                counted = (target[:, 1:] != -100).sum(1)
                logp.append((-self._row_losses(ids, mask, target) * counted).float().cpu().numpy())
        seq = np.concatenate(logp).reshape(len(texts), len(labels)) if rows else np.zeros((0, len(labels)))
        z = seq - seq.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_with_rationale(self, texts: Sequence[str]) -> list[Reasoned]:
        why = self.rationales(texts)
        proba = self.label_scores(texts, why)
        return [
            Reasoned(
                label=self.scheme.labels[int(np.argmax(row))],
                scores={lab: float(v) for lab, v in zip(self.scheme.labels, row, strict=True)},
                rationale=r,
            )
            for row, r in zip(proba, why, strict=True)
        ]

    explain = predict_with_rationale

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.label_scores(texts, self.rationales(texts))

    def predict(self, texts: Sequence[str]) -> list[Target]:
        return [r.label for r in self.predict_with_rationale(texts)]

    # -- folders ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        self._ready()
        from safetensors.torch import save_file, save_model

        folder = Path(path)
        self.info.params = dict(self.params)
        self.info.metrics.setdefault("training", {})["rationale_share"] = round(self.rationale_share, 3)
        write_info(folder, self.info)
        if self.params["lora"]:
            save_file(lm.adapter_state(self._model), str(folder / "adapter.safetensors"))
        else:
            save_model(self._model, str(folder / "model.safetensors"))
        return folder

    @classmethod
    def load(
        cls,
        path: str | Path,
        info: ModelInfo | None = None,
        *,
        device: str | None = None,
        base_model_dir: Path | None = None,
    ) -> ReasonerClassifier:
        from safetensors.torch import load_file, load_model

        folder = Path(path)
        info = info or read_info(folder)
        clf = cls(LabelScheme.model_validate(info.scheme), device=device, base_model_dir=base_model_dir, **info.params)
        clf.info = info
        clf.rationale_share = float(info.metrics.get("training", {}).get("rationale_share", 1.0))
        clf._setup(lm.load_base(clf.params["base_model"], base_model_dir))
        weights = folder / ("adapter.safetensors" if clf.params["lora"] else "model.safetensors")
        try:
            if clf.params["lora"]:
                lm.load_adapter_state(clf._model, load_file(str(weights), device=clf.device or "cpu"))
            else:
                load_model(clf._model, str(weights), device=clf.device or "cpu")
        except (OSError, RuntimeError) as exc:
            raise DataError(f"cannot load the reasoner weights {weights}: {exc}") from exc
        clf._model.eval()
        return clf
