"""Each person's profile as the engine serves it: stored choices joined with usage statistics.

The two halves have different sources of truth. Choices (level, recording, pins, hides,
retention) are what the person set, so every change is written through to ``profile_store``
at once. Usage (counts, recency) is derived from the event log, so it is never stored here:
it is rebuilt by replaying the log and would otherwise drift from the events a person can
export or erase. Keeping both in memory spares every request a database read.

Not thread-safe on its own: the engine facade calls it while holding its lock.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.engine import Engine
from sqlmodel import Session

from personalization import profile as controls
from personalization import profile_store
from personalization.profile import UserProfile
from personalization.types import Event


class ProfileCache:
    """Write-through cache of stored choices plus in-memory usage from the replayed log."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine
        self._controls: dict[str, UserProfile] = {}  # stored profile (the person's choices)
        self._usage: dict[str, UserProfile] = {}  # counts/recency, derived from the log

    def get(self, user_id: str) -> UserProfile:
        """A fresh default for a new person is cached but not saved, so merely looking at
        someone does not create a row holding their id."""
        stored = self._controls.get(user_id)
        if stored is None:
            with Session(self._engine) as session:
                stored = profile_store.load_profile(session=session, user_id=user_id)
            self._controls[user_id] = stored
        usage = self._usage.get(user_id)
        if usage is None:
            return replace(stored, counts={}, last_used={}, last_command=None, first_seen=None)
        return replace(
            stored,
            counts=usage.counts,
            last_used=usage.last_used,
            last_command=usage.last_command,
            first_seen=usage.first_seen,
        )

    def save(self, prof: UserProfile) -> UserProfile:
        """Store the choices first, so the cache never holds what the database lacks."""
        with Session(self._engine) as session:
            profile_store.save_profile(session=session, profile=prof)
        self._controls[prof.user_id] = prof
        return self.get(prof.user_id)

    def record_use(self, event: Event) -> None:
        user = event.user_id
        usage = self._usage.get(user) or UserProfile(user_id=user)
        self._usage[user] = controls.record_use(
            usage, command=event.command, at=event.timestamp or 0.0
        )

    def clear_usage(self) -> None:
        """Before a replay of the log, which recounts everyone's usage from scratch."""
        self._usage = {}

    def forget_usage(self, user_id: str) -> None:
        """After a reset the choices are already saved; only what was learned goes."""
        self._usage.pop(user_id, None)

    def forget(self, user_id: str) -> None:
        """After erasure has deleted the stored profile, so nothing stale is served."""
        self._usage.pop(user_id, None)
        self._controls.pop(user_id, None)
