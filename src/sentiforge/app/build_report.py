"""The build report: every candidate's cross-validated macro-F1 with its interval (a plot and a
table), each source's measured contribution, and what the time budget left out. Written as
``build.json`` and ``build.html`` beside the built model."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentiforge.classifiers.selection import CrossValidation

KIND_COLOURS = {
    "tfidf": "#94a3b8",
    "embedding": "#2563eb",
    "contrastive": "#10b981",
    "transformer": "#f97316",
    "reasoner": "#a855f7",
    "fake": "#64748b",
}


@dataclass
class Built:
    """What a build made: the saved model's folder, the winner, every candidate's score, the report's files."""

    folder: Path
    winner: dict[str, Any]
    candidates: list[dict[str, Any]]
    contributions: dict[str, Any]
    skipped: list[dict[str, Any]]
    pseudo_labels: dict[str, Any]
    seeds: int
    pool: int
    language: str
    folds: int
    seconds: float
    report: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        out = asdict(self)
        out["folder"] = str(self.folder)
        return out


def contributions(cv: CrossValidation) -> dict[str, Any]:
    """Per source and classifier kind: the candidate with the source minus the same candidate
    without it (paired over the seeds), for every such pair that was scored."""
    out: dict[str, Any] = {}
    for run in cv.scored.values():
        c = run.candidate
        for source in c.sources:
            base = c.on(tuple(s for s in c.sources if s != source))
            if base.name in cv.scored:
                entry = {"with": c.name, "without": base.name, **cv.difference(c, base)}
                out.setdefault(source, []).append(entry)
    return {
        source: {"pairs": pairs, "helps": any(p["gain"] > 0 for p in pairs), "best_gain": max(p["gain"] for p in pairs)}
        for source, pairs in out.items()
    }


def verdict(name: str, info: dict[str, Any], winner: dict[str, Any]) -> str:
    """What the cross-validation said of a source, and whether the chosen model trains on it: a
    source with no measurable effect may stay in a winner (it was tied, and trained on more)."""
    said = "helps" if info["best_gain"] > 0 else "hurts" if info["best_gain"] < 0 else "no measurable change"
    used = name in winner.get("sources", [])
    return f"{said}; {'in' if used else 'not in'} the chosen model"


def plot_candidates(candidates: list[dict[str, Any]], winner: str) -> str:
    """Horizontal bars of macro-F1 with 95% intervals, one per candidate, best on top (SVG)."""
    from sentiforge.evaluation.report import _plt, _svg

    plt = _plt()
    rows = list(reversed(candidates))
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) + 1.2))
    for y, c in enumerate(rows):
        low, high = c["interval"]
        colour = KIND_COLOURS.get(c["kind"], "#334155")
        ax.barh(y, c["macro_f1"], color=colour, alpha=1.0 if c["candidate"] == winner else 0.55)
        ax.errorbar(c["macro_f1"], y, xerr=[[c["macro_f1"] - low], [high - c["macro_f1"]]], color="#0f172a", lw=1)
    ax.set_yticks(range(len(rows)), [c["candidate"] + (" (chosen)" if c["candidate"] == winner else "") for c in rows])
    ax.set_xlabel("macro-F1, cross-validated on the seeds (95% bootstrap interval)")
    ax.set_xlim(0, 1)
    ax.set_title("Candidates")
    return str(_svg(fig))


def write_build_report(built: Built, folder: Path) -> dict[str, str]:
    data = built.to_dict()
    paths = {"json": folder / "build.json", "html": folder / "build.html"}
    paths["json"].write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["html"].write_text(render(built), encoding="utf-8")
    return {k: str(v) for k, v in paths.items()}


