"""EventStore on real databases (every test taking ``db_url`` runs on SQLite and on
PostgreSQL): idempotent batches, history, export, erase, retention."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from personalization.store.db import make_engine
from personalization.store.event_store import EventStore
from personalization.store.privacy import EXPORT_SCHEMA, unflagged_user_tables, user_data_tables
from personalization.types import EventKind


class LearnedStateForTest(SQLModel, table=True):
    """Stands in for model state another module learns from events: erase must find it."""

    __tablename__ = "test_store_learned_state"
    __user_data__: ClassVar[bool] = True

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(index=True)
    weight: float = 0.0


def ev(cid: str, user: str = "alice", command: str = "open", **extra: Any) -> dict[str, Any]:
    return {"client_event_id": cid, "user_id": user, "command": command, **extra}


@pytest.fixture(params=["fast", "portable"])
def store(request: pytest.FixtureRequest, db_url: str) -> EventStore:
    with EventStore(engine=make_engine(db_url), portable=request.param == "portable") as s:
        # the stand-in table is this test's, not a migration's: create it on either backend
        LearnedStateForTest.__table__.create(s.engine, checkfirst=True)  # type: ignore[attr-defined]
        yield s


def test_a_batch_is_stored_and_a_retry_stores_nothing_twice(store: EventStore) -> None:
    batch = [ev("1", client_time=10.0), ev("2", command="save", client_time=20.0)]
    first = store.append(batch)
    assert (first.accepted, first.duplicates, first.rejected) == (2, 0, 0)
    again = store.append(batch)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 2, 0)
    assert [s.status for s in again.statuses] == ["duplicate", "duplicate"]
    assert store.count() == 2
    assert [e.command for e in store.history("alice")] == ["open", "save"]


def test_one_bad_event_is_rejected_and_the_rest_are_kept(store: EventStore) -> None:
    result = store.append([ev("1"), ev("2", command="delete my files"), ev("3", kind="pin")])
    assert [s.status for s in result.statuses] == ["accepted", "rejected", "accepted"]
    bad = result.statuses[1]
    assert (bad.index, bad.field, bad.client_event_id) == (1, "command", "2")
    assert result.rejections[0].field == "command"
    assert {e.client_event_id for e in store.history("alice")} == {"1", "3"}


def test_the_same_event_twice_in_one_batch_is_stored_once(store: EventStore) -> None:
    result = store.append([ev("1"), ev("1", command="other"), ev("2")])
    assert [s.status for s in result.statuses] == ["accepted", "duplicate", "accepted"]
    assert [e.command for e in store.history("alice")] == ["open", "open"]


def test_ids_are_unique_per_user_not_globally(store: EventStore) -> None:
    result = store.append([ev("1", user="alice"), ev("1", user="bob")])
    assert result.accepted == 2
    assert store.users() == ["alice", "bob"]
    assert store.count("bob") == 1


def test_accepted_events_survive_a_new_process(db_url: str) -> None:
    with EventStore(db_url) as writer:
        assert writer.append([ev(str(i)) for i in range(50)]).accepted == 50
    with EventStore(db_url) as reader:
        assert reader.count("alice") == 50


@pytest.mark.parametrize("portable", [False, True])
def test_a_database_error_stores_nothing_from_the_batch(db_url: str, portable: bool) -> None:
    with EventStore(engine=make_engine(db_url), portable=portable) as store:
        with store.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.execute(
                    text(
                        "CREATE TRIGGER refuse_boom BEFORE INSERT ON usage_event "
                        "WHEN NEW.command = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                    )
                )
            else:
                conn.execute(
                    text(
                        "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN "
                        "IF NEW.command = 'boom' THEN RAISE EXCEPTION 'refused' "
                        "USING ERRCODE = '23514'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                    )
                )
                conn.execute(
                    text(
                        "CREATE TRIGGER refuse_boom BEFORE INSERT ON usage_event "
                        "FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
                    )
                )
        with pytest.raises(IntegrityError):
            store.append([ev("1"), ev("2", command="boom"), ev("3")])
        assert store.count() == 0
        assert store.append([ev("1"), ev("3")]).accepted == 2


def test_history_is_in_time_order_with_file_order_for_missing_clocks(store: EventStore) -> None:
    store.append([ev("late", command="late", client_time=300.0), ev("early", client_time=100.0)])
    store.append([ev("n1", command="first-no-clock"), ev("n2", command="second-no-clock")])
    commands = [e.command for e in store.history("alice")]
    assert commands == ["open", "late", "first-no-clock", "second-no-clock"]
    recent = store.history("alice", limit=2)
    assert [e.command for e in recent] == ["first-no-clock", "second-no-clock"]
    since = store.history("alice", since=datetime.fromtimestamp(200, UTC))
    assert [e.command for e in since][0] == "late"
    assert store.history("nobody") == []
    with pytest.raises(ValueError, match="limit"):
        store.history("alice", limit=-1)


def test_history_returns_public_rows_with_context(store: EventStore) -> None:
    store.append(
        [
            ev(
                "1",
                client_time="2024-03-01T12:00:00Z",
                kind="panel_opened",
                route="/editor",
                device="tablet",
                session_id="s-1",
                task_id="t-9",
                region="toolbar",
                component="save-button",
            )
        ]
    )
    (row,) = store.history("alice")
    assert row.kind is EventKind.PANEL_OPENED
    assert row.client_time == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert (row.route, row.device, row.session_id, row.task_id) == (
        "/editor",
        "tablet",
        "s-1",
        "t-9",
    )
    assert (row.region, row.component) == ("toolbar", "save-button")


def test_iter_events_streams_engine_events_in_time_order(store: EventStore) -> None:
    store.append([ev(str(i), user=f"u{i % 3}", client_time=1000.0 - i) for i in range(25)])
    streamed = list(store.iter_events(batch=4))
    assert len(streamed) == 25
    times = [e.timestamp for e in streamed]
    assert times == sorted(times)
    only = list(store.iter_events(user_id="u1", batch=2))
    assert {e.user_id for e in only} == {"u1"} and len(only) == store.count("u1")


def test_export_holds_every_user_data_table_and_only_that_user(store: EventStore) -> None:
    store.append([ev("1", client_time=5.0), ev("2", user="bob")])
    with store.engine.begin() as conn:
        conn.execute(
            LearnedStateForTest.__table__.insert(),  # type: ignore[attr-defined]
            [{"user_id": "alice", "weight": 0.5}, {"user_id": "bob", "weight": 0.1}],
        )
    exported = json.loads(json.dumps(store.export_user("alice")))
    assert exported["schema"] == EXPORT_SCHEMA and exported["version"] == 1
    present = set(inspect(store.engine).get_table_names())
    # every user-data table this database has (other test modules declare more, which only
    # SQLite's create_all makes)
    assert set(exported["tables"]) == {t.name for t in user_data_tables() if t.name in present}
    assert {"usage_event", "user_model_state", "user_profile"} <= set(exported["tables"])
    assert [r["client_event_id"] for r in exported["tables"]["usage_event"]] == ["1"]
    assert exported["tables"]["usage_event"][0]["client_time"] == 5.0
    assert [r["weight"] for r in exported["tables"]["test_store_learned_state"]] == [0.5]
    assert "bob" not in json.dumps(exported)


def test_erase_removes_events_and_learned_state_and_spares_others(store: EventStore) -> None:
    store.append([ev("1"), ev("2"), ev("1", user="bob")])
    with store.engine.begin() as conn:
        conn.execute(
            LearnedStateForTest.__table__.insert(),  # type: ignore[attr-defined]
            [{"user_id": "alice", "weight": 1.0}, {"user_id": "bob", "weight": 2.0}],
        )
    deleted = store.erase_user("alice")
    assert deleted["usage_event"] == 2 and deleted["test_store_learned_state"] == 1
    assert store.count("alice") == 0 and store.users() == ["bob"]
    assert all(rows == [] for rows in store.export_user("alice")["tables"].values())
    bob = store.export_user("bob")["tables"]
    assert len(bob["usage_event"]) == 1 and bob["test_store_learned_state"][0]["weight"] == 2.0
    assert store.erase_user("alice")["usage_event"] == 0


def test_erased_ids_are_gone_from_the_bytes_on_disk(tmp_path: Path) -> None:
    victim = "victim-7f3a9c"
    with EventStore(f"sqlite:///{tmp_path / 'disk.db'}") as store:
        store.append([ev(f"e{i}", user=victim, command=f"secret-cmd-{i}") for i in range(300)])
        store.append([ev(f"k{i}", user="keeper") for i in range(300)])
        assert store.erase_user(victim)["usage_event"] == 300
        on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("disk.db*"))
        assert victim.encode() not in on_disk
        assert b"secret-cmd-" not in on_disk
        assert b"keeper" in on_disk and store.count("keeper") == 300


def test_every_table_with_a_user_id_is_marked_as_user_data() -> None:
    assert unflagged_user_tables() == []


def test_expire_deletes_old_events_only(store: EventStore) -> None:
    store.append([ev("old", client_time=100.0), ev("new", client_time=5000.0)])
    store.append([ev("bob-old", user="bob", client_time=100.0)])
    assert store.expire(datetime.fromtimestamp(1000, UTC), user_id="bob") == 1
    assert store.expire(1000.0) == 1
    assert [e.client_event_id for e in store.history("alice")] == ["new"]
    assert store.count() == 1


def test_concurrent_writers_store_each_event_once_with_exact_statuses(db_url: str) -> None:
    make_engine(db_url).dispose()
    batches = [
        [ev(str(i), user=f"u{i % 5}") for i in range(start, start + 300)] for start in (0, 150)
    ]
    results = []

    def write(batch: list[dict[str, Any]]) -> None:
        with EventStore(db_url) as store:
            for _ in range(3):
                results.append(store.append(batch))

    threads = [threading.Thread(target=write, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with EventStore(db_url) as store:
        assert store.count() == 450
    assert sum(r.accepted for r in results) == 450
    assert sum(r.duplicates for r in results) == 6 * 300 - 450


def test_append_learning_hands_back_exactly_what_the_log_holds(db_url: str) -> None:
    """On SQLite the learner takes its own batch from the append instead of reading it
    back: the ids, order, client ids and events must be the log's own, also when some of the
    batch were stored before, repeated inside it, invalid, or had no client clock."""
    with EventStore(db_url) as store:
        store.append([ev("a1"), ev("b1", user="bob")])
        batch = [
            ev("a1"),  # stored before: a duplicate
            ev("a2", command="save", client_time=1_700_000_000.5, region="toolbar"),
            ev("b2", user="bob", command="crop", device="tablet"),
            ev("a2", command="save"),  # twice inside the batch: the first one counts
            {"client_event_id": "x", "user_id": "alice", "command": ""},  # rejected
            ev("a3", kind="pin", region="toolbar"),
        ]
        result, written = store.append_learning(batch)
        assert result.codes == [
            "duplicate",
            "accepted",
            "accepted",
            "duplicate",
            "rejected",
            "accepted",
        ]
        if not db_url.startswith("sqlite"):
            assert written is None  # ids outside commit order: the learner reads the log
            return
        assert written is not None
        with store.engine.connect() as conn:
            logged = store.tails(conn, {"alice": written.before + 1, "bob": written.before + 1})
            earlier = store.tails(conn, {"alice": 1, "bob": 1}, upto=written.before)
        assert written.events == {u: rows for u, rows in logged.items() if rows}
        assert [cid for _id, cid, _e in written.events["alice"]] == ["a2", "a3"]
        assert [cid for _id, cid, _e in earlier["alice"]] == ["a1"]
        assert [cid for _id, cid, _e in earlier["bob"]] == ["b1"]
