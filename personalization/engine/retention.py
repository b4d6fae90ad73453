"""Retention: delete events older than each person's retention period, touching only the
expired rows (time-indexed ranges), never scanning the log.

Most people keep the default period, so one statement serves all of them; people who chose
another period are grouped by it (at most 3,650 distinct values), one statement per group.
Returns how many events each affected person lost, so the facade can start them a new
learning epoch (their model is rebuilt from what remains).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.engine import Engine

from personalization.store.events import UsageEvent
from personalization.store.profiles import UserProfileRow

DEFAULT_DAYS = 365
DAY = 86400.0
_EVENTS = UsageEvent.__table__  # type: ignore[attr-defined]
_PROFILES = UserProfileRow.__table__  # type: ignore[attr-defined]


def _older_than(cutoff: float):
    # written so each side can use its own index (client_time, server_time)
    c = _EVENTS.c
    return or_(c.client_time < cutoff, and_(c.client_time.is_(None), c.server_time < cutoff))


def _delete(engine: Engine, where) -> Counter[str]:
    stmt = delete(_EVENTS).where(where).returning(_EVENTS.c.user_id)
    with engine.begin() as conn:
        return Counter(conn.execute(stmt).scalars())


def expire_user(engine: Engine, user_id: str, *, days: int, now: float) -> Counter[str]:
    return _delete(engine, and_(_EVENTS.c.user_id == user_id, _older_than(now - days * DAY)))


def expire_all(engine: Engine, *, now: float) -> Counter[str]:
    custom = select(_PROFILES.c.user_id).where(_PROFILES.c.retention_days != DEFAULT_DAYS)
    affected = _delete(
        engine, and_(_older_than(now - DEFAULT_DAYS * DAY), _EVENTS.c.user_id.not_in(custom))
    )
    with engine.connect() as conn:
        periods = conn.execute(
            select(_PROFILES.c.retention_days)
            .where(_PROFILES.c.retention_days != DEFAULT_DAYS)
            .distinct()
        ).scalars()
        periods = sorted(periods)
    for days in periods:
        members = select(_PROFILES.c.user_id).where(_PROFILES.c.retention_days == days)
        affected += _delete(
            engine, and_(_older_than(now - days * DAY), _EVENTS.c.user_id.in_(members))
        )
    return affected
