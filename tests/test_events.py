"""The usage event shapes: what a client may send, what is refused and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from personalization.store.events import (
    DEFAULTS,
    UsageEvent,
    UsageEventCreate,
    UsageEventPublic,
    from_event,
    to_event,
    validate_batch,
)
from personalization.types import Context, Event, EventKind


def ok(**extra: Any) -> dict[str, Any]:
    return {"client_event_id": "c1", "user_id": "alice", "command": "file.open", **extra}


def rejected_field(item: dict[str, Any]) -> tuple[str, str]:
    indexes, rows, rejections = validate_batch([item])
    assert indexes == [] and rows == []
    assert len(rejections) == 1 and rejections[0].index == 0
    return rejections[0].field, rejections[0].reason


def test_a_minimal_event_is_accepted_with_defaults() -> None:
    indexes, rows, rejections = validate_batch([ok()])
    assert indexes == [0] and rejections == []
    full = {**DEFAULTS, **rows[0]}
    assert full["kind"] is EventKind.INVOKE
    assert full["client_time"] is None and full["route"] is None


@pytest.mark.parametrize(
    ("given_time", "epoch"),
    [
        (1_700_000_000.25, 1_700_000_000.25),
        (1_700_000_000, 1_700_000_000.0),
        ("2024-01-01T01:00:00+01:00", 1_704_067_200.0),
        ("2024-01-01T00:00:00Z", 1_704_067_200.0),
        ("2024-01-01T00:00:00", 1_704_067_200.0),  # naive is read as UTC
        (datetime(2024, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))), 1_704_067_200.0),
        (1_704_067_200_000, 1_704_067_200.0),  # milliseconds (JavaScript Date.now())
    ],
)
def test_client_time_becomes_epoch_seconds(given_time: object, epoch: float) -> None:
    _, rows, rejections = validate_batch([ok(client_time=given_time)])
    assert rejections == []
    assert rows[0]["client_time"] == pytest.approx(epoch)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (ok(command="rm -rf /tmp"), "command"),
        (ok(command="open\n"), "command"),
        (ok(command="ouvrir le fichier « rapport »"), "command"),
        (ok(command=""), "command"),
        (ok(command="x" * 129), "command"),
        (ok(user_id="x" * 129), "user_id"),
        (ok(client_event_id="x" * 65), "client_event_id"),
        (ok(route="/search?q=my secret"), "route"),
        (ok(session_id="a b"), "session_id"),
        (ok(device="fridge"), "device"),
        (ok(kind="clicked"), "kind"),
        (ok(client_time="yesterday"), "client_time"),
        (ok(client_time=float("nan")), "client_time"),
        (ok(args="--force"), "args"),
        (ok(text="my diary"), "text"),
        ({"user_id": "alice", "command": "open"}, "client_event_id"),
    ],
)
def test_bad_input_is_rejected_naming_the_field(item: dict[str, Any], field: str) -> None:
    got_field, reason = rejected_field(item)
    assert got_field == field
    assert reason


def test_a_non_object_is_rejected_as_a_whole_event() -> None:
    got_field, reason = rejected_field("open")  # type: ignore[arg-type]
    assert got_field == "(event)"
    assert "dictionary" in reason or "object" in reason


def test_every_invalid_field_is_named() -> None:
    _, reason = rejected_field(ok(command="a b", route="c d", args="x"))
    for name in ("route", "args"):
        assert name in reason


def test_a_mixed_batch_keeps_the_good_events_in_order() -> None:
    batch = [ok(client_event_id="a"), ok(command="bad one"), ok(client_event_id="c"), 42]
    indexes, rows, rejections = validate_batch(batch)  # type: ignore[arg-type]
    assert indexes == [0, 2]
    assert [r["client_event_id"] for r in rows] == ["a", "c"]
    assert [(r.index, r.field) for r in rejections] == [(1, "command"), (3, "(event)")]


def test_model_instances_are_accepted_too() -> None:
    model = UsageEventCreate(**ok(client_time="2024-01-01T00:00:00Z", device="mobile"))
    indexes, rows, _ = validate_batch([model])
    assert indexes == [0]
    assert rows[0]["client_time"] == 1_704_067_200.0
    assert rows[0]["device"] == "mobile"


def test_the_table_is_unique_per_user_and_marked_as_user_data() -> None:
    table = UsageEvent.__table__  # type: ignore[attr-defined]
    uniques = [
        tuple(c.name for c in con.columns)
        for con in table.constraints
        if con.__class__.__name__ == "UniqueConstraint"
    ]
    assert ("user_id", "client_event_id") in uniques
    assert UsageEvent.__user_data__ is True
    # Nothing that could hold an argument or free text is a column.
    assert not {"args", "arguments", "text", "payload", "value"} & set(table.c.keys())


def test_public_shape_turns_epoch_floats_into_utc_datetimes() -> None:
    public = UsageEventPublic.model_validate(
        {
            "id": 1,
            "client_event_id": "c1",
            "user_id": "alice",
            "command": "open",
            "client_time": 1_704_067_200.0,
            "server_time": 1_704_067_201.5,
        }
    )
    assert public.client_time == datetime(2024, 1, 1, tzinfo=UTC)
    assert public.server_time.tzinfo is not None


def test_engine_event_round_trip() -> None:
    event = Event(
        user_id="alice",
        command="save",
        timestamp=1_704_067_200.5,
        context=Context(route="/editor", device="desktop", session_id="s1", region="toolbar"),
        kind=EventKind.PANEL_OPENED,
    )
    _, rows, rejections = validate_batch([from_event(event, client_event_id="e1")])
    assert rejections == []
    assert to_event({**DEFAULTS, **rows[0]}) == event


# The fast TypedDict validator must agree with the documented SQLModel input shape.
texts = st.one_of(
    st.sampled_from(["open", "a/b:c.d-e_f", "", "a b", "x" * 65, "x" * 129, "é", "ok\n"]),
    st.text(max_size=8),
)
maybe_fields = st.fixed_dictionaries(
    {},
    optional={
        "client_event_id": texts,
        "user_id": texts,
        "command": texts,
        "route": st.one_of(st.none(), texts),
        "device": st.sampled_from(["desktop", "mobile", "toaster", None]),
        "kind": st.sampled_from(["invoke", "pin", "nope"]),
        "client_time": st.one_of(
            st.none(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from(["2024-01-01T00:00:00Z", "later", "1700000000"]),
        ),
        "args": st.text(max_size=3),
    },
)


@settings(max_examples=300, deadline=None)
@given(item=maybe_fields)
def test_fast_validator_agrees_with_the_model(item: dict[str, Any]) -> None:
    try:
        model = UsageEventCreate.model_validate(item)
    except ValidationError as exc:
        model_fields = {str(e["loc"][0]) for e in exc.errors()}
        _, rows, rejections = validate_batch([item])
        assert rows == []
        assert rejections[0].field in model_fields
        return
    indexes, rows, rejections = validate_batch([item])
    assert rejections == [] and indexes == [0]
    assert {**DEFAULTS, **rows[0]} == model.model_dump()
