"""What the insights page and the live metrics read from the database.

The usage series is one grouped query rather than a replay of the log, so the plot stays
cheap however long the history is. The found-in-slots counters are the one live metric that
cannot be recomputed from the log (they depend on what was on screen at the time), so they
are persisted here and loaded back when the engine rebuilds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from personalization.events import UsageEvent
from personalization.service_tables import FoundCounter
from personalization.types import EventKind

FLUSH_EVERY_S = 5.0


def usage_series(*, engine: Engine, since: float) -> list[dict[str, Any]]:
    """Invocations per command per day (UTC) from epoch second ``since`` on."""
    when = func.coalesce(UsageEvent.client_time, UsageEvent.server_time)
    day = cast(when / 86400.0, Integer).label("day")
    stmt = (
        select(day, UsageEvent.command, func.count().label("n"))
        .where(UsageEvent.kind == EventKind.INVOKE.value, when >= since)
        .group_by(day, UsageEvent.command)
        .order_by(day)
    )
    with engine.connect() as conn:
        return [
            {
                "day": datetime.fromtimestamp(int(r.day) * 86400, UTC).date().isoformat(),
                "command": r.command,
                "count": int(r.n),
            }
            for r in conn.execute(stmt)
        ]


def load_found(*, session: Session) -> dict[str, list[int]]:
    """The stored found-in-slots counters as ``{group: [found, events]}``."""
    return {
        row.group: [row.found, row.events] for row in session.exec(select(FoundCounter)).scalars()
    }


def save_found(*, session: Session, found: Mapping[str, Sequence[int]]) -> None:
    """Overwrite the stored counters with the live ones; commits."""
    for group, (hits, events) in found.items():
        row = session.get(FoundCounter, group) or FoundCounter(group=group)
        row.found, row.events = hits, events
        session.add(row)
    session.commit()
