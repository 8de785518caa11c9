"""The job engine: everything that runs a job, in one package (the tables stay in store/).

- plan.py: a recipe as a plan: :func:`step_strategy` (the one place a step becomes a
  strategy), the seed pool and prompts, each step's slots.
- claim.py: the one claim / heartbeat / cancel loop, for jobs, shards and one-call tasks.
- run.py: :class:`Engine` and :class:`JobRun`: a recipe's steps with bounded concurrency,
  samples streamed to the store, resume exactly where a killed run stopped.
- step.py, attempt_budget.py: one running step's state; bounded attempts per quota cell.
- batching.py: a step's requests through the provider's batch API first (``backend.batch_api``).
"""

from sentiforge.engine.plan import prompt_library, seed_pool, step_strategy
from sentiforge.engine.run import Engine, JobResult, JobRun, run_job

__all__ = ["Engine", "JobResult", "JobRun", "prompt_library", "run_job", "seed_pool", "step_strategy"]
