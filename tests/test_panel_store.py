"""Panel sessions kept in a store: bounded in one process, shared by workers through Redis.

The Redis tests run against a real ``redis-server`` (the ``redis_url`` fixture, flushed per
test): two ``PanelSessions`` objects sharing one store stand in for two backend workers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import redis

from app.registry import demo_registry
from personalization import profile as controls
from personalization.panels import store as panel_store
from personalization.panels.sessions import PanelSessions
from personalization.panels.store import (
    MemoryPanelStore,
    RedisPanelStore,
    check_record,
    panel_store_from_env,
)
from personalization.profile import UserProfile
from personalization.types import Event, Prediction
from tests.support.clock import Clock

REG = demo_registry()
TABLE = REG.task("insert_table")  # trigger: insert_table; completion: table_rows + table_style


def _record(user_id: str, session_id: str, **steps: list[str]) -> dict[str, Any]:
    panels = {"user_id": user_id, "session_id": session_id, "dismissals": {}, "panels": []}
    return {"panels": {**panels, "offers": {}, "ended_at": {}}, "steps": steps}


@dataclass
class Host:
    """What the facade hands ``PanelSessions``: profiles, stored rows and counted events."""

    clock: Clock
    profiles: dict[str, UserProfile] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    counted: list[Event] = field(default_factory=list)
    predictions: list[Prediction] = field(default_factory=list)

    def profile(self, user_id: str) -> UserProfile:
        return self.profiles.get(user_id) or UserProfile(user_id=user_id)

    def save_profile(self, prof: UserProfile) -> UserProfile:
        self.profiles[prof.user_id] = prof
        return prof

    def sessions(self, store: Any, registry: Any = REG) -> PanelSessions:
        return PanelSessions(
            registry=registry,
            clock=self.clock,
            profile=self.profile,
            save_profile=self.save_profile,
            predict=lambda _user: list(self.predictions),
            append=self.rows.extend,
            count=self.counted.append,
            store=store,
        )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def host(clock: Clock) -> Host:
    return Host(clock)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> MemoryPanelStore | RedisPanelStore:
    if request.param == "memory":
        return MemoryPanelStore()
    return RedisPanelStore(request.getfixturevalue("redis_client"))


# ---------------------------------------------------------------------- MemoryPanelStore


def test_memory_store_keeps_the_most_recently_used_sessions() -> None:
    store = MemoryPanelStore(max_sessions=3)
    for i in range(3):
        store.save("ann", f"s{i}", _record("ann", f"s{i}"))
    assert store.load("ann", "s0") is not None  # used again: s1 is now the oldest
    store.save("bob", "s9", _record("bob", "s9"))
    assert len(store) == 3
    assert store.load("ann", "s1") is None
    assert [store.load("ann", s) is not None for s in ("s0", "s2")] == [True, True]
    assert store.load("bob", "s9") == _record("bob", "s9")
    assert store.delete_user("ann") == 2  # the evicted session left the user index too


def test_memory_store_bound_of_n_keeps_n_sessions_and_evicts_the_oldest() -> None:
    store = MemoryPanelStore(max_sessions=5)
    for i in range(6):
        store.save(f"u{i}", "s", _record(f"u{i}", "s"))
    assert len(store) == 5
    assert store.load("u0", "s") is None
    assert all(store.load(f"u{i}", "s") is not None for i in range(1, 6))
    assert store.delete_user("u0") == 0


def test_delete_user_removes_only_that_persons_sessions(store) -> None:
    for user, session in [("ann", "a1"), ("ann", "a2"), ("bob", "b1")]:
        store.save(user, session, _record(user, session, insert_table=["table_rows"]))
    assert store.delete_user("ann") == 2
    assert store.load("ann", "a1") is None and store.load("ann", "a2") is None
    assert store.load("bob", "b1") == _record("bob", "b1", insert_table=["table_rows"])
    assert store.delete_user("ann") == 0


def test_stores_refuse_to_save_a_record_of_another_session(store) -> None:
    with pytest.raises(ValueError, match="another session"):
        store.save("ann", "s1", _record("ann", "s2"))
    assert store.load("ann", "s1") is None


def test_memory_store_lock_serialises_read_modify_write_across_threads() -> None:
    store = MemoryPanelStore()
    store.save("ann", "s", _record("ann", "s", insert_table=[]))

    def add(n: int) -> None:
        for i in range(50):
            with store.locked("ann", "s"):
                data = store.load("ann", "s")
                assert data is not None
                data["steps"]["insert_table"].append(f"c{n}-{i}")
                store.save("ann", "s", data)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = store.load("ann", "s")
    assert data is not None and len(data["steps"]["insert_table"]) == 200


def test_record_check_names_what_is_wrong() -> None:
    bad = _record("ann", "s")
    bad["panels"]["panels"] = [{"task_id": "insert_table", "state": "exploded"}]
    with pytest.raises(ValueError, match="unknown state 'exploded'"):
        check_record(bad, "ann", "s")
    with pytest.raises(ValueError, match="another person"):
        check_record(_record("bob", "s"), "ann", "s")
    check_record(_record("ann", "s", insert_table=["table_rows"]), "ann", "s")


def test_panel_store_from_env_picks_redis_only_when_configured(monkeypatch) -> None:
    monkeypatch.delenv("ADAPTIVE_REDIS_URL", raising=False)
    monkeypatch.delenv(panel_store.SESSIONS_MAX_ENV, raising=False)
    store = panel_store_from_env()
    assert isinstance(store, MemoryPanelStore) and store.max_sessions == 10_000
    monkeypatch.setenv(panel_store.SESSIONS_MAX_ENV, "25")
    store = panel_store_from_env()
    assert isinstance(store, MemoryPanelStore) and store.max_sessions == 25
    monkeypatch.setenv(panel_store.SESSIONS_MAX_ENV, "lots")
    with pytest.raises(ValueError, match="ADAPTIVE_PANEL_SESSIONS_MAX must be a whole number"):
        panel_store_from_env()
    monkeypatch.setenv("ADAPTIVE_REDIS_URL", "redis://127.0.0.1:1/0")  # no connection is made
    assert isinstance(panel_store_from_env(), RedisPanelStore)


# ---------------------------------------------------------------------- PanelSessions, both stores


def test_panel_runs_to_completion_and_is_recorded(store, host, clock) -> None:
    sessions = host.sessions(store)
    assert sessions.views("ann", "s1") == []
    sessions.advance("ann", "s1", "insert_table")
    views = sessions.views("ann", "s1")
    assert [(v.task_id, v.state) for v in views] == [("insert_table", "open")]
    assert [s.done for s in views[0].steps] == [True, False, False]
    assert views[0].reason == "Opened because you ran Insert table."
    clock.advance(2)
    sessions.advance("ann", "s1", "table_rows")
    assert [s.done for s in sessions.views("ann", "s1")[0].steps] == [True, True, False]
    sessions.advance("ann", "s1", "table_style")
    done = sessions.views("ann", "s1")
    assert [v.state for v in done] == ["completed"] and done[0].progress == 1.0
    assert sessions.views("ann", "s2") == []  # another tab of the same person starts afresh
    kinds = [row["kind"] for row in host.rows]
    assert kinds == ["panel_suggested", "panel_opened", "panel_completed"]
    assert {row["session_id"] for row in host.rows} == {"s1"}
    assert host.rows[-1]["client_time"] == clock.now
    clock.advance(5)
    assert sessions.tick("ann", "s1") == []  # the completed panel dissolved


def test_idle_panel_expires_on_tick_as_the_clock_moves(store, host, clock) -> None:
    sessions = host.sessions(store)
    sessions.advance("ann", "s1", "insert_table")
    clock.advance(TABLE.idle_timeout_s - 1)
    assert [v.state for v in sessions.tick("ann", "s1")] == ["open"]
    clock.advance(1)
    assert sessions.tick("ann", "s1") == []
    assert host.rows[-1]["kind"] == "panel_expired"


def test_actions_dismissals_and_refused_transitions(store, host) -> None:
    sessions = host.sessions(store)
    sessions.advance("ann", "s1", "insert_table")
    assert [v.state for v in sessions.act("ann", "insert_table", "pin", "s1")] == ["pinned"]
    assert sessions.act("ann", "insert_table", "close", "s1") == []
    assert [v.state for v in sessions.act("ann", "insert_table", "reopen", "s1")] == ["open"]
    assert sessions.act("ann", "insert_table", "dismiss", "s1") == []
    assert host.profile("ann").dismissals == {"insert_table": 1}
    with pytest.raises(ValueError, match="action must be one of"):
        sessions.act("ann", "insert_table", "explode", "s1")
    with pytest.raises(KeyError, match="unknown task 'nope'"):
        sessions.act("ann", "nope", "open", "s1")
    with pytest.raises(RuntimeError, match="cannot pin panel 'insert_table': it is dismissed"):
        sessions.act("ann", "insert_table", "pin", "s1")


def test_a_new_session_starts_with_the_persons_stored_dismissals(store, host) -> None:
    prof = UserProfile(user_id="ann")
    for _ in range(TABLE.suppress_after_dismissals):
        prof = controls.record_dismissal(prof, task_id="insert_table")
    host.save_profile(prof)
    sessions = host.sessions(store)
    sessions.advance("ann", "s1", "insert_table")
    assert sessions.views("ann", "s1") == []  # suppressed by earlier dismissals
    sessions.advance("bob", "s1", "insert_table")
    assert [v.task_id for v in sessions.views("bob", "s1")] == ["insert_table"]


def test_forget_drops_only_that_persons_panels(store, host) -> None:
    sessions = host.sessions(store)
    for user in ("ann", "bob"):
        sessions.advance(user, "s1", "insert_table")
    sessions.forget("ann")
    assert sessions.views("ann", "s1") == []
    assert [v.task_id for v in sessions.views("bob", "s1")] == ["insert_table"]


def test_a_registry_without_the_task_drops_its_panels_instead_of_failing(store, host) -> None:
    sessions = host.sessions(store)
    sessions.advance("ann", "s1", "insert_table")
    sessions.advance("ann", "s1", "crop")
    assert [v.task_id for v in sessions.views("ann", "s1")] == ["insert_table", "crop_resize"]
    smaller = replace(REG, tasks=tuple(t for t in REG.tasks if t.id != "insert_table"))
    sessions.reset(smaller)
    assert [v.task_id for v in sessions.views("ann", "s1")] == ["crop_resize"]
    sessions.advance("ann", "s1", "table_rows")
    assert [v.task_id for v in sessions.tick("ann", "s1")] == ["crop_resize"]
    record = store.load("ann", "s1")
    assert record is not None
    assert [p["task_id"] for p in record["panels"]["panels"]] == ["crop_resize"]
    assert set(record["steps"]) == {"crop_resize"}


def test_a_call_that_changes_nothing_writes_nothing(store, host) -> None:
    sessions = host.sessions(store)
    sessions.views("ann", "s1")
    sessions.tick("ann", "s1")
    assert store.load("ann", "s1") is None  # merely looking creates no session record
    sessions.advance("ann", "s1", "insert_table")
    assert store.load("ann", "s1") is not None


# ---------------------------------------------------------------------- two workers over Redis


def test_two_workers_share_panels_through_redis(redis_client, clock) -> None:
    first, second = Host(clock), Host(clock)
    worker_a = first.sessions(RedisPanelStore(redis_client))
    worker_b = second.sessions(RedisPanelStore(redis_client))
    worker_a.advance("ann", "s1", "insert_table")
    seen = worker_b.views("ann", "s1")
    assert [(v.task_id, v.state) for v in seen] == [("insert_table", "open")]
    clock.advance(3)
    worker_b.advance("ann", "s1", "table_rows")
    views = worker_a.views("ann", "s1")
    assert [s.done for s in views[0].steps] == [True, True, False]
    assert views[0].state == "in_progress"
    worker_a.advance("ann", "s1", "table_style")
    assert [v.state for v in worker_b.views("ann", "s1")] == ["completed"]
    assert second.rows == []  # a step of an open task is progress, not an event
    assert [r["kind"] for r in first.rows] == [
        "panel_suggested",
        "panel_opened",
        "panel_completed",
    ]


def test_forget_through_one_worker_removes_panels_for_the_other(redis_client, host) -> None:
    worker_a = host.sessions(RedisPanelStore(redis_client))
    worker_b = host.sessions(RedisPanelStore(redis_client))
    worker_a.advance("ann", "s1", "insert_table")
    worker_a.advance("ann", "s2", "crop")
    worker_a.advance("bob", "s1", "insert_table")
    assert len(worker_b.views("ann", "s2")) == 1
    worker_b.forget("ann")
    assert worker_a.views("ann", "s1") == [] and worker_a.views("ann", "s2") == []
    assert [v.task_id for v in worker_a.views("bob", "s1")] == ["insert_table"]
    assert redis_client.exists("adaptive:panels:user:ann") == 0


def test_redis_records_are_json_with_a_refreshed_ttl(redis_client, host) -> None:
    store = RedisPanelStore(redis_client, ttl_s=600, prefix="test:panels")
    host.sessions(store).advance("ann", "s1", "insert_table")
    text = redis_client.get("test:panels:ann:s1")
    assert text is not None and text.startswith('{"panels":')
    assert 0 < redis_client.ttl("test:panels:ann:s1") <= 600
    assert redis_client.smembers("test:panels:user:ann") == {"s1"}
    assert 0 < redis_client.ttl("test:panels:user:ann") <= 600


def test_ids_cannot_make_keys_collide(redis_client) -> None:
    store = RedisPanelStore(redis_client)
    store.save("user", "ann", _record("user", "ann"))  # would be ann's user set, unescaped
    store.save("a:b", "c", _record("a:b", "c"))
    store.save("a", "b:c", _record("a", "b:c"))
    assert store.load("a:b", "c") == _record("a:b", "c")
    assert store.load("a", "b:c") == _record("a", "b:c")
    assert store.delete_user("ann") == 0
    assert store.load("user", "ann") == _record("user", "ann")
    assert store.delete_user("user") == 1


def test_garbage_in_redis_is_discarded_and_treated_as_absent(redis_client, host, capsys) -> None:
    store = RedisPanelStore(redis_client)
    redis_client.set("adaptive:panels:ann:s1", "{not json")
    redis_client.sadd("adaptive:panels:user:ann", "s1")
    assert store.load("ann", "s1") is None
    assert "warning: discarding malformed panel record of 'ann'/'s1'" in capsys.readouterr().err
    assert redis_client.exists("adaptive:panels:ann:s1") == 0
    redis_client.set("adaptive:panels:ann:s1", '{"panels": [], "steps": {}}')
    sessions = host.sessions(store)
    assert sessions.views("ann", "s1") == []
    sessions.advance("ann", "s1", "insert_table")  # the session starts afresh
    assert [v.task_id for v in sessions.views("ann", "s1")] == ["insert_table"]
    assert "'panels' is not an object" in capsys.readouterr().err


def test_redis_lock_serialises_workers_on_one_session(redis_client) -> None:
    store = RedisPanelStore(redis_client)
    store.save("ann", "s", _record("ann", "s", insert_table=[]))

    def add(n: int) -> None:
        client = redis.Redis(connection_pool=redis_client.connection_pool)
        worker = RedisPanelStore(client)
        for i in range(10):
            with worker.locked("ann", "s"):
                data = worker.load("ann", "s")
                assert data is not None
                data["steps"]["insert_table"].append(f"c{n}-{i}")
                worker.save("ann", "s", data)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = store.load("ann", "s")
    assert data is not None and len(data["steps"]["insert_table"]) == 30
