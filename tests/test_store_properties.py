"""Property tests: retried batches in any order are stored exactly once, and erasure
leaves no trace of a user anywhere while sparing everyone else."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Field, SQLModel

from personalization.store.db import make_engine
from personalization.store.event_store import EventStore

USERS = ["u0", "u1", "u2", "u1x"]  # "u1x" contains "u1": erasure must match exactly


class PropertyLearnedState(SQLModel, table=True):
    """Model state derived from events, kept by "another module"; erase must reach it."""

    __tablename__ = "test_property_learned_state"
    __user_data__: ClassVar[bool] = True

    id: int | None = Field(default=None, primary_key=True)
    user_id: str
    command: str
    count: int = 0


valid_events = st.fixed_dictionaries(
    {
        "client_event_id": st.sampled_from([f"e{i}" for i in range(12)]),
        "user_id": st.sampled_from(USERS),
        "command": st.sampled_from(["open", "save", "file/new", "a.b:c"]),
    },
    optional={
        "client_time": st.floats(min_value=0, max_value=2e9, allow_nan=False),
        "route": st.sampled_from(["/", "/editor"]),
        "kind": st.sampled_from(["invoke", "dismiss", "panel_completed"]),
    },
)
invalid_events = st.fixed_dictionaries(
    {
        "client_event_id": st.sampled_from(["e1", "bad id", ""]),
        "user_id": st.sampled_from(USERS),
        "command": st.sampled_from(["open", "free text here", ""]),
    },
    optional={"args": st.just("--force")},
).filter(
    lambda e: (
        e["client_event_id"] in ("bad id", "")
        or " " in e["command"]
        or not e["command"]
        or "args" in e
    )
)
events = st.one_of(valid_events, valid_events, valid_events, invalid_events)


@st.composite
def delivery_plans(draw: st.DrawFn) -> tuple[list[list[dict[str, Any]]], list[int]]:
    """Batches, and the order the network delivered them in: each batch at least once,
    some several times (retries), in any interleaving."""
    batches = draw(st.lists(st.lists(events, min_size=1, max_size=8), min_size=1, max_size=6))
    repeats = draw(st.lists(st.integers(1, 3), min_size=len(batches), max_size=len(batches)))
    sends = [i for i, n in enumerate(repeats) for _ in range(n)]
    return batches, draw(st.permutations(sends))


def _stored(store: EventStore) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for user in store.users():
        for row in store.history(user):
            key = (row.user_id, row.client_event_id)
            assert key not in out, f"{key} stored twice"
            out[key] = {
                "command": row.command,
                "kind": row.kind.value,
                "route": row.route,
                "client_time": None if row.client_time is None else row.client_time.timestamp(),
            }
    return out


def _is_valid(event: dict[str, Any]) -> bool:
    return (
        "args" not in event
        and event["client_event_id"] not in ("bad id", "")
        and event["command"] not in ("free text here", "")
    )


@settings(max_examples=40, deadline=None)
@given(plan=delivery_plans(), portable=st.booleans())
def test_any_interleaving_of_retries_stores_each_event_exactly_once(
    plan: tuple[list[list[dict[str, Any]]], list[int]], portable: bool
) -> None:
    batches, sends = plan
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'p.db'}")
        with EventStore(engine=engine, portable=portable) as store:
            expected: dict[tuple[str, str], dict[str, Any]] = {}
            accepted_keys: list[tuple[str, str]] = []
            for batch_no in sends:
                batch = batches[batch_no]
                result = store.append(batch)
                assert len(result.statuses) == len(batch)
                for event, status in zip(batch, result.statuses, strict=True):
                    key = (event["user_id"], event["client_event_id"])
                    if not _is_valid(event):
                        assert status.status == "rejected" and status.field
                        continue
                    if key not in expected:  # the first delivery of a key wins
                        expected[key] = {
                            "command": event["command"],
                            "kind": event.get("kind", "invoke"),
                            "route": event.get("route"),
                            "client_time": event.get("client_time"),
                        }
                        assert status.status == "accepted"
                        accepted_keys.append(key)
                    else:
                        assert status.status == "duplicate"
            stored = _stored(store)
            assert set(stored) == set(expected) == set(accepted_keys)
            for key, content in expected.items():
                got = stored[key]
                assert got["command"] == content["command"]
                assert got["kind"] == content["kind"]
                assert got["route"] == content["route"]
                if content["client_time"] is None:
                    assert got["client_time"] is None
                else:
                    assert abs(got["client_time"] - float(content["client_time"])) < 1e-5


def _all_values(db_file: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(db_file)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: con.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}
    finally:
        con.close()


@settings(max_examples=30, deadline=None)
@given(
    history=st.lists(valid_events, min_size=1, max_size=30),
    learned=st.lists(st.tuples(st.sampled_from(USERS), st.integers(0, 9)), max_size=10),
    victim=st.sampled_from(USERS),
)
def test_erasure_leaves_no_trace_of_the_user_and_spares_the_others(
    history: list[dict[str, Any]], learned: list[tuple[str, int]], victim: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "e.db"
        with EventStore(f"sqlite:///{db_file}") as store:
            store.append(history)
            with store.engine.begin() as conn:
                if learned:
                    conn.execute(
                        PropertyLearnedState.__table__.insert(),  # type: ignore[attr-defined]
                        [{"user_id": u, "command": "open", "count": c} for u, c in learned],
                    )
            others = [u for u in USERS if u != victim]
            before = {u: store.export_user(u)["tables"] for u in others}
            expected_events = sum(
                1
                for u, _ in {(e["user_id"], e["client_event_id"]): 0 for e in history}
                if u == victim
            )
            deleted = store.erase_user(victim)
            assert deleted["usage_event"] == expected_events
            assert deleted["test_property_learned_state"] == sum(
                1 for u, _ in learned if u == victim
            )
            after = {u: store.export_user(u)["tables"] for u in others}
        assert after == before
        for table, rows in _all_values(db_file).items():
            for row in rows:
                assert victim not in row, f"{table} still mentions {victim}: {row}"
