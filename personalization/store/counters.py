"""Adding to and reading the shared counters (``service_tables.SharedCounter``).

One upsert per flush adds every pending delta (``INSERT ... ON CONFLICT DO UPDATE SET value =
value + excluded.value``), which PostgreSQL and SQLite both run atomically, so any number of
workers can flush at once and no increment is lost.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from personalization.store.tables import SharedCounter

_TABLE = SharedCounter.__table__  # type: ignore[attr-defined]
ERASURES = "engine.erasures"


def add(conn: Connection, deltas: Mapping[str, float]) -> None:
    rows = [{"name": k, "value": float(v)} for k, v in deltas.items() if v]
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    ins = dialect.insert(_TABLE)
    stmt = ins.on_conflict_do_update(
        index_elements=[_TABLE.c.name], set_={"value": _TABLE.c.value + ins.excluded.value}
    )
    # a stable order: two flushes touching the same rows lock them in the same order
    conn.execute(stmt, sorted(rows, key=lambda r: r["name"]))


def read(conn: Connection, prefix: str = "") -> dict[str, float]:
    stmt = select(_TABLE.c.name, _TABLE.c.value)
    if prefix:
        stmt = stmt.where(_TABLE.c.name.startswith(prefix, autoescape=True))
    return {name: float(value) for name, value in conn.execute(stmt)}


def value(conn: Connection, name: str) -> float:
    found = conn.execute(select(_TABLE.c.value).where(_TABLE.c.name == name)).scalar()
    return float(found or 0.0)
