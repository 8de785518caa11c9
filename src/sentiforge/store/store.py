"""The store: datasets, samples, jobs, quality records, the review queue and the response
cache, on SQLite or PostgreSQL.

Every table is read and written here, in the ``store`` package: callers get public schemas
(``store/schemas.py``), never ORM rows or sessions. ``Store`` joins the table groups: samples
(``samples.py``), quality runs and records (``quality.py``), the review queue (``review.py``),
API keys (``keys.py``), the fleet's counters (``fleet.py``), workbench logins (``sessions.py``);
datasets and jobs are below, the response cache and the job writer in ``cache.py``. Open one per process or request and
close it (``with Store(url) as store: ...``); the schema check runs once per database and
process (``migrate.upgrade_once``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from sentiforge.errors import ConflictError, NotFoundError
from sentiforge.labels import LabelScheme
from sentiforge.names import check_name
from sentiforge.store.cache import JobWriter, SqlCache
from sentiforge.store.database import make_engine
from sentiforge.store.fleet import FleetTables
from sentiforge.store.jobs import JobTables
from sentiforge.store.keys import KeyTables
from sentiforge.store.quality_records import QualityTables
from sentiforge.store.review_items import ReviewTables
from sentiforge.store.samples import SampleTables
from sentiforge.store.schemas import DatasetPublic
from sentiforge.store.sessions import WebSessionTables
from sentiforge.store.shards import ShardTables
from sentiforge.store.tables import DatasetRow, JobRow, SampleRow


class Store(
    SampleTables, QualityTables, ReviewTables, JobTables, ShardTables, KeyTables, FleetTables, WebSessionTables
):
    """Every table of one database. ``Store(url)`` opens it (migrating it the first time this
    process sees it); ``with Store(url) as store:`` closes it after."""

    # -- datasets -------------------------------------------------------------------
    def create_dataset(
        self, name: str, scheme: LabelScheme, *, kind: str = "synthetic", meta: dict[str, Any] | None = None
    ) -> int:
        check_name(name, "dataset name")
        with self.session() as s:
            row = DatasetRow(name=name, kind=kind, scheme=scheme.model_dump(mode="json"), meta=meta or {})
            s.add(row)
            try:
                s.commit()
            except IntegrityError as exc:
                raise ConflictError(
                    f"a dataset named '{name}' exists already; pick another name or delete it first"
                ) from exc
            return row.id

    def dataset_id(self, name: str) -> int:
        with self.session() as s:
            found = s.scalar(select(DatasetRow.id).where(DatasetRow.name == name))
        if found is None:
            raise NotFoundError(f"no dataset named '{name}'; `sentiforge datasets` lists them")
        return found

    def dataset(self, name_or_id: str | int) -> DatasetPublic:
        with self.session() as s:
            if isinstance(name_or_id, int):
                row = s.get(DatasetRow, name_or_id)
            else:
                row = s.scalar(select(DatasetRow).where(DatasetRow.name == name_or_id))
        if row is None:
            raise NotFoundError(f"no dataset {name_or_id!r}; `sentiforge datasets` lists them")
        return DatasetPublic.model_validate(row)

    def scheme(self, name_or_id: str | int) -> LabelScheme:
        return self.dataset(name_or_id).scheme

    def list_datasets(self, *, counts: bool = False) -> list[DatasetPublic]:
        """Every dataset in id order; with ``counts``, each with its samples per status."""
        with self.session() as s:
            rows = list(s.scalars(select(DatasetRow).order_by(DatasetRow.id)))
        found = [DatasetPublic.model_validate(row) for row in rows]
        if not counts:
            return found
        per_status = self.dataset_counts()
        return [d.model_copy(update={"counts": per_status.get(d.id, {})}) for d in found]

    def update_dataset_meta(self, dataset_id: int, **meta: Any) -> None:
        with self.session() as s:
            row = s.get(DatasetRow, dataset_id)
            if row is None:
                raise NotFoundError(f"no dataset with id {dataset_id}")
            row.meta = {**(row.meta or {}), **meta}
            s.commit()

    def delete_dataset(self, name: str) -> None:
        with self.session() as s:
            row = s.scalar(select(DatasetRow).where(DatasetRow.name == name))
            if row is None:
                raise NotFoundError(f"no dataset named '{name}'")
            s.execute(delete(SampleRow).where(SampleRow.dataset_id == row.id))
            s.execute(delete(JobRow).where(JobRow.dataset_id == row.id))
            s.delete(row)
            s.commit()

    # -- jobs: store/jobs.py (JobTables) -------------------------------------------
    def writer(self, dataset_id: int, job_id: int, backend_key: str, shard_id: int | None = None) -> JobWriter:
        return JobWriter(self, dataset_id, job_id, backend_key, shard_id)

    def cache(self, backend_key: str = "") -> SqlCache:
        return SqlCache(self, backend_key)


__all__ = ["JobWriter", "SqlCache", "Store", "make_engine"]
