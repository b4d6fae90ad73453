"""One person's learned state as a compact, versioned, validated record, and its table.

What the engine knows about a person (their model's ``UserState`` and the usage summary the
layout explains itself with) is a function of their events in the log, so the log stays the
source of truth and this record is a checkpoint of it: ``seq`` is the id of the last event it
includes. Loading a record and replaying the person's events after ``seq`` gives the same
state as replaying everything, which is what lets any worker serve any person, and lets a
crash between appending and checkpointing lose nothing.

``epoch`` ties a record to the person's current learning epoch (``UserProfile.model_epoch``):
a reset or a retention purge starts a new epoch, so an older checkpoint written by a slow
worker is recognised as stale and rebuilt from the log instead of being served.

The record is JSON (never pickle), checked field by field on load, with a SHA-256 digest
over its body; its size is bounded because ``UserState`` prunes rare long contexts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from personalization.predict.base import RankedCounter
from personalization.predict.features import MAX_ORDER, UserState
from personalization.store.models import ModelFormatError, UserModelState

_SEP = " "  # joins a context's commands: command ids never contain a space
_MAGIC = "adaptive-user-record/2 "
RECORD_VERSION = 2
MODEL_NAME = "learned"
MAX_RECORD_CHARS = 64 * 1024 * 1024
_TABLE = UserModelState.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class Usage:
    """The usage half of a person's profile (counts and recency, for layout reasons)."""

    counts: dict[str, int] = field(default_factory=dict)
    last_used: dict[str, float] = field(default_factory=dict)
    last_command: str | None = None
    first_seen: float | None = None

    def record(self, command: str, at: float) -> None:
        self.counts[command] = self.counts.get(command, 0) + 1
        self.last_used[command] = at
        self.last_command = command
        if self.first_seen is None:
            self.first_seen = at


@dataclass(slots=True)
class UserRecord:
    """A person's state as of event ``seq`` (0: none yet) in learning epoch ``epoch``."""

    user_id: str
    epoch: str = ""
    seq: int = 0
    state: UserState = field(default_factory=UserState)
    usage: Usage = field(default_factory=Usage)
    stored_seq: int = -1  # seq of the copy in the database (-1: none); not serialised
    pending: int = 0  # events learned since that copy; not serialised

    @property
    def events(self) -> int:
        """Commands learned in this epoch (the live metrics' new/experienced split)."""
        return self.state.clock


# -- serialisation ----------------------------------------------------------------------------
def _counter_to(counter: RankedCounter) -> dict[str, Any]:
    # both the ranked head and the dict order: ties are broken by them, so a reloaded
    # counter must keep both to rank exactly as the one that was stored
    return {"order": list(counter.order), "value": [[c, v] for c, v in counter.value.items()]}


def _number(value: Any, where: str, *, integer: bool = False, positive: bool = False) -> Any:
    ok = type(value) is int if integer else isinstance(value, int | float)
    if not ok or isinstance(value, bool) or not math.isfinite(value):
        raise ModelFormatError(f"user record field {where} must be a finite number")
    if value < 0 or (positive and value <= 0):
        raise ModelFormatError(f"user record field {where} must be {'>' if positive else '>='} 0")
    return value


def _counter_from(data: Any, where: str) -> RankedCounter:
    if not isinstance(data, dict):
        raise ModelFormatError(f"user record field {where} must be an object")
    order, value = data.get("order"), data.get("value")
    if not isinstance(order, list) or not isinstance(value, list):
        raise ModelFormatError(f"user record field {where} needs lists 'order' and 'value'")
    counter = RankedCounter()
    for i, item in enumerate(value):
        if not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str):
            raise ModelFormatError(f"user record field {where}.value[{i}] is malformed")
        counter.value[item[0]] = float(_number(item[1], f"{where}.value[{i}]", positive=True))
    if len(order) > counter.cap or any(c not in counter.value for c in order):
        raise ModelFormatError(f"user record field {where}.order names unknown commands")
    counter.order = [str(c) for c in order]
    counter.total = math.fsum(counter.value.values()) if counter.value else 0.0
    return counter


def _int_map(data: Any, where: str) -> dict[str, int]:
    if not isinstance(data, dict):
        raise ModelFormatError(f"user record field {where} must be an object")
    return {str(k): _number(v, f"{where}[{k!r}]", integer=True) for k, v in data.items()}


