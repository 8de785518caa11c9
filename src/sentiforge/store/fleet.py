"""The fleet's counters in the store: each process saves its own totals (an upsert, so a save
repeated or retried changes nothing), and a scrape sums every process's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from sentiforge.store.tables import FleetCounterRow, utcnow

if TYPE_CHECKING:
    from sqlalchemy import Engine


class FleetTables:
    """Fleet counter operations of the :class:`~sentiforge.store.Store` (a mixin)."""

    engine: Engine

    def save_counters(self, process: str, totals: dict[tuple[str, str], float]) -> None:
        """Keep ``process``'s counter totals, by (name, label)."""
        if not totals:
            return
        now = utcnow()
        rows = [
            {"process": process, "name": name, "label": label, "value": value, "updated_at": now}
            for (name, label), value in totals.items()
        ]
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                from sqlalchemy.dialects import postgresql

                stmt = postgresql.insert(FleetCounterRow)
            else:
                from sqlalchemy.dialects import sqlite

                stmt = sqlite.insert(FleetCounterRow)  # type: ignore[assignment]
            keys = ["process", "name", "label"]
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=keys, set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at}
                ),
                rows,
            )

    def fleet_counters(self) -> dict[tuple[str, str], float]:
        """Every process's totals summed, by (name, label)."""
        F = FleetCounterRow
        q = select(F.name, F.label, func.sum(F.value)).group_by(F.name, F.label)
        with self.engine.connect() as conn:
            return {(name, label): float(total) for name, label, total in conn.execute(q)}
