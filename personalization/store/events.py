"""The usage event in its four shapes: shared fields, client input, table row, API output.

A usage log is personal data (command histories identify people), so the input shape is
deliberately narrow: every text field is an *identifier* limited to ``ID_PATTERN`` and a
short length, and unknown fields are rejected rather than dropped. A client that tries to
send arguments or free text gets an error naming the field instead of silently leaking it
into the log.

Uniqueness of ``client_event_id`` is per user, ``UNIQUE(user_id, client_event_id)``:
ids are minted by clients (a device counter, a UUID, ``file:line`` for imports), so a
global constraint would let one user's client collide with, and silently suppress, another
user's events. Per-user scoping keeps each user's retries idempotent without trusting other
clients, and that same index serves every per-user query (history, export, erase).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, NotRequired, Required

from pydantic import AfterValidator, ConfigDict, StringConstraints, TypeAdapter, ValidationError
from pydantic import Field as AnnotatedField
from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel
from typing_extensions import TypedDict

from personalization.types import CONTEXT_FIELDS, Context, Event, EventKind

ID_PATTERN = r"^[A-Za-z0-9_.:/-]+$"


class Device(StrEnum):
    """Coarse device class: enough to adapt layouts, too coarse to fingerprint anyone."""

    DESKTOP = "desktop"
    TABLET = "tablet"
    MOBILE = "mobile"
    OTHER = "other"


def to_epoch(value: datetime) -> float:
    """Seconds since the epoch; a naive datetime is read as UTC, because clients that omit
    the offset are almost always sending UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


MAX_EPOCH = 2e10
"""Year 2603. Larger numbers are almost surely milliseconds (JavaScript's ``Date.now()``);
they fall through to pydantic's datetime parsing, which reads them as milliseconds,
instead of being stored a few hundred centuries from now."""

IdStr = Annotated[str, StringConstraints(min_length=1, pattern=ID_PATTERN)]
"""An identifier, never prose: the charset has no space, so free text cannot pass."""

ClientTime = (
    Annotated[float, AnnotatedField(ge=0, le=MAX_EPOCH, allow_inf_nan=False)]
    | Annotated[datetime, AfterValidator(to_epoch)]
)
"""Epoch seconds as given, or an ISO-8601 string / datetime turned into epoch seconds.

Times are stored as epoch seconds (a float column): the engine's ``Event.timestamp`` is
one, comparisons and ordering are numeric, there is no time-zone ambiguity in SQLite, and
ingest skips formatting a date string per event."""
CLIENT_TIME_HELP = f"expected epoch seconds (0..{MAX_EPOCH:.0e}) or an ISO-8601 date-time"


class UsageEventBase(SQLModel):
    user_id: IdStr = Field(max_length=128)
    command: IdStr = Field(max_length=128)
    kind: EventKind = Field(default=EventKind.INVOKE, sa_type=String(32))
    component: IdStr | None = Field(default=None, max_length=128)
    region: IdStr | None = Field(default=None, max_length=64)
    route: IdStr | None = Field(default=None, max_length=256)
    device: Device | None = Field(default=None, sa_type=String(16))
    session_id: IdStr | None = Field(default=None, max_length=64)
    task_id: IdStr | None = Field(default=None, max_length=64)


