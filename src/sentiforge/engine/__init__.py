"""The job engine: everything that runs a job, in one package.

- run.py: :class:`Engine` and :class:`JobRun`, a recipe's steps with bounded concurrency,
  samples streamed to the store, resume exactly where a killed run stopped.
- batching.py: a step's requests through the provider's batch API first (``backend.batch_api``).
"""

from sentiforge.engine.run import Engine, JobResult, JobRun, prompt_library, run_job, seed_pool

__all__ = ["Engine", "JobResult", "JobRun", "prompt_library", "run_job", "seed_pool"]
