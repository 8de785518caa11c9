"""Evaluation reports, for the API and the workbench: where a finished evaluate job's files
are, refused when the job is no evaluation, has not completed, or wrote outside the reports
folder (a report is served only from there)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sentiforge.app import jobs
from sentiforge.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from sentiforge.store import Store

REPORT_FILES = ("report.json", "report.html")


def report_file(store: Store, reports_dir: Path, job_id: int, name: str) -> Path:
    """The path of ``name`` (report.json or report.html) of evaluation ``job_id``."""
    if name not in REPORT_FILES:
        raise NotFoundError(f"an evaluation has no file {name!r}; it has {list(REPORT_FILES)}")
    job = jobs.get(store, job_id)
    if job.kind != "evaluate":
        raise NotFoundError(f"job {job_id} is a {job.kind} job, not an evaluation")
    if job.status != "completed" or not job.result:
        raise ConflictError(f"evaluation {job_id} is {job.status}: its report exists once it has completed")
    folder = Path(job.result["report_dir"]).resolve()
    if not folder.is_relative_to(Path(reports_dir).resolve()):
        raise NotFoundError(f"evaluation {job_id} wrote its report outside the reports folder; open it on the server")
    path = folder / name
    if not path.is_file():
        raise NotFoundError(f"evaluation {job_id} has no {name} any more (deleted from {folder})")
    return path