class UsageEventCreate(UsageEventBase):
    """What a client sends. ``client_time`` takes epoch seconds, an ISO-8601 string or a
    datetime (naive means UTC) and becomes epoch seconds."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    client_event_id: IdStr = Field(max_length=64)
    client_time: ClientTime | None = Field(default=None)


class UsageEvent(UsageEventBase, table=True):
    """One stored event. ``id`` is the store's arrival sequence: a person's model learns
    their events in ``id`` order, so neither ties nor clock skew between devices can reorder
    what was learned. ``server_time`` is when the store received it; the event's time for
    retention and plots is ``client_time``, else ``server_time``."""

    __tablename__ = "usage_event"
    __table_args__ = (
        UniqueConstraint("user_id", "client_event_id", name="uq_usage_event_key"),
        # a person's events in arrival order: the tail a worker replays, export, erasure
        Index("ix_usage_event_user_seq", "user_id", "id"),
        # retention and the usage plot read a time window, never the whole log
        Index("ix_usage_event_client_time", "client_time"),
        Index("ix_usage_event_server_time", "server_time"),
    )
    __user_data__: ClassVar[bool] = True

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),  # SQLite: the rowid alias
    )
    client_event_id: str = Field(max_length=64)
    client_time: float | None = Field(default=None)
    server_time: float


class UsageEventPublic(UsageEventBase):
    """What the API returns: times as aware UTC datetimes (pydantic reads epoch floats)."""

    id: int
    client_event_id: str
    client_time: datetime | None = None
    server_time: datetime


@dataclass(frozen=True, slots=True)
class EventRejected:
    """Why event ``index`` of a batch was refused; ``field`` is the offending input key."""

    index: int
    field: str
    reason: str


def _row_schema() -> Any:
    """A TypedDict twin of ``UsageEventCreate`` built from its own field definitions.

    Validating into the SQLModel class costs ~17 us per event (its ``__init__`` runs in
    Python); the same constraints on a TypedDict run entirely in pydantic-core in ~2 us.
    Deriving the twin from the model keeps one source of truth, and a test checks that both
    accept and reject the same input.
    """
    fields: dict[str, Any] = {}
    for name, info in UsageEventCreate.model_fields.items():
        meta = [m for m in info.metadata if type(m).__name__ != "FieldInfoMetadata"]
        annotated = Annotated[(info.annotation, *meta)] if meta else info.annotation
        fields[name] = Required[annotated] if info.is_required() else NotRequired[annotated]
    schema = TypedDict("UsageEventRow", fields)  # type: ignore[operator]
    schema.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return schema


_BATCH_ADAPTER: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(list[_row_schema()])
DEFAULTS: dict[str, Any] = {
    name: info.default
    for name, info in UsageEventCreate.model_fields.items()
    if not info.is_required()
}
"""Values of optional fields a client left out (``validate_batch`` leaves them out too)."""


def _rejection(index: int, errors: list[Any]) -> EventRejected:
    # The model is flat, so the field is the first step of the location; deeper steps are
    # pydantic's union branch names, which would only confuse a client.
    fields: dict[str, str] = {}
    for err in errors:
        loc = err["loc"][1:]
        name = str(loc[0]) if loc else "(event)"
        reason = CLIENT_TIME_HELP if name == "client_time" else err["msg"]
        fields.setdefault(name, reason)
    (field, reason), *others = fields.items()
    if others:
        reason = f"{reason} (also invalid: {', '.join(sorted(name for name, _ in others))})"
    return EventRejected(index=index, field=field, reason=reason)


def validate_batch(
    items: Sequence[Mapping[str, Any] | UsageEventCreate],
) -> tuple[list[int], list[dict[str, Any]], list[EventRejected]]:
    """Validate a whole batch in one pydantic-core call (the fast path), and only when
    something fails, split the good from the bad so one bad event never costs the others.

    Returns the input positions of the valid events, their values (optional fields the
    client left out are absent, see ``DEFAULTS``: merging them costs ~1 us per event, so
    only the paths that need them do; times are epoch seconds), and one ``EventRejected``
    per invalid event.
    """
    raw = [item.model_dump() if isinstance(item, UsageEventCreate) else item for item in items]
    try:
        return list(range(len(raw))), _BATCH_ADAPTER.validate_python(raw), []
    except ValidationError as exc:
        by_index: dict[int, list[Any]] = {}
        for err in exc.errors():
            loc = err["loc"]
            by_index.setdefault(int(loc[0]) if loc else -1, []).append(err)
    rejected = [_rejection(i, errs) for i, errs in sorted(by_index.items())]
    good = [i for i in range(len(raw)) if i not in by_index]
    return good, _BATCH_ADAPTER.validate_python([raw[i] for i in good]), rejected


def to_event(
    row: UsageEventBase | Mapping[str, Any], *, default_time: float | None = None
) -> Event:
    """A stored row (model or mapping) as the engine's in-memory ``Event``; without a client
    time its timestamp is ``default_time``."""
    get = row.get if isinstance(row, Mapping) else row.__dict__.get
    client_time = get("client_time")
    if isinstance(client_time, datetime):
        ts: float | None = to_epoch(client_time)
    else:
        ts = default_time if client_time is None else float(client_time)
    ctx = {name: get(name) for name in CONTEXT_FIELDS}
    device = ctx["device"]
    ctx["device"] = None if device is None else str(device)
    return Event(
        user_id=get("user_id"),
        command=get("command"),
        timestamp=ts,
        context=Context(**ctx),
        kind=EventKind(get("kind")),
    )


def from_event(event: Event, *, client_event_id: str) -> dict[str, Any]:
    """Input for ``EventStore.append`` from an in-memory ``Event`` (validated on append)."""
    ctx = event.context
    out: dict[str, Any] = {
        "client_event_id": client_event_id,
        "user_id": event.user_id,
        "command": event.command,
        "kind": event.kind,
        "client_time": event.timestamp,
    }
    for name in CONTEXT_FIELDS:
        out[name] = getattr(ctx, name)
    return out