def record_body(record: UserRecord) -> dict[str, Any]:
    state, usage = record.state, record.usage
    return {
        "user_id": record.user_id,
        "epoch": record.epoch,
        "seq": record.seq,
        "state": {
            "history": list(state.history),
            "order0": _counter_to(state.order0),
            "order0_total": state.order0.total,
            "contexts": {_SEP.join(k): row for k, row in state.contexts.items()},
            "frecency": _counter_to(state.frecency),
            "frecency_total": state.frecency.total,
            "frecency_weight": state.frecency_weight,
            "last_seen": state.last_seen,
            "clock": state.clock,
            "context_counts": state.context_counts,
        },
        "usage": {
            "counts": usage.counts,
            "last_used": usage.last_used,
            "last_command": usage.last_command,
            "first_seen": usage.first_seen,
        },
    }


def record_from_body(data: Mapping[str, Any], *, user_id: str) -> UserRecord:
    """Rebuild a record, refusing anything that is not exactly what ``record_body`` wrote."""
    if data.get("user_id") != user_id:
        raise ModelFormatError("user record field 'user_id' does not match its row")
    epoch, seq = data.get("epoch"), data.get("seq")
    if not isinstance(epoch, str):
        raise ModelFormatError("user record field 'epoch' must be a string")
    _number(seq, "'seq'", integer=True)
    raw, raw_usage = data.get("state"), data.get("usage")
    if not isinstance(raw, dict) or not isinstance(raw_usage, dict):
        raise ModelFormatError("user record fields 'state' and 'usage' must be objects")
    state = UserState()
    history = raw.get("history")
    if (
        not isinstance(history, list)
        or len(history) > MAX_ORDER
        or not all(isinstance(c, str) for c in history)
    ):
        raise ModelFormatError(f"user record field 'history' must be <= {MAX_ORDER} command ids")
    state.history.extend(history)
    state.order0 = _counter_from(raw.get("order0"), "'order0'")
    state.order0.total = float(_number(raw.get("order0_total"), "'order0_total'"))
    state.frecency = _counter_from(raw.get("frecency"), "'frecency'")
    state.frecency.total = float(_number(raw.get("frecency_total"), "'frecency_total'"))
    state.frecency_weight = float(
        _number(raw.get("frecency_weight"), "'frecency_weight'", positive=True)
    )
    state.last_seen = _int_map(raw.get("last_seen"), "'last_seen'")
    state.clock = _number(raw.get("clock"), "'clock'", integer=True)
    contexts = raw.get("contexts")
    if not isinstance(contexts, dict):
        raise ModelFormatError("user record field 'contexts' must be an object")
    for joined, counts in contexts.items():
        key = tuple(joined.split(_SEP))
        if not 1 <= len(key) <= MAX_ORDER or not all(key):
            raise ModelFormatError(f"user record field 'contexts' has a bad context {joined!r}")
        row = _int_map(counts, f"'contexts[{joined!r}]'")
        if not row or 0 in row.values():
            raise ModelFormatError(f"user record field 'contexts[{joined!r}]' has no counts")
        state.contexts[key] = row
        state.context_totals[key] = sum(row.values())
    ctx_counts = raw.get("context_counts")
    if not isinstance(ctx_counts, dict):
        raise ModelFormatError("user record field 'context_counts' must be an object")
    for item, row in ctx_counts.items():
        state.context_counts[str(item)] = _int_map(row, f"'context_counts[{item!r}]'")
    usage = Usage(
        counts=_int_map(raw_usage.get("counts"), "'usage.counts'"),
        last_used={
            str(k): float(_number(v, "'usage.last_used'"))
            for k, v in _dict(raw_usage.get("last_used"), "'usage.last_used'").items()
        },
        last_command=_optional_str(raw_usage.get("last_command"), "'usage.last_command'"),
        first_seen=(
            None
            if raw_usage.get("first_seen") is None
            else float(_number(raw_usage.get("first_seen"), "'usage.first_seen'"))
        ),
    )
    return UserRecord(user_id=user_id, epoch=epoch, seq=seq, state=state, usage=usage)


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelFormatError(f"user record field {where} must be an object")
    return value


