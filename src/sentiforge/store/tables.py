"""Tables. Changing one means adding an Alembic migration in ``store/migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so a later migration can drop or alter them (SQLite batch mode needs names).
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class DatasetRow(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # real | synthetic
    scheme: Mapped[dict[str, Any]] = mapped_column(JSON)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CounterColumns:
    """The columns of :class:`~sentiforge.counters.Counters`, for the rows that keep them (a job,
    a shard): samples made and what they cost."""

    done: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    cache_hits: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)


class JobRow(CounterColumns, Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # the dataset a job fills or reads; none for a train/evaluate job on built-in data
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    # generate | augment | recipe (run by the engine from ``recipe``) or quality | evaluate | train
    # (one application-layer call on ``request``); ``result`` is what a finished one answered
    kind: Mapped[str] = mapped_column(String(20), default="recipe", server_default="recipe")
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON)
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # store/jobs.py STATUSES
    target: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # who runs the job now ("host:pid"), its last sign of life, and a cancel asked by anyone
    claimed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobShardRow(CounterColumns, Base):
    """A slot range of one step of a job, run by a worker: its claim, deliveries and totals.
    The job's own counters are the sums over its shards (store/shards.py rolls them up)."""

    __tablename__ = "job_shards"
    __table_args__ = (UniqueConstraint("job_id", "step", "start", name="uq_job_shards_job_step_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    stop: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # a job status (store/jobs.py)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)  # claims so far: a cap ends a poison shard
    claimed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)  # a cancel is asked on the job's row
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SampleRow(Base):
    """A real or synthetic sample, accepted or rejected (rejects are kept with a reason)."""

    __tablename__ = "samples"
    __table_args__ = (
        UniqueConstraint("job_id", "slot", name="uq_samples_job_slot"),
        # id last: a keyset page (dataset, status, id > last ORDER BY id) is one index range with
        # no sort, whatever the planner's statistics say (benchmarks/memory: 683 ms -> ms a page)
        Index("ix_samples_dataset_status_id", "dataset_id", "status", "id"),
        Index("ix_samples_dataset_hash", "dataset_id", "text_hash"),
        # parent_id is a self-referencing FK with ON DELETE SET NULL: without this index every
        # deleted sample costs a full scan of samples (deleting a dataset became quadratic).
        Index("ix_samples_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), default=None)
    # slot: the job's plan position ("step:index" for accepted; "step:index:attempt" for rejects)
    slot: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="accepted")  # accepted | rejected
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(100), default=None)
    labels: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    aspects: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    language: Mapped[str] = mapped_column(String(12), default="en")
    rationale: Mapped[str | None] = mapped_column(Text, default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    split: Mapped[str | None] = mapped_column(String(16), default=None)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("samples.id", ondelete="SET NULL"), default=None)
    strategy: Mapped[str | None] = mapped_column(String(40), default=None)
    backend: Mapped[str | None] = mapped_column(String(200), default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    template: Mapped[str | None] = mapped_column(String(200), default=None)
    template_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TextClaimRow(Base):
    """An accepted text's normalized hash claimed for a dataset by one job slot. Shards running
    at once insert their claim before accepting a sample: the primary key makes acceptance of an
    exact duplicate atomic across processes (the losing slot tries again, as on a duplicate)."""

    __tablename__ = "text_claims"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    slot: Mapped[str] = mapped_column(String(64))


class CacheRow(Base):
    __tablename__ = "response_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    backend: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200), default="")
    finish_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    logprobs: Mapped[str | None] = mapped_column(Text, default=None)  # JSON: first token -> log-probability
    job_id: Mapped[int | None] = mapped_column(Integer, default=None)  # the job that paid for it (no FK: outlives it)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualityRunRow(Base):
    """One pass of the quality gate over a dataset: its config, holdout, counts (quality/)."""

    __tablename__ = "quality_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | completed | failed
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holdout: Mapped[str | None] = mapped_column(String(200), default=None)
    seeds: Mapped[str | None] = mapped_column(String(200), default=None)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class QualityRecordRow(Base):
    """What the gate decided about one sample in one run: per-check results, score, reason."""

    __tablename__ = "quality_records"
    __table_args__ = (
        UniqueConstraint("run_id", "sample_id", name="uq_quality_records_run_sample"),
        Index("ix_quality_records_dataset_status", "dataset_id", "status"),
        Index("ix_quality_records_sample_id", "sample_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("quality_runs.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # accepted | rejected
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    rejected_by: Mapped[str | None] = mapped_column(String(40), default=None)  # the check that rejected
    checks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewItemRow(Base):
    """A sample queued for a person: why, and what they decided (who, when, old/new values)."""

    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("dataset_id", "sample_id", name="uq_review_items_dataset_sample"),
        Index("ix_review_items_dataset_status", "dataset_id", "status"),
        Index("ix_review_items_sample_id", "sample_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("quality_runs.id", ondelete="SET NULL"), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected|relabelled|edited
    queued_reason: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    old_label: Mapped[str | None] = mapped_column(String(100), default=None)
    new_label: Mapped[str | None] = mapped_column(String(100), default=None)
    old_text: Mapped[str | None] = mapped_column(Text, default=None)
    new_text: Mapped[str | None] = mapped_column(Text, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    reason: Mapped[str | None] = mapped_column(String(60), default=None)  # one of the scheme's reasons
    bulk_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)  # decided in one bulk
    # who may decide it now (a lease of a few minutes, so two reviewers never get the same item)
    leased_by: Mapped[str | None] = mapped_column(String(200), default=None)
    leased_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewDecisionRow(Base):
    """Every decision anyone made on a review item, in order: the item's own decision, a second
    reviewer's opinion (for agreement), and undone ones (``undone_at`` set)."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        Index("ix_review_decisions_dataset_sample", "dataset_id", "sample_id"),
        Index("ix_review_decisions_dataset_created", "dataset_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    reviewer: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # approved | rejected | relabelled | edited
    label: Mapped[str | None] = mapped_column(String(100), default=None)  # the label it leaves
    second: Mapped[bool] = mapped_column(Boolean, default=False)  # an opinion that changed nothing
    reason: Mapped[str | None] = mapped_column(String(60), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    bulk_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(default=None)


class JobEventRow(Base):
    """What happened to a job, in order: created, started, cancel asked, finished, reclaimed."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FleetCounterRow(Base):
    """A counter one process of the fleet (a worker, a server) keeps, as it last saved it: a
    scrape of any server sums them (``sentiforge.app.fleet``). A process restarted is a new
    process: its rows start afresh and the old ones stay, so the sums never go down."""

    __tablename__ = "fleet_counters"

    process: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid:start
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    label: Mapped[str] = mapped_column(String(100), primary_key=True, default="")
    value: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKeyRow(Base):
    """An HTTP API key: its public id (the lookup), a SHA-256 of the whole token, never the token."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class WebSessionRow(Base):
    """A workbench login: the SHA-256 of the session cookie's token (never the token), the API
    key it acts as (a revoked key ends it), its CSRF token and when it expires."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
