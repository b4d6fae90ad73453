"""What the insights page and the live metrics read from the database.

The usage series is one grouped query over the plotted window (time-indexed), rather than a
replay of the log, so its cost follows the window's traffic, not the history's length.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, and_, cast, func, or_, select
from sqlalchemy.engine import Engine

from personalization.store.events import UsageEvent
from personalization.types import EventKind


def usage_series(*, engine: Engine, since: float) -> list[dict[str, Any]]:
    """Invocations per command per day (UTC) from epoch second ``since`` on."""
    when = func.coalesce(UsageEvent.client_time, UsageEvent.server_time)
    day = cast(when / 86400.0, Integer).label("day")
    recent = or_(
        UsageEvent.client_time >= since,  # type: ignore[operator]
        and_(UsageEvent.client_time.is_(None), UsageEvent.server_time >= since),  # type: ignore[union-attr]
    )
    stmt = (
        select(day, UsageEvent.command, func.count().label("n"))
        .where(UsageEvent.kind == EventKind.INVOKE.value, recent)
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
