"""``EventStore``: the durable usage log behind the whole engine.

Clients send events in batches and retry when the network fails, so ``append`` must be
idempotent and must never let one bad event sink a batch. It validates the whole batch in
one pydantic-core call, then writes the valid events in ONE transaction with
``INSERT ... ON CONFLICT (user_id, client_event_id) DO NOTHING``, so every event gets an
honest status: ``accepted``, ``duplicate`` (first write wins) or ``rejected`` (with the
field and reason). ``append`` returns only after the commit: whatever it calls accepted
is stored.

How "which rows were new" is learned depends on the database: SQLite takes its write lock
first and compares ids (see ``_insert_sqlite``); PostgreSQL uses ``RETURNING``; anything
else falls back to one savepoint per event (slower, same answers).

Two orders: a person's events are LEARNED in arrival order (``id``, the store's sequence),
so ties and clock skew cannot reorder what a model learned, and a worker can replay exactly
the events after a checkpoint (``tails``). On PostgreSQL each batch first takes a
transaction-scoped advisory lock per person it writes, so one person's ids are assigned in
commit order (no later-committed event can get a lower id than one a worker already
learned). SQLite's single writer gives that for free. History, export and retention use
time order, ``coalesce(client_time, server_time), id``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, func, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from personalization.store import privacy
from personalization.store.db import make_engine
from personalization.store.events import (
    DEFAULTS,
    EventRejected,
    UsageEvent,
    UsageEventCreate,
    UsageEventPublic,
    to_epoch,
    to_event,
    validate_batch,
)
from personalization.types import Event, EventKind

Status = Literal["accepted", "duplicate", "rejected"]
_TABLE = UsageEvent.__table__  # type: ignore[attr-defined]
_KEY = ("user_id", "client_event_id")


@dataclass(frozen=True, slots=True)
class EventStatus:
    """The fate of one event of a batch; ``field``/``reason`` only when rejected."""

    index: int
    status: Status
    client_event_id: str | None = None
    field: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What happened to each event of a batch, in input order.

    Kept as parallel lists rather than one object per event: building 5,000 status objects
    per batch was a visible share of ingest time, and most callers only read the counts.
    """

    codes: list[Status]
    client_event_ids: list[str | None]
    rejections: list[EventRejected]

    @property
    def accepted(self) -> int:
        return self.codes.count("accepted")

    @property
    def duplicates(self) -> int:
        return self.codes.count("duplicate")

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def statuses(self) -> list[EventStatus]:
        why = {r.index: r for r in self.rejections}
        out = []
        for index, (code, cid) in enumerate(zip(self.codes, self.client_event_ids, strict=True)):
            rej = why.get(index)
            out.append(
                EventStatus(
                    index=index,
                    status=code,
                    client_event_id=cid,
                    field=None if rej is None else rej.field,
                    reason=None if rej is None else rej.reason,
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary; statuses omit empty fields to keep API responses small."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "statuses": [
                {k: v for k, v in asdict(st).items() if v is not None} for st in self.statuses
            ],
        }


def _event_time() -> ColumnElement[float]:
    return func.coalesce(_TABLE.c.client_time, _TABLE.c.server_time)


def _epoch(value: datetime | float) -> float:
    return float(value) if isinstance(value, int | float) else to_epoch(value)


_COLUMNS = (
    "client_event_id",
    "user_id",
    "command",
    "kind",
    "client_time",
    "server_time",
    "component",
    "region",
    "route",
    "device",
    "session_id",
    "task_id",
)
_SQLITE_INSERT = (
    f"INSERT INTO {_TABLE.name} ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (user_id, client_event_id) DO NOTHING"
)


def _insert_sqlite(
    conn: Connection, rows: list[dict[str, Any]], *, server_time: float
) -> tuple[set[tuple[str, str]] | None, int]:
    """The fast path. SQLAlchemy's per-row bind processing cost more than SQLite's own
    insert, so rows go to the driver as plain tuples (StrEnums bind as text).

    The caller's ``BEGIN IMMEDIATE`` took SQLite's single write lock first, so every row
    this batch inserts gets an id above the current maximum: when ``ON CONFLICT DO
    NOTHING`` skipped some rows, one range scan on the primary key tells exactly which keys
    were new, even with other processes writing. Returns them (None: all were) and that
    maximum: the new rows hold the ids just above it, in input order (rowids without
    AUTOINCREMENT are max + 1, and a skipped row takes none).
    """
    before = conn.exec_driver_sql(f"SELECT max(id) FROM {_TABLE.name}").scalar() or 0
    values = [
        (
            row["client_event_id"],
            row["user_id"],
            row["command"],
            row.get("kind", EventKind.INVOKE),
            row.get("client_time"),
            server_time,
            row.get("component"),
            row.get("region"),
            row.get("route"),
            row.get("device"),
            row.get("session_id"),
            row.get("task_id"),
        )
        for row in rows
    ]
    written = conn.exec_driver_sql(_SQLITE_INSERT, values).rowcount
    if written == len(rows):
        return None, before  # all new: the common case needs no look-up
    sql = f"SELECT user_id, client_event_id FROM {_TABLE.name} WHERE id > ?"
    return {(u, c) for u, c in conn.exec_driver_sql(sql, (before,))}, before


