"""An evaluation's findings (:class:`Evaluation`) and the report they make: one self-contained
HTML file, plus the data of every figure as JSON.

Figures are drawn with matplotlib into inline SVG (no CDN, no scripts, no external files),
so the page opens anywhere, offline, and prints. Each figure's numbers also go into
``figures.json`` so they can be re-plotted or diffed between runs.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sentiforge.errors import require

if TYPE_CHECKING:
    from sentiforge.evaluation.bias import BiasAudit
    from sentiforge.evaluation.tstr import TSTRResult
    from sentiforge.labels import LabelScheme

COLORS = {"trtr": "#2563eb", "tstr": "#f97316", "mix": "#10b981", "real": "#2563eb", "synthetic": "#f97316"}
SETTING_NAMES = {"trtr": "TRTR (real)", "tstr": "TSTR (synthetic)", "mix": "Mixed"}


@dataclass
class Evaluation:
    """What :func:`sentiforge.evaluation.pipeline.evaluate` found: TSTR per kind, similarity, bias."""

    scheme: LabelScheme
    tstr: dict[str, TSTRResult]
    similarity: dict[str, Any] | None
    bias: dict[str, BiasAudit]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def primary(self) -> TSTRResult:
        return next(iter(self.tstr.values()))

    def headline(self) -> str:
        return "\n".join(r.headline() for r in self.tstr.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme.model_dump(mode="json"),
            "meta": self.meta,
            "tstr": {k: v.to_dict() for k, v in self.tstr.items()},
            "similarity": self.similarity,
            "bias": {k: v.to_dict() for k, v in self.bias.items()},
        }

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """``report.html`` (self-contained), ``report.json`` (every number) and ``figures.json``."""
        return write_report(self, Path(out_dir))


def _plt() -> Any:
    require("matplotlib", feature="the evaluation report", extra="report")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#94a3b8",
            "axes.labelcolor": "#334155",
            "xtick.color": "#475569",
            "ytick.color": "#475569",
            "axes.titleweight": "bold",
            "axes.titlesize": 11,
        }
    )
    return plt


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    _plt().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _finite(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))) else float(x)


# -- figures: each returns (svg, data) ------------------------------------------------------
def fig_headline_bars(ev: Evaluation) -> tuple[str, dict[str, Any]]:
    plt = _plt()
    metric = ev.primary.metric
    kinds = list(ev.tstr)
    data: dict[str, Any] = {"metric": metric, "classifiers": {}}
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    width = 0.8 / 3
    for k, setting in enumerate(("trtr", "tstr", "mix")):
        values, lows, highs = [], [], []
        for kind in kinds:
            s = ev.tstr[kind].settings[setting]
            v = s.scores[metric]
            lo, hi = s.ci.get(metric, (v, v))
            values.append(v)
            lows.append(max(0.0, v - lo) if not math.isnan(lo) else 0.0)
            highs.append(max(0.0, hi - v) if not math.isnan(hi) else 0.0)
            data["classifiers"].setdefault(kind, {})[setting] = {"value": v, "ci": [_finite(lo), _finite(hi)]}
        x = np.arange(len(kinds)) + (k - 1) * width
        ax.bar(x, values, width, yerr=[lows, highs], capsize=3, color=COLORS[setting], label=SETTING_NAMES[setting])
    ax.set_xticks(np.arange(len(kinds)), kinds)
    ax.set_ylim(0, 1)
    ax.set_ylabel(metric.replace("_", "-"))
    ax.legend(frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.5, 1.18))
    return _svg(fig), data


def fig_per_class_f1(result: Any) -> tuple[str, dict[str, Any]]:
    plt = _plt()
    labels = result.settings["trtr"].scores["labels"]
    data = {s: {lab: result.settings[s].scores["per_class"][lab]["f1"] for lab in labels} for s in result.settings}
    fig, ax = plt.subplots(figsize=(max(4.8, 1.1 * len(labels) + 2), 3.0))
    width = 0.8 / 3
    for k, setting in enumerate(("trtr", "tstr", "mix")):
        x = np.arange(len(labels)) + (k - 1) * width
        ax.bar(x, [data[setting][lab] for lab in labels], width, color=COLORS[setting], label=SETTING_NAMES[setting])
    ax.set_xticks(
        np.arange(len(labels)),
        labels,
        rotation=20 if len(labels) > 4 else 0,
        ha="right" if len(labels) > 4 else "center",
    )
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(f"Per-class F1, {result.classifier}")
    ax.legend(
        frameon=False, fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.18 if len(labels) > 4 else -0.12)
    )
    return _svg(fig), {"classifier": result.classifier, "f1": data}


def fig_confusions(result: Any) -> tuple[str, dict[str, Any]] | None:
    if "confusion" not in result.settings["trtr"].scores:
        return None  # multi-label: no single confusion matrix
    plt = _plt()
    labels = result.settings["trtr"].scores["labels"]
    n = len(labels)
    size = 2.2 + 0.35 * n
    fig, axes = plt.subplots(1, 3, figsize=(3 * size, size))
    data = {}
    for ax, setting in zip(axes, ("trtr", "tstr", "mix"), strict=True):
        cm = np.array(result.settings[setting].scores["confusion"], dtype=float)
        data[setting] = cm.astype(int).tolist()
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    f"{int(cm[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=8 if n < 6 else 6,
                    color="white" if norm[i, j] > 0.55 else "#0f172a",
                )
        ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(n), labels if setting == "trtr" else [""] * n, fontsize=8)
        ax.set_title(SETTING_NAMES[setting], color=COLORS[setting])
        ax.set_xlabel("predicted")
        for spine in ax.spines.values():
            spine.set_visible(False)
    axes[0].set_ylabel("true")
    fig.tight_layout()
    return _svg(fig), {"classifier": result.classifier, "labels": labels, "confusion": data}


def fig_projection(sim: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    proj = sim.get("projection")
    if not proj:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    for side in ("real", "synthetic"):
        pts = np.array(proj[side]).reshape(-1, 2)
        ax.scatter(
            pts[:, 0], pts[:, 1], s=7, alpha=0.45, color=COLORS[side], label=f"{side} ({len(pts)})", linewidths=0
        )
    ev = proj["explained_variance"]
    ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ev[1]:.0%})")
    ax.legend(frameon=False, markerscale=2.5)
    ax.set_title(f"Sentence embeddings ({sim.get('embedder')}), PCA")
    return _svg(fig), proj


def fig_lengths(sim: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    plt = _plt()
    h = sim["length_histogram"]
    edges = np.array(h["edges"])
    centers, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    fig, ax = plt.subplots(figsize=(5.6, 3.0))
    for side in ("real", "synthetic"):
        counts = np.array(h[side], dtype=float)
        share = counts / max(1.0, counts.sum())
        if side == "real":
            ax.bar(centers, share, width * 0.95, alpha=0.35, color=COLORS[side], label=side)
        else:
            ax.step(edges, np.r_[share, share[-1]], where="post", color=COLORS[side], linewidth=2, label=side)
    ax.set_xlabel("words per text")
    ax.set_ylabel("share of texts")
    ax.legend(frameon=False)
    ax.set_title("Length")
    return _svg(fig), h


def fig_labels(sim: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    plt = _plt()
    lab = sim["labels"]
    labels = lab["labels"]
    fig, ax = plt.subplots(figsize=(max(4.6, 0.9 * len(labels) + 2), 3.0))
    width = 0.38
    for k, side in enumerate(("real", "synthetic")):
        total = max(1, sum(lab[side].values()))
        ax.bar(
            np.arange(len(labels)) + (k - 0.5) * width,
            [lab[side].get(x, 0) / total for x in labels],
            width,
            color=COLORS[side],
            label=f"{side} ({total})",
        )
    ax.set_xticks(np.arange(len(labels)), labels, rotation=20 if len(labels) > 4 else 0)
    ax.set_ylabel("share")
    ax.legend(frameon=False)
    ax.set_title(f"Label balance (total variation {lab['total_variation']:.2f})")
    return _svg(fig), lab


def fig_attributes(audit: Any) -> tuple[str, dict[str, Any]] | None:
    attrs = [a for a in audit.attributes if a.attribute != "language"][:4]
    if not attrs:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(attrs), figsize=(3.6 * len(attrs), 3.2), squeeze=False)
    data = {}
    for ax, a in zip(axes[0], attrs, strict=True):
        values = list(a.counts)
        ax.barh(values, [a.counts[v] for v in values], color="#64748b")
        if a.error_rates:
            for y, v in enumerate(values):
                ax.text(a.counts[v], y, f" {a.error_rates[v]:.0%} err", va="center", fontsize=7, color="#b91c1c")
        ax.set_title(a.attribute)
        ax.tick_params(axis="y", labelsize=7)
        data[a.attribute] = {"counts": a.counts, "error_rates": a.error_rates}
    fig.tight_layout()
    return _svg(fig), data


# -- page ---------------------------------------------------------------------------------------
def build_figures(ev: Evaluation) -> tuple[dict[str, str], dict[str, Any]]:
    svgs: dict[str, str] = {}
    data: dict[str, Any] = {}

    def add(key: str, made: tuple[str, dict[str, Any]] | None) -> None:
        if made is not None:
            svgs[key], data[key] = made

    add("headline", fig_headline_bars(ev))
    for kind, result in ev.tstr.items():
        add(f"per_class_f1_{kind}", fig_per_class_f1(result))
        add(f"confusion_{kind}", fig_confusions(result))
    if ev.similarity:
        add("projection", fig_projection(ev.similarity))
        add("lengths", fig_lengths(ev.similarity))
        add("labels", fig_labels(ev.similarity))
    add("attributes", fig_attributes(ev.bias["synthetic"]))
    return svgs, data


def verdict(ratio: float) -> tuple[str, str]:
    """A plain-words reading of the headline ratio, and its colour."""
    if math.isnan(ratio):
        return "no reference score", "#64748b"
    if ratio >= 0.95:
        return "synthetic data trains about as well as real data", "#15803d"
    if ratio >= 0.85:
        return "synthetic data is a good stand-in for real data", "#16a34a"
    if ratio >= 0.7:
        return "synthetic data helps, but falls short of real data", "#d97706"
    return "synthetic data alone does not match real data", "#dc2626"


def render(ev: Evaluation, svgs: dict[str, str]) -> str:
    import jinja2

    template_text = resources.files("sentiforge").joinpath("report/report.html").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["pct"] = lambda v, d=1: "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}%}"
    env.filters["num"] = lambda v, d=3: (
        "n/a" if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))) else f"{v:.{d}f}"
    )
    env.tests["finite"] = lambda v: isinstance(v, int | float) and math.isfinite(v)
    env.filters["times"] = lambda v: "n/a" if v is None or not math.isfinite(v) else f"{v:.1f}&times;"
    primary = ev.primary
    text, colour = verdict(primary.ratio)
    return env.from_string(template_text).render(
        ev=ev,
        data=ev.to_dict(),
        primary=primary,
        verdict=text,
        verdict_colour=colour,
        svg={k: jinja2.utils.markupsafe.Markup(v) for k, v in svgs.items()},
        names=SETTING_NAMES,
        colors=COLORS,
    )


def write_report(ev: Evaluation, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    svgs, data = build_figures(ev)
    paths = {"html": out_dir / "report.html", "json": out_dir / "report.json", "figures": out_dir / "figures.json"}
    paths["html"].write_text(render(ev, svgs), encoding="utf-8")
    paths["json"].write_text(json.dumps(json_safe(ev.to_dict()), indent=2, ensure_ascii=False), encoding="utf-8")
    paths["figures"].write_text(json.dumps(json_safe(data), ensure_ascii=False), encoding="utf-8")
    return paths


def json_safe(value: Any) -> Any:
    """JSON-safe: NaN and infinity become null, tuples lists, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value
