"""The stages of ``sentiforge build`` (see :mod:`sentiforge.app.build`): which candidates are
cross-validated in what order within the time budget, and the winner's final training."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiforge.app.build_report import Built, contributions, write_build_report
from sentiforge.app.requests import BuildRequest
from sentiforge.app.training_sources import PseudoLabelled, PseudoLabeller, SelfLabelled, Synthetic
from sentiforge.classifiers.selection import (
    Candidate,
    CrossValidation,
    Scored,
    Source,
    choose,
    sources_earned_their_place,
)
from sentiforge.errors import BudgetExceededError
from sentiforge.progress import OnProgress, Update

if TYPE_CHECKING:
    import numpy as np

    from sentiforge.classifiers.base import Classifier
    from sentiforge.labels import LabelScheme
    from sentiforge.samples import Sample


FAST = ("tfidf", "embedding", "fake")
# Seconds per fit of 200 texts on 2 idle cores, before any fit is timed; scaled by training size
# and by the load per core (:func:`contention`).
# An embedding body with E5 in it encodes ~50 texts/s where MiniLM does ~500.
PRIOR_SECONDS = {
    "tfidf": 0.5,
    "embedding": 2.0,
    "embedding(multilingual)": 8.0,
    "embedding(minilm+multilingual)": 8.0,
    "fake": 0.1,
    "transformer": 50.0,
    "contrastive": 130.0,
}
KIND_PARAMS: dict[str, dict[str, Any]] = {"transformer": {"preset": "cpu"}}


TEACHING_POOL = 1000


def contention() -> float:
    """How much slower than on idle cores a fit should run now: the load per core (at least 1).
    The priors were timed on idle cores; on a shared machine at load 12 on 2 cores one fold of the
    contrastive kind took 15.6 minutes against its prior of 1.7, and overran the whole budget."""
    import os

    try:
        load = os.getloadavg()[0]
    except OSError:  # not on every platform
        return 1.0
    return max(1.0, load / (os.cpu_count() or 1))


@dataclass
class Budget:
    """Seconds left, and what a candidate is expected to cost (priors, then measured rates)."""

    seconds: float
    started: float = field(default_factory=time.perf_counter)
    rate: dict[str, float] = field(default_factory=dict)  # seconds per training text, measured

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.started)

    def cost(self, arm: str, sizes: list[int]) -> float:
        """Seconds to fit a classifier (a kind, or a kind and its variant) on sets of these sizes."""
        if arm in self.rate:  # measured here, under this machine's load
            return self.rate[arm] * sum(sizes)
        prior = PRIOR_SECONDS.get(arm, PRIOR_SECONDS.get(arm.split("(")[0], 600.0))
        return prior / 200 * sum(sizes) * contention()

    def learn(self, arm: str, seconds: float, sizes: list[int]) -> None:
        self.rate[arm] = seconds / max(1, sum(sizes))


@dataclass
class Planner:
    request: BuildRequest
    cv: CrossValidation
    pool: list[Sample]
    budget: Budget
    progress: OnProgress | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    labeller: PseudoLabeller | None = None
    done: int = 0
    total: int = 0
    _final: dict[str, Classifier] = field(default_factory=dict)

    @classmethod
    def for_request(
        cls,
        request: BuildRequest,
        seeds: list[Sample],
        scheme: LabelScheme,
        pool: list[Sample],
        synthetic: dict[str, list[Sample]],
        progress: OnProgress | None,
        base_model_dir: Path | None = None,
    ) -> Planner:
        language = Counter(s.language for s in seeds).most_common(1)[0][0]
        pool = [s.model_copy(update={"language": language}) for s in pool]
        sources: dict[str, Source] = {}
        labeller = None
        if pool:
            labeller = PseudoLabeller(
                pool, scheme, request.pseudo_precision, lexicon=language.startswith("en"), seed=request.seed
            )
            for factor in [*request.pseudo_sizes, None]:
                source = PseudoLabelled(labeller, factor)
                sources[source.name] = source
        for name, samples in synthetic.items():
            source_s = Synthetic(name, samples, request.synthetic_cap, request.seed)
            sources[source_s.name] = source_s
        cv = CrossValidation(
            seeds,
            scheme,
            sources,
            k=request.folds,
            seed=request.seed,
            language=language,
            pool=[s.text for s in teaching_pool(pool, len(seeds), request.seed)] if request.self_training else [],
            base_model_dir=base_model_dir,
        )
        return cls(request, cv, pool, Budget(request.max_minutes * 60), progress, labeller=labeller)

    # -- stages ---------------------------------------------------------------------
    def run_stages(self) -> None:
        every = arms(self.request.classifiers, self.cv.language)
        fast = [a for a in every if a.kind in FAST]
        slow = [a for a in every if a.kind not in FAST]
        if self.cv.language.split("-")[0] != "en" and any(a.kind == "transformer" for a in slow):
            slow = [a for a in slow if a.kind != "transformer"]  # its body is the English MiniLM
            self.skipped.append({"candidate": "transformer", "why": f"English body only (data: {self.cv.language})"})
        options: list[tuple[str, ...]] = [(), *[(name,) for name in self.cv.sources]]
        self.stage("fast classifiers, each source", [a.on(o) for a in fast for o in options])
        self.stage("fast classifiers, the sources that helped", self.combined(fast))
        self.stage("slow classifiers on the seeds", slow)
        best = self.best_data()
        if best:
            self.stage("slow classifiers on the best data", [a.on(best) for a in slow])
        if self.request.self_training and self.pool:
            self.stage("self-training", self.second_round(fast))

    def stage(self, name: str, candidates: list[Candidate]) -> None:
        """Cross-validate each candidate that the time left allows, the final training kept aside
        (estimated just before it runs, with the rates the fits so far measured)."""
        todo = []
        for c in dict.fromkeys(candidates):
            if c.name not in self.cv.scored:
                sizes = [len(self.cv.training_set(c, 0))] * self.cv.k
                todo.append((c, sizes, work(self.budget.cost(c.arm, sizes))))
        self.total += sum(planned for *_, planned in todo)
        for c, sizes, planned in todo:
            cost, final = self.budget.cost(c.arm, sizes), self.budget.cost(c.arm, [self.final_size(sizes)])
            if cost + max(final, self.leader_final()) > self.budget.left():
                why = f"estimated {cost / 60:.1f} min, {max(0.0, self.budget.left()) / 60:.1f} min left"
                self.skipped.append({"candidate": c.name, "why": why})
                self.total -= planned
                continue
            self.cross_validate(name, c, sizes, planned)

    def cross_validate(self, stage: str, c: Candidate, sizes: list[int], planned: int) -> None:
        """One candidate's folds; after each, the folds left are estimated from the folds so far
        and the candidate is stopped (reported as such) when they and the final training would
        overrun the budget."""
        per_fold, folds_done = planned // self.cv.k, [0]

        def tick() -> None:
            self.done += per_fold
            folds_done[0] += 1
            self.report(f"{stage}: {c.name}")

        def keep_going(seconds_left: float) -> bool:
            left = self.cv.k - folds_done[0]
            self.budget.learn(c.arm, seconds_left / left * self.cv.k, sizes)  # the first fold's rate, at once
            reserve = max(self.budget.cost(c.arm, [self.final_size(sizes)]), self.leader_final())
            if seconds_left + reserve <= self.budget.left():
                return True
            self.skipped.append(
                {
                    "candidate": c.name,
                    "why": f"stopped after fold {folds_done[0]} of {self.cv.k}: the other folds "
                    f"{seconds_left / 60:.1f} min and the final training {reserve / 60:.1f} min, "
                    f"{max(0.0, self.budget.left()) / 60:.1f} min left",
                    "stopped": True,
                }
            )
            self.total -= per_fold * left
            return False

        scored = self.cv.run(c, progress=tick, keep_going=keep_going)
        if scored is not None:
            self.budget.learn(c.arm, scored.seconds, scored.trained_on)

    def report(self, message: str) -> None:
        if self.progress:
            self.progress(Update(done=self.done, total=max(self.total, self.done), stage=message))

    def final_size(self, fold_sizes: list[int]) -> int:
        return round(fold_sizes[0] * self.cv.k / (self.cv.k - 1))

    def leader_final(self) -> float:
        if not self.cv.scored:
            return 0.0
        leader = self.leader()
        return self.budget.cost(leader.candidate.arm, [self.final_size(leader.trained_on)])

    def leader(self, kind: str | None = None) -> Scored:
        runs = [r for r in self.cv.scored.values() if kind is None or r.candidate.kind == kind]
        fn = _macro_f1(self.cv)
        return max(runs, key=lambda r: fn(r))

    def combined(self, fast: list[Candidate]) -> list[Candidate]:
        """Per fast classifier: the seeds plus every source that beat the seeds alone (the best
        pseudo-label size only), when that is two sources or more."""
        fn, out = _macro_f1(self.cv), []
        for arm in fast:
            base = self.cv.scored.get(arm.name)
            if base is None:
                continue
            helped = [
                (fn(r), r.candidate.sources[0])
                for r in self.cv.scored.values()
                if r.candidate.arm == arm.arm and len(r.candidate.sources) == 1 and fn(r) > fn(base)
            ]
            pseudo = max((h for h in helped if h[1].startswith("pseudo")), default=None)
            chosen = [s for _, s in helped if not s.startswith("pseudo")] + ([pseudo[1]] if pseudo else [])
            if len(chosen) >= 2:
                out.append(arm.on(tuple(sorted(chosen))))
        return out

    def best_data(self) -> tuple[str, ...]:
        """The sources of the best fast candidate (the embedding kind's, when it ran)."""
        kinds = [k for k in ("embedding", *FAST) if any(r.candidate.kind == k for r in self.cv.scored.values())]
        return self.leader(kinds[0]).candidate.sources if kinds else ()

    def second_round(self, fast: list[Candidate]) -> list[Candidate]:
        """The leader's confident labels of the pool (and the best contrastive model's) as a
        source for the fast classifiers and the teacher's own."""
        teachers = [self.leader()]
        if any(r.candidate.kind == "contrastive" for r in self.cv.scored.values()):
            best = self.leader("contrastive")
            if best is not teachers[0]:
                teachers.append(best)
        out, data = [], self.best_data()
        for teacher in teachers:
            taught = teaching_pool(self.pool, len(self.cv.seeds), self.request.seed)
            source = SelfLabelled(teacher.candidate.name, taught, self.cv.scheme, self._proba_of(teacher))
            self.cv.sources[source.name] = source
            for arm in fast:  # on the teacher's data, and on the best fast data
                out.append(arm.on((*teacher.candidate.sources, source.name)))
                out.append(arm.on((*data, source.name)))
            out.append(teacher.candidate.on((*teacher.candidate.sources, source.name)))
        return out

    def _proba_of(self, teacher: Scored) -> Any:
        def proba(fold: int) -> np.ndarray:
            if fold >= 0:
                return teacher.pool_proba[fold]
            taught = teaching_pool(self.pool, len(self.cv.seeds), self.request.seed)
            return self.final_model(teacher.candidate).predict_proba([s.text for s in taught])

        return proba

    # -- the winner -----------------------------------------------------------------
    def final_set(self, candidate: Candidate) -> list[Sample]:
        seeds = self.cv.seeds
        return seeds + [s for name in candidate.sources for s in self.cv.sources[name].extra(seeds, -1)]

    def final_model(self, candidate: Candidate) -> Classifier:
        """The candidate trained on all the seeds and its sources fitted on them (memoised)."""
        from sentiforge.classifiers.base import fit_samples

        if candidate.name not in self._final:
            data = self.final_set(candidate)
            clf = self.cv.new_model(candidate)
            fit_samples(clf, data, self.cv.scheme)
            labels = Counter(str(s.label) for s in data)
            clf.info.training_data = {"size": len(data), "labels": dict(labels), "language": self.cv.language}
            self._final[candidate.name] = clf
        return self._final[candidate.name]

    def pseudo_summary(self) -> dict[str, Any]:
        """The final pseudo-labels (fitted on all the seeds) and the precision asked of them."""
        if self.labeller is None:
            return {}
        return {**self.labeller.summaries.get(-1, {}), "asked_precision": self.request.pseudo_precision}

    def finish(self, folder: Path) -> Built:
        from sentiforge.app.drift import write_reference
        from sentiforge.app.training import fingerprint

        if not self.cv.scored:
            raise BudgetExceededError(
                f"no candidate finished its folds within --max-minutes {self.request.max_minutes:g} "
                f"({'; '.join(s['candidate'] + ': ' + s['why'] for s in self.skipped)}); give the build more time"
            )
        ranked = self.cv.rank(self.request.bootstrap)
        winner = choose(ranked, eligible=lambda r: sources_earned_their_place(r, self.cv.scored))
        self.total += work(self.budget.cost(winner.candidate.arm, [self.final_size(winner.trained_on)]))
        self.report(f"training the winner on everything: {winner.candidate.name}")
        clf = self.final_model(winner.candidate)
        data = self.final_set(winner.candidate)
        clf.info.training_data.update(source=self.request.seeds, fingerprint=fingerprint(data))
        clf.info.metrics = {**clf.info.metrics, "build": {"cross_validation": winner.as_dict(), "folds": self.cv.k}}
        clf.save(folder)
        answers = [self.cv.scheme.labels[int(k)] for k in winner.predicted]  # its folds' answers on unseen seeds
        write_reference(folder, data, answers, seed=self.request.seed)
        if self.labeller is not None:
            self.labeller.kept(self.cv.seeds, -1)
        built = Built(
            folder=folder,
            winner=winner.as_dict(),
            candidates=[r.as_dict() for r in ranked],
            contributions=contributions(self.cv),
            skipped=self.skipped,
            pseudo_labels=self.pseudo_summary(),
            seeds=len(self.cv.seeds),
            pool=len(self.pool),
            language=self.cv.language,
            folds=self.cv.k,
            seconds=round(self.budget.seconds - self.budget.left(), 1),
        )
        built.report = write_build_report(built, folder)
        self.done = self.total
        self.report("done")
        return built


def teaching_pool(pool: list[Sample], seeds: int, seed: int) -> list[Sample]:
    """The pool texts each fold's model labels for the second round: a seeded sample of at most
    ``TEACHING_POOL`` (or five per seed), not all of it. The second round keeps as many texts as
    there are seeds, the most confident; labelling the whole pool in every fold cost the
    contrastive kind about a quarter of its time (220 s of 780 s per fold for 2,632 tweets)."""
    size = max(TEACHING_POOL, 5 * seeds)
    if len(pool) <= size:
        return pool
    return [pool[i] for i in sorted(random.Random(seed).sample(range(len(pool)), size))]


def work(seconds: float) -> int:
    """Estimated work as the progress counts it: milliseconds, at least one per candidate."""
    return max(1, round(1000 * seconds))


def bodies(language: str) -> list[str]:
    """The sentence bodies the embedding kind is tried with, the language's default first.
    English: MiniLM, the multilingual E5 and both side by side: on 200 English seeds (benchmarks/
    build) E5 beat MiniLM on the Amazon/IMDb/Yelp sentences and lost on tweets, and the two
    together beat MiniLM on both, so which one a domain wants is for its seeds to say. Other
    languages: E5 only (MiniLM is English)."""
    if language.split("-")[0].lower() != "en":
        return ["multilingual"]
    return ["minilm", "multilingual", "minilm+multilingual"]


def arms(kinds: list[str], language: str) -> list[Candidate]:
    """The classifiers a build tries for these kinds (no sources yet): one per kind with its build
    options (the transformer's CPU preset), the embedding kind once per body (the language's
    default body unnamed)."""
    out = []
    for kind in dict.fromkeys(kinds):
        out.append(Candidate(kind, params=tuple(sorted(KIND_PARAMS.get(kind, {}).items()))))
        if kind == "embedding":
            out.extend(Candidate(kind, params=(("embedder", body),), variant=body) for body in bodies(language)[1:])
    return out


def _macro_f1(cv: CrossValidation) -> Any:
    from sentiforge.evaluation import metrics

    fn = metrics.metric_fn("macro_f1", cv.scheme)
    return lambda r: fn(cv.y, r.predicted)