def render(built: Built) -> str:
    winner = built.winner["candidate"]
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(c['candidate'])}</td><td>{c['macro_f1']:.3f}</td>"
        f"<td>[{c['interval'][0]:.3f}, {c['interval'][1]:.3f}]</td><td>{'yes' if c.get('tied_with_best') else ''}</td>"
        f"<td>{c['trained_on'][0]}</td><td>{c['seconds']:.0f}</td></tr>"
        for c in built.candidates
    )
    sources = "".join(
        f"<tr><td>{esc(name)}</td><td>{esc(verdict(name, info, built.winner))}</td><td>"
        + "; ".join(
            f"{esc(p['with'])}: {p['gain']:+.3f} [{p['interval'][0]:+.3f}, {p['interval'][1]:+.3f}]"
            for p in info["pairs"]
        )
        + "</td></tr>"
        for name, info in built.contributions.items()
    )
    skipped = "".join(f"<li>{esc(s['candidate'])}: {esc(s['why'])}</li>" for s in built.skipped) or "<li>none</li>"
    return PAGE.format(
        winner=esc(winner),
        f1=built.winner["macro_f1"],
        low=built.winner["interval"][0],
        high=built.winner["interval"][1],
        seeds=built.seeds,
        pool=built.pool,
        folds=built.folds,
        language=esc(built.language),
        minutes=built.seconds / 60,
        plot=plot_candidates(built.candidates, winner),
        rows=rows,
        sources=sources or "<tr><td colspan=3>no source besides the seeds</td></tr>",
        skipped=skipped,
        rule=esc(RULE),
        pseudo=esc(pseudo_note(built.pseudo_labels)),
    )


RULE = (
    "Chosen among the candidates the seeds cannot tell from the best (the paired bootstrap interval "
    "of the difference reaches zero) whose every source scored at least as well with it as without "
    "it: the one trained on the most texts. On a few hundred seeds the top candidates sit within a "
    "point or two with intervals several points wide, so the best score alone would pick the luckiest."
)


def pseudo_note(summary: dict[str, Any]) -> str:
    """The pseudo-labels' promise (measured on folds the thresholds did not see) against the
    precision asked; build tries them even below it, as candidates the cross-validation judges."""
    if not summary:
        return "No pool: no pseudo-labels."
    promised, asked = summary.get("promised_precision", 0.0), summary.get("asked_precision", 0.0)
    text = (
        f"Pseudo-labels: {summary.get('kept', 0)} of {summary.get('examined', 0)} pool texts kept, "
        f"promised precision {promised:.2f} (asked {asked:.2f}) on seeds the thresholds did not see."
    )
    if promised < asked:
        text += (
            " Below the precision asked: `sentiforge pseudo-label` would keep nothing without "
            "--accept-lower; build tries them anyway, as candidates the cross-validation judges."
        )
    return text


def _gain(pair: dict[str, Any]) -> str:
    low, high = pair["interval"]
    return f"{html.escape(pair['with'])}: {pair['gain']:+.3f} [{low:+.3f}, {high:+.3f}]"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sentiforge build: {winner}</title>
<style>body{{font:14px/1.5 system-ui,sans-serif;max-width:1000px;margin:24px auto;color:#0f172a}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #e2e8f0;padding:4px 8px;text-align:left}}
.big{{font-size:28px;font-weight:700}}</style></head><body>
<h1>sentiforge build</h1>
<p class="big">{winner}: macro-F1 {f1:.3f} [{low:.3f}, {high:.3f}]</p>
<p>Chosen by {folds}-fold cross-validation on {seeds} labelled seeds (language {language}); pool of {pool}
unlabelled texts; {minutes:.1f} minutes. Every score below is on seeds the candidate never trained on.</p>
<h2>Candidates</h2>{plot}
<p>{rule}</p>
<table><tr><th>candidate</th><th>macro-F1</th><th>95% interval</th><th>tied with the best</th>
<th>trained on (per fold)</th><th>seconds</th></tr>
{rows}</table>
<p>{pseudo}</p>
<h2>What each source contributed</h2>
<table><tr><th>source</th><th>verdict</th><th>gain over the same classifier without it [paired interval]</th></tr>
{sources}</table>
<h2>Stopped or left out by the time budget</h2><ul>{skipped}</ul>
</body></html>
"""
