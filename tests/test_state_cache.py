"""The per-process cache of people's models: bounded by people and by estimated memory."""

from __future__ import annotations

import pytest

from personalization.engine.state_cache import StateCache, estimated_bytes
from personalization.store.user_records import UserRecord


def _record(user: str, events) -> UserRecord:
    record = UserRecord(user_id=user)
    for ev in events:
        record.state.learn(ev.command, ev.context)
    return record


def test_least_recently_used_people_leave_first() -> None:
    cache = StateCache(max_users=2, max_mb=64)
    for user in ("a", "b"):
        cache.put(UserRecord(user_id=user))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put(UserRecord(user_id="c"))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2


def test_heavy_models_are_bounded_by_memory_not_only_by_count(schonlau_users) -> None:
    heavy = [_record(f"h{i}", events[:3000]) for i, (_u, events) in enumerate(schonlau_users[:6])]
    one = estimated_bytes(heavy[0])
    assert one > 500_000  # a real 3,000-command history is about a megabyte
    cache = StateCache(max_users=1_000, max_mb=3 * one / (1024 * 1024))
    for record in heavy:
        cache.put(record)
    assert 1 <= len(cache) <= 3
    assert cache.bytes <= cache.max_bytes
    assert cache.get("h5") is not None  # the newest stays
    cache.pop("h5")
    assert cache.get("h5") is None and cache.bytes == sum(
        estimated_bytes(r) for r in heavy if cache.get(r.user_id) is not None
    )


def test_growing_records_are_re_measured(schonlau_users) -> None:
    events = schonlau_users[0][1]
    cache = StateCache(max_users=10, max_mb=64)
    record = _record("g", events[:10])
    cache.put(record)
    small = cache.bytes
    for ev in events[10:2000]:
        record.state.learn(ev.command, ev.context)
    cache.put(record)
    assert cache.bytes > small * 10


@pytest.mark.parametrize(("users", "mb"), [(0, 1), (1, 0)])
def test_bad_bounds_are_refused(users, mb) -> None:
    with pytest.raises(ValueError, match="ADAPTIVE_STATE_CACHE"):
        StateCache(max_users=users, max_mb=mb)