@dataclass(frozen=True, slots=True)
class Written:
    """What an SQLite append wrote, for a caller that learns from it at once
    (``EventStore.append_learning``): every event with an id up to ``before`` was committed
    before the batch, and ``events`` (per person, ``(id, client_event_id, event)`` in id
    order) are the batch's new ones, just above it. Such a caller reads from the log only
    the ids up to ``before`` and takes the rest from here, exactly as the log has them."""

    before: int
    events: dict[str, list[tuple[int, str, Event]]]


def _logged(row: Mapping[str, Any]) -> Event:
    """A row as learners read it from the log: without a client clock, arrival time is the
    event's time."""
    return to_event(row, default_time=float(row["server_time"]))


def _written(
    rows: list[dict[str, Any]], new: set[tuple[str, str]] | None, before: int, server_time: float
) -> Written:
    out: dict[str, list[tuple[int, str, Event]]] = {}
    seq = before
    for row in rows:
        key = (row["user_id"], row["client_event_id"])
        if new is not None and key not in new:
            continue
        seq += 1
        full = {**DEFAULTS, **row, "server_time": server_time}
        out.setdefault(key[0], []).append((seq, key[1], _logged(full)))
    return Written(before=before, events=out)


class EventStore:
    """The usage log over any SQLAlchemy URL (SQLite file by default, PostgreSQL by URL).

    Pass ``engine`` to share one engine with the app; otherwise one is made from ``url``
    (default: ``ADAPTIVE_DB_URL`` or ``sqlite:///adaptive.db``).
    """

    def __init__(
        self, url: str | None = None, *, engine: Engine | None = None, portable: bool = False
    ) -> None:
        if engine is None:
            engine = make_engine(url)
        else:
            _TABLE.create(engine, checkfirst=True)
        self.engine = engine
        dialect = engine.dialect
        self._strategy = "portable"
        if portable:
            pass
        elif dialect.name == "sqlite" and dialect.driver == "pysqlite":
            self._strategy = "sqlite"
        elif dialect.name == "postgresql" and dialect.insert_executemany_returning:
            self._strategy = "returning"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def append(self, events: Sequence[Mapping[str, Any] | UsageEventCreate]) -> AppendResult:
        """Store a batch: valid new events are committed together, retried ones are reported
        as duplicates (first write wins), invalid ones are rejected one by one."""
        return self._append(events, keep=False)[0]

    def append_learning(
        self, events: Sequence[Mapping[str, Any] | UsageEventCreate]
    ) -> tuple[AppendResult, Written | None]:
        """``append``, and on SQLite what it wrote (``Written``), so that a learner need not
        read its own batch back. Other databases give None: their ids are not assigned in
        commit order, so only reading the log says what lies before a batch."""
        return self._append(events, keep=self._strategy == "sqlite")

    def _append(
        self, events: Sequence[Mapping[str, Any] | UsageEventCreate], *, keep: bool
    ) -> tuple[AppendResult, Written | None]:
        indexes, rows, rejections = validate_batch(events)
        keys = [(row["user_id"], row["client_event_id"]) for row in rows]
        firsts = rows
        if len(set(keys)) != len(keys):  # the same event twice inside this very batch
            seen: set[tuple[str, str]] = set()
            firsts = []
            for key, row in zip(keys, rows, strict=True):
                if key not in seen:
                    seen.add(key)
                    firsts.append(row)
        new: set[tuple[str, str]] | None = None
        before: int | None = None
        server_time = time.time()
        if firsts:
            with self.engine.begin() as conn:
                new, before = self._insert(conn, firsts, server_time=server_time)
        written = None
        if keep and before is not None:
            written = _written(firsts, new, before, server_time)
        if not rejections and new is None and firsts is rows:  # the common case
            result = AppendResult(
                codes=["accepted"] * len(rows), client_event_ids=[k[1] for k in keys], rejections=[]
            )
            return result, written
        codes: list[Status] = ["rejected"] * len(events)
        ids = [_client_id(item) for item in events]
        claimed: set[tuple[str, str]] = set()
        for index, key in zip(indexes, keys, strict=True):
            first = key not in claimed
            claimed.add(key)
            codes[index] = "accepted" if first and (new is None or key in new) else "duplicate"
        return AppendResult(codes=codes, client_event_ids=ids, rejections=rejections), written

    def _insert(
        self, conn: Connection, rows: list[dict[str, Any]], *, server_time: float
    ) -> tuple[set[tuple[str, str]] | None, int | None]:
        """Write ``rows`` (unique keys); return the keys that were new (None: all were) and,
        on SQLite, the largest id before the write (see ``_insert_sqlite``)."""
        if conn.dialect.name == "sqlite":
            # pysqlite opens transactions lazily and not before SAVEPOINT; begin explicitly,
            # taking the write lock now (see ``_insert_sqlite``).
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        if self._strategy == "sqlite":
            return _insert_sqlite(conn, rows, server_time=server_time)
        if conn.dialect.name == "postgresql":
            _lock_users(conn, sorted({row["user_id"] for row in rows}))
        full = [{**DEFAULTS, **row, "server_time": server_time} for row in rows]
        if self._strategy == "returning":
            stmt = (
                postgresql.insert(_TABLE)
                .on_conflict_do_nothing(index_elements=list(_KEY))
                .returning(_TABLE.c.user_id, _TABLE.c.client_event_id)
            )
            return {(u, c) for u, c in conn.execute(stmt, full)}, None
        inserted = set()
        for row in full:
            key = (row["user_id"], row["client_event_id"])
            try:
                with conn.begin_nested():
                    conn.execute(insert(_TABLE), row)
            except IntegrityError:
                if not _exists(conn, key):
                    raise  # some other constraint failed: the batch must not half-commit
                continue
            inserted.add(key)
        return inserted, None

    def expire(self, before: datetime | float, user_id: str | None = None) -> int:
        """Retention: delete events older than ``before`` (a datetime, naive means UTC, or
        epoch seconds); returns how many."""
        stmt = delete(_TABLE).where(_event_time() < _epoch(before))
        if user_id is not None:
            stmt = stmt.where(_TABLE.c.user_id == user_id)
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount or 0)

    # -- reading ---------------------------------------------------------------------------

    def history(
        self, user_id: str, *, since: datetime | float | None = None, limit: int | None = None
    ) -> list[UsageEventPublic]:
        """A user's events in time order; ``limit`` keeps the most recent ``limit`` of them."""
        stmt = select(_TABLE).where(_TABLE.c.user_id == user_id)
        if since is not None:
            stmt = stmt.where(_event_time() >= _epoch(since))
        if limit is not None:
            if limit < 0:
                raise ValueError(f"limit must be >= 0, got {limit}")
            stmt = stmt.order_by(_event_time().desc(), _TABLE.c.id.desc()).limit(limit)
        else:
            stmt = stmt.order_by(_event_time(), _TABLE.c.id)
        with self.engine.connect() as conn:
            rows = [UsageEventPublic.model_validate(dict(r)) for r in conn.execute(stmt).mappings()]
        return rows[::-1] if limit is not None else rows

    def iter_events(self, *, user_id: str | None = None, batch: int = 10_000) -> Iterator[Event]:
        """Stream events in time order as engine ``Event``s without loading them all."""
        stmt = select(_TABLE).order_by(_event_time(), _TABLE.c.id)
        if user_id is not None:
            stmt = stmt.where(_TABLE.c.user_id == user_id)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(stmt)
            for part in result.mappings().partitions():
                for row in part:
                    yield to_event(row)

    def max_seq(self, *, user_id: str | None = None) -> int:
        """The newest event id, everyone's or one person's (0: none): one index look-up."""
        stmt = select(func.max(_TABLE.c.id))
        if user_id is not None:
            stmt = stmt.where(_TABLE.c.user_id == user_id)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def tails(
        self,
        conn: Connection,
        after: Mapping[str, int],
        *,
        upto: int | None = None,
        chunk: int = 200,
    ) -> dict[str, list[tuple[int, str, Event]]]:
        """Each person's events with ``id >= after[user]`` (and ``<= upto``, if given) in
        arrival order, as ``(id, client_event_id, event)``: one indexed range per person,
        many people per query."""
        out: dict[str, list[tuple[int, str, Event]]] = {u: [] for u in after}
        items = list(after.items())
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        names = ("id", *_COLUMNS)
        cols = ", ".join(f"e.{c}" for c in names)
        bound = "" if upto is None else f" AND e.id <= {int(upto)}"
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            if len(part) == 1:  # the request path: one person, the plainest indexed range
                sql = (
                    f"SELECT {cols} FROM {_TABLE.name} AS e "
                    f"WHERE e.user_id = {mark} AND e.id >= {mark}{bound} ORDER BY e.id"
                )
            else:
                # a VALUES list joined on the (user_id, id) index: one range seek per
                # person, and a statement cheap to build however many people it names
                values = ", ".join(f"({mark}, {mark})" for _ in part)
                sql = (
                    f"WITH w(u, s) AS (VALUES {values}) SELECT {cols} FROM w "
                    f"JOIN {_TABLE.name} AS e ON e.user_id = w.u AND e.id >= w.s{bound} "
                    "ORDER BY e.user_id, e.id"
                )
            params = tuple(v for user, seq in part for v in (user, int(seq)))
            # plain driver SQL: on the request path SQLAlchemy's statement handling cost
            # more than the indexed look-up itself
            for values_row in conn.exec_driver_sql(sql, params):
                row = dict(zip(names, values_row, strict=True))
                out[row["user_id"]].append((int(row["id"]), row["client_event_id"], _logged(row)))
        return out

    def iter_sequences(
        self, *, through_seq: int, batch: int = 20_000
    ) -> Iterator[tuple[str, list[Event]]]:
        """Every person's events up to ``through_seq`` in arrival order, one person at a
        time, streamed: memory holds one person's events, never the log."""
        stmt = (
            select(_TABLE).where(_TABLE.c.id <= through_seq).order_by(_TABLE.c.user_id, _TABLE.c.id)
        )
        current: str | None = None
        events: list[Event] = []
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(stmt)
            for part in result.mappings().partitions():
                for row in part:
                    user = row["user_id"]
                    if user != current:
                        if current is not None:
                            yield current, events
                        current, events = user, []
                    events.append(to_event(row))
        if current is not None:
            yield current, events

    def user_events_with_seq(self, user_id: str) -> list[tuple[int, Event]]:
        """One person's events in arrival order, each with its id."""
        stmt = select(_TABLE).where(_TABLE.c.user_id == user_id).order_by(_TABLE.c.id)
        with self.engine.connect() as conn:
            return [(int(row["id"]), to_event(row)) for row in conn.execute(stmt).mappings()]

    def users(self) -> list[str]:
        with self.engine.connect() as conn:
            stmt = select(_TABLE.c.user_id).distinct().order_by(_TABLE.c.user_id)
            return list(conn.execute(stmt).scalars())

    def count(self, user_id: str | None = None) -> int:
        stmt = select(func.count()).select_from(_TABLE)
        if user_id is not None:
            stmt = stmt.where(_TABLE.c.user_id == user_id)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    # -- personal data ---------------------------------------------------------------------

    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything held about ``user_id`` (all user-data tables) as JSON-able data."""
        with self.engine.begin() as conn:
            return privacy.export_user(conn=conn, user_id=user_id)

    def erase_user(self, user_id: str) -> dict[str, int]:
        """Delete the user's events and everything learned from them, in one transaction,
        and scrub the bytes from the SQLite file; returns rows deleted per table."""
        with self.engine.begin() as conn:
            deleted = privacy.erase_user(conn=conn, user_id=user_id)
        privacy.flush_erased(engine=self.engine)
        return deleted


_LOCK_USERS = text(
    "SELECT pg_advisory_xact_lock(k) FROM "
    "(SELECT DISTINCT hashtextextended(u, 0) AS k FROM unnest(CAST(:users AS text[])) AS u "
    "ORDER BY k) AS s"
)


def _lock_users(conn: Connection, users: list[str]) -> None:
    """Serialise writers per person (in one sorted order, so two batches cannot deadlock);
    released at commit."""
    conn.execute(_LOCK_USERS, {"users": users})


def _exists(conn: Connection, key: tuple[str, str]) -> bool:
    stmt = select(_TABLE.c.id).where(_TABLE.c.user_id == key[0], _TABLE.c.client_event_id == key[1])
    return conn.execute(stmt).first() is not None


def _client_id(item: Mapping[str, Any] | UsageEventCreate) -> str | None:
    if isinstance(item, Mapping):
        raw = item.get("client_event_id")
    else:
        raw = getattr(item, "client_event_id", None)
    return raw if isinstance(raw, str) and len(raw) <= 64 else None
