"""``sentiforge build``: from a few labelled seeds to the best model the data allows.

The best assembly of seeds, an unlabelled pool, synthetic data and classifiers is not the obvious
one (on a 3-class tweet set the contrastive classifier on the seeds alone beat every embedding
classifier fed pseudo-labels), so build measures instead of assuming. Every candidate (a
classifier kind and the sources joining the seeds) is scored by k-fold cross-validation on the
seeds alone (:mod:`sentiforge.classifiers.selection`), in stages that fit a time budget:

1. the fast kinds (TF-IDF, embedding) on the seeds and on the seeds plus each source (pseudo-
   labels at several sizes, each synthetic dataset capped);
2. the same kinds on the seeds plus every source that helped them (sources that hurt are dropped);
3. the slow kinds (contrastive, the transformer's CPU preset; the reasoner on request) on the
   seeds, then on the best fast kind's data, while the estimated time fits;
4. self-training: the leader's own confident labels of the pool (and the best contrastive
   model's), for a second round, kept only when the cross-validation says so.

Each candidate is checked against the budget before it starts and after each of its folds (the
folds left estimated from those done): one that would overrun is stopped and reported as such.

The winner: among the candidates the seeds cannot tell from the best (the paired bootstrap
interval of the difference reaches zero) whose every source scored at least as well with it as
without it, the one trained on the most texts (:func:`~sentiforge.classifiers.selection.choose`
says why). It is trained on everything it chose (its sources fitted on all the seeds), saved with
the build report beside it, and served like any trained model. Generation is not run here: a
generation budget is refused with the command that runs it (``generate`` jobs), whose datasets
then join as ``synthetic``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sentiforge.app.build_plan import Planner
from sentiforge.app.build_report import Built
from sentiforge.app.requests import BuildRequest
from sentiforge.app.training import check_out_dir, sources
from sentiforge.config import DEFAULT_RUNTIME, Runtime
from sentiforge.errors import ConfigError, DataError
from sentiforge.progress import OnProgress
from sentiforge.samples import Sample


def load_inputs(
    request: BuildRequest, db: str | None, runtime: Runtime = DEFAULT_RUNTIME
) -> tuple[list[Sample], Any, list[Sample], dict[str, list[Sample]]]:
    """Seeds (their split, labelled, deduplicated), scheme, pool (less the seeds' texts), synthetic sets."""
    from sentiforge.evaluation.inputs import load_samples
    from sentiforge.io.splits import dedupe

    if request.generate:
        raise ConfigError(
            "build does not generate: run `sentiforge generate --seeds <seeds> -d <name> --count "
            f"{request.generate}` (a job you can watch and resume), then pass --synthetic <name>"
        )
    where = sources(db, runtime)
    samples, scheme = load_samples(request.seeds, request.scheme, **where, language=request.language)
    if request.seed_split and any(s.split == request.seed_split for s in samples):
        samples = [s for s in samples if s.split == request.seed_split]
    seeds = dedupe([s for s in samples if s.status == "accepted" and s.label in scheme.labels])
    if len(seeds) < 2 * request.folds:
        raise DataError(f"build needs at least {2 * request.folds} labelled seeds for {request.folds} folds")
    seed_texts = {s.text.strip().casefold() for s in seeds}
    given = pool_samples(request.pool, db, runtime)
    pool = [s for s in given if s.text.strip().casefold() not in seed_texts]
    if given and not pool:
        raise DataError(
            f"every text of the pool ({len(given)}) is one of the seeds: give unlabelled texts that are not the seeds"
        )
    synthetic = {name: load_samples(name, scheme, **where)[0] for name in request.synthetic}
    return seeds, scheme, pool, synthetic


def pool_samples(spec: str | None, db: str | None, runtime: Runtime = DEFAULT_RUNTIME) -> list[Sample]:
    """Unlabelled texts from a file (``.txt``, ``.jsonl``, ``.csv``: its ``text`` column) or a
    store dataset; any labels they carry are dropped."""
    if not spec:
        return []
    path = Path(spec)
    if path.suffix.lower() in {".txt", ".jsonl", ".ndjson", ".csv", ".tsv"} and path.is_file():
        from sentiforge.grounding import read_texts

        return [Sample(text=t) for t in dict.fromkeys(read_texts(path))]
    from sentiforge.evaluation.inputs import load_samples

    samples, _ = load_samples(spec, None, **sources(db, runtime))
    return [Sample(id=s.id, text=s.text, language=s.language) for s in samples]


def build(
    request: BuildRequest,
    *,
    db: str | None = None,
    runtime: Runtime = DEFAULT_RUNTIME,
    progress: OnProgress | None = None,
) -> Built:
    """Score the candidates, train the winner on everything it chose, save it with its report."""
    check_out_dir(Path(request.out_dir))
    seeds, scheme, pool, synthetic = load_inputs(request, db, runtime)
    return build_from(request, seeds, scheme, pool, synthetic, progress=progress, base_model_dir=runtime.model_dir)


def build_from(
    request: BuildRequest,
    seeds: list[Sample],
    scheme: Any,
    pool: list[Sample],
    synthetic: dict[str, list[Sample]],
    *,
    progress: OnProgress | None = None,
    base_model_dir: Path | None = None,
) -> Built:
    """:func:`build` on data already loaded (what the benchmark calls, with the labels of the pool
    hidden); a reasoner candidate joins its packaged base model into ``base_model_dir``."""
    planner = Planner.for_request(request, seeds, scheme, pool, synthetic, progress, base_model_dir)
    planner.run_stages()
    return planner.finish(Path(request.out_dir))


__all__ = ["BuildRequest", "Built", "build", "build_from", "load_inputs", "pool_samples"]
