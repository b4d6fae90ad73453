"""Finding, exporting and erasing everything the system holds about one person.

Erasure must also remove what was *learned* from a person's events (profiles, model
state), and those tables belong to other modules, which gain new ones over time. So
instead of a hand-kept list, every table that holds personal data marks its model class with
``__user_data__ = True`` and a ``user_id`` column; this module discovers them from the
SQLModel registry. A new table that forgets the flag is caught by
``unflagged_user_tables()`` (the test suite asserts it is empty).
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, delete, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel
from sqlmodel.main import default_registry

from personalization.errors import UserDataTableError
from personalization.store.db import import_all_tables

EXPORT_SCHEMA = "adaptive-reflex/user-export"
EXPORT_VERSION = 1


def user_data_tables() -> list[Table]:
    """Every table whose model class sets ``__user_data__ = True``, sorted by name.

    Imports all known table modules first, so a caller that never touched, say, the model
    store still erases its rows.
    """
    import_all_tables()
    found: dict[str, Table] = {}
    for mapper in default_registry.mappers:
        cls = mapper.class_
        if not getattr(cls, "__user_data__", False):
            continue
        table = mapper.local_table
        if not isinstance(table, Table):
            continue
        if "user_id" not in table.c:
            raise UserDataTableError(
                f"{cls.__name__} sets __user_data__ but table {table.name!r} has no user_id column"
            )
        found[table.name] = table
    return [found[name] for name in sorted(found)]


def unflagged_user_tables() -> list[str]:
    """Tables with a ``user_id`` column whose model does not set ``__user_data__``: either
    personal data that erase would miss, or a deliberate exception worth a second look."""
    import_all_tables()
    flagged = {t.name for t in user_data_tables()}
    # The metadata, not the mappers: a plain ``Table`` with no model class counts too.
    return sorted(
        name
        for name, table in SQLModel.metadata.tables.items()
        if "user_id" in table.c and name not in flagged
    )


def _existing(conn: Connection, tables: list[Table]) -> list[Table]:
    # A table registered after this database was created holds no rows here.
    names = set(inspect(conn).get_table_names())
    return [t for t in tables if t.name in names]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def export_user(*, conn: Connection, user_id: str) -> dict[str, Any]:
    """Every row of every user-data table for ``user_id`` as plain JSON types.

    Rows come in primary-key order so two exports of unchanged data are identical.
    """
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in _existing(conn, user_data_tables()):
        order = list(table.primary_key.columns) or list(table.c)
        result = conn.execute(select(table).where(table.c.user_id == user_id).order_by(*order))
        tables[table.name] = [
            {key: _jsonable(val) for key, val in row.items()} for row in result.mappings()
        ]
    return {
        "schema": EXPORT_SCHEMA,
        "version": EXPORT_VERSION,
        "user_id": user_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "tables": tables,
    }


def erase_user(*, conn: Connection, user_id: str) -> dict[str, int]:
    """Delete ``user_id``'s rows from every user-data table; returns rows deleted per table.

    Runs on the caller's connection so the caller decides the transaction: ``EventStore``
    wraps it in one, so a failure leaves nothing half-erased.
    """
    if conn.dialect.name == "sqlite":
        # Without this, SQLite only unlinks deleted rows: their bytes stay in free pages of
        # the file until reused, so the "erased" history could still be read off the disk.
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    deleted: dict[str, int] = {}
    # Children before parents, so foreign keys between user-data tables never block us.
    rank = {t.name: i for i, t in enumerate(SQLModel.metadata.sorted_tables)}
    tables = _existing(conn, user_data_tables())
    for table in sorted(tables, key=lambda t: rank.get(t.name, -1), reverse=True):
        result = conn.execute(delete(table).where(table.c.user_id == user_id))
        deleted[table.name] = int(result.rowcount or 0)
    return dict(sorted(deleted.items()))


def flush_erased(*, engine: Engine) -> None:
    """After an erase commits on SQLite, copy the WAL into the database and truncate it:
    the WAL still holds the pre-erase page images until a checkpoint. Best effort: a reader
    still looking at an older snapshot can keep the checkpoint from finishing."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