def _optional_str(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ModelFormatError(f"user record field {where} must be a string or null")
    return value


def dump_record(record: UserRecord) -> str:
    """``<magic> sha256:<hex>\n<body>``: the body's JSON keeps every key's order (ties in a
    person's ranking are broken by the order commands were seen), and the digest covers
    its exact text, so a row changed outside the engine is refused on load."""
    body = json.dumps(
        {"version": RECORD_VERSION, **record_body(record)},
        separators=(",", ":"),
        allow_nan=False,
    )
    return f"{_MAGIC}sha256:{hashlib.sha256(body.encode()).hexdigest()}\n{body}"


def load_record(text: str, *, user_id: str) -> UserRecord:
    if len(text) > MAX_RECORD_CHARS:
        raise ModelFormatError(f"user record is larger than {MAX_RECORD_CHARS} characters")
    head, sep, body = text.partition("\n")
    if not sep or not head.startswith(_MAGIC):
        raise ModelFormatError("not a user record: unknown format")
    digest = head[len(_MAGIC) :]
    expected = "sha256:" + hashlib.sha256(body.encode()).hexdigest()
    if not hmac.compare_digest(digest, expected):
        raise ModelFormatError("user record digest does not match: content was modified")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"user record is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
        raise ModelFormatError(f"user record field 'version' must be {RECORD_VERSION}")
    return record_from_body(data, user_id=user_id)


def _reject_constant(name: str) -> float:
    raise ModelFormatError(f"user record contains {name}, which is not a number")


# -- the table --------------------------------------------------------------------------------
def fetch(conn: Connection, user_ids: Sequence[str]) -> dict[str, tuple[str, int, str]]:
    """Stored ``(epoch, seq, payload)`` per person, for those that have a record."""
    out: dict[str, tuple[str, int, str]] = {}
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    ids = list(user_ids)
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        # plain driver SQL: on the ingest path SQLAlchemy's statement compilation cost more
        # than the primary-key look-ups themselves
        sql = (
            f"SELECT user_id, epoch, last_seq, payload FROM {_TABLE.name} "
            f"WHERE model_name = {mark} AND user_id IN ({', '.join([mark] * len(part))})"
        )
        for u, e, s, p in conn.exec_driver_sql(sql, (MODEL_NAME, *part)):
            out[u] = (e, int(s), p)
    return out


def store(conn: Connection, records: Iterable[UserRecord], *, now: float) -> int:
    """Upsert checkpoints, each only if it is newer than the stored one (a higher ``seq``, or
    another epoch): two workers checkpointing the same person cannot move it backwards."""
    # one stable order: two workers checkpointing the same people lock their rows in the
    # same order, so they wait for each other instead of deadlocking
    rows = [
        {
            "user_id": r.user_id,
            "model_name": MODEL_NAME,
            "payload": dump_record(r),
            "epoch": r.epoch,
            "last_seq": r.seq,
            "updated_at": now,
        }
        for r in sorted(records, key=lambda r: r.user_id)
    ]
    if not rows:
        return 0
    dialect = conn.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise RuntimeError(f"user records need PostgreSQL or SQLite, not {dialect}")
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(_TABLE)
    newer = (_TABLE.c.last_seq < ins.excluded.last_seq) | (_TABLE.c.epoch != ins.excluded.epoch)
    stmt = ins.on_conflict_do_update(
        index_elements=[_TABLE.c.user_id, _TABLE.c.model_name],
        set_={
            "payload": ins.excluded.payload,
            "epoch": ins.excluded.epoch,
            "last_seq": ins.excluded.last_seq,
            "updated_at": ins.excluded.updated_at,
        },
        where=newer,
    )
    conn.execute(stmt, rows)
    return len(rows)


@contextmanager
def relaxed_durability(conn: Connection) -> Iterator[None]:
    """Write checkpoints without waiting for the disk: a checkpoint lost in a power cut is
    rebuilt from the log (which is always written durably), so paying a flush per batch
    for it only slows ingest. SQLite: ``synchronous=NORMAL``; PostgreSQL:
    ``synchronous_commit=off``; on this connection only, and put back before it returns to
    the pool. The caller commits inside the block; anything left uncommitted is dropped."""
    setting = {
        "sqlite": ("PRAGMA synchronous=NORMAL", "PRAGMA synchronous=FULL"),
        "postgresql": ("SET synchronous_commit = off", "RESET synchronous_commit"),
    }.get(conn.dialect.name)
    if setting is None:
        yield
        return
    conn.exec_driver_sql(setting[0])
    conn.commit()
    try:
        yield
    finally:
        if conn.in_transaction():
            conn.rollback()
        conn.exec_driver_sql(setting[1])
        conn.commit()


def remove(conn: Connection, user_id: str) -> None:
    conn.execute(delete(_TABLE).where(_TABLE.c.user_id == user_id))
