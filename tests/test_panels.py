"""The task panel state machine, transition by transition, with a clock the test controls."""

from __future__ import annotations

import pytest

from app.registry import demo_registry
from personalization.panels.machine import (
    DAY,
    DISSOLVE_AFTER_S,
    PanelState,
    PanelTransitionError,
    TaskPanels,
    task_start_probability,
)
from personalization.profile import UserProfile, apply_event
from personalization.types import EventKind, Prediction
from tests.support.clock import Clock

REG = demo_registry()
TABLE = REG.task("insert_table")  # trigger: insert_table; completion: table_rows + table_style


@pytest.fixture
def clock() -> Clock:
    return Clock(1_000_000.0)


@pytest.fixture
def panels(clock: Clock) -> TaskPanels:
    return TaskPanels(registry=REG, user_id="ann", session_id="s1", clock=clock)


def _kinds(events) -> list[EventKind]:
    return [e.kind for e in events]


def test_happy_path_suggested_open_in_progress_completed_dissolved(panels, clock) -> None:
    events = panels.consider(command="insert_table")
    assert _kinds(events) == [EventKind.PANEL_SUGGESTED]
    assert events[0].context.task_id == "insert_table" and events[0].user_id == "ann"
    assert panels.state("insert_table") is PanelState.SUGGESTED
    assert _kinds(panels.open("insert_table")) == [EventKind.PANEL_OPENED]
    assert panels.state("insert_table") is PanelState.OPEN
    assert panels.observe("table_rows") == []
    assert panels.state("insert_table") is PanelState.IN_PROGRESS
    done = panels.observe("table_style")
    assert _kinds(done) == [EventKind.PANEL_COMPLETED] and done[0].timestamp == clock.now
    assert panels.state("insert_table") is PanelState.COMPLETED
    clock.advance(DISSOLVE_AFTER_S - 0.5)
    panels.tick()
    assert panels.state("insert_table") is PanelState.COMPLETED
    clock.advance(1)
    panels.tick()
    assert panels.state("insert_table") is PanelState.DISSOLVED
    assert panels.visible() == []


def test_unrelated_commands_do_not_advance_a_panel(panels) -> None:
    panels.suggest("insert_table")
    panels.open("insert_table")
    assert panels.observe("bold") == []
    assert panels.state("insert_table") is PanelState.OPEN


def test_idle_timeout_expires_but_interaction_resets_it(panels, clock) -> None:
    panels.suggest("insert_table")
    panels.open("insert_table")
    clock.advance(TABLE.idle_timeout_s - 1)
    panels.interact("insert_table")
    assert panels.state("insert_table") is PanelState.IN_PROGRESS
    clock.advance(TABLE.idle_timeout_s - 1)
    assert panels.tick() == []
    clock.advance(TABLE.idle_timeout_s * 5)
    assert panels.tick(interacting=True) == []  # never closes under the person's hand
    assert panels.tick(interacting={"insert_table"}) == []
    clock.advance(TABLE.idle_timeout_s)
    assert _kinds(panels.tick()) == [EventKind.PANEL_EXPIRED]
    assert panels.state("insert_table") is PanelState.EXPIRED


def test_an_unanswered_suggestion_expires(panels, clock) -> None:
    panels.suggest("insert_table")
    clock.advance(TABLE.idle_timeout_s)
    assert _kinds(panels.tick()) == [EventKind.PANEL_EXPIRED]
    with pytest.raises(
        PanelTransitionError, match="cannot open panel 'insert_table': it is expired"
    ):
        panels.open("insert_table")


def test_pinned_panel_never_expires_and_survives_completion(panels, clock) -> None:
    panels.suggest("insert_table")
    panels.open("insert_table")
    panels.pin("insert_table")
    clock.advance(TABLE.idle_timeout_s * 10)
    assert panels.tick() == []
    assert panels.state("insert_table") is PanelState.PINNED
    panels.observe("table_rows")
    assert _kinds(panels.observe("table_style")) == [EventKind.PANEL_COMPLETED]
    assert panels.state("insert_table") is PanelState.PINNED
    assert panels.panels["insert_table"].done == []
    panels.unpin("insert_table")
    assert panels.state("insert_table") is PanelState.OPEN


def test_escape_closes_and_the_panel_can_be_reopened(panels) -> None:
    panels.suggest("insert_table")
    panels.open("insert_table")
    panels.observe("table_rows")
    assert panels.escape("insert_table") == []
    assert panels.state("insert_table") is PanelState.CLOSED
    assert panels.visible() == []
    assert _kinds(panels.reopen("insert_table")) == [EventKind.PANEL_OPENED]
    assert panels.state("insert_table") is PanelState.IN_PROGRESS  # progress kept
    assert panels.panels["insert_table"].done == ["table_rows"]


def test_dismissal_is_recorded_and_counts_against_the_trigger(panels) -> None:
    share = REG.task("share")
    assert panels.threshold(share) == pytest.approx(0.6)
    panels.suggest("share")
    events = panels.dismiss("share")
    assert _kinds(events) == [EventKind.PANEL_DISMISSED]
    assert panels.dismissals == {"share": 1}
    assert panels.threshold(share) == pytest.approx(0.7)
    profile = apply_event(UserProfile("ann"), events[0])
    assert profile.dismissals == {"share": 1}


def test_probability_trigger_respects_the_raised_threshold(clock) -> None:
    panels = TaskPanels(registry=REG, user_id="ann", clock=clock, dismissals={"share": 2})
    guess = [Prediction("share", 0.75)]
    assert task_start_probability(REG.task("share"), guess) == 0.75
    assert panels.consider(predictions=guess) == []  # needs 0.8 after two dismissals
    fired = panels.consider(predictions=[Prediction("share", 0.85)])
    assert [e.context.task_id for e in fired] == ["share"]


def test_enough_dismissals_suppress_the_task(clock) -> None:
    limit = TABLE.suppress_after_dismissals
    panels = TaskPanels(
        registry=REG, user_id="ann", clock=clock, dismissals={"insert_table": limit}
    )
    assert panels.consider(command="insert_table") == []
    assert "dismissed" in panels.why_not("insert_table")


def test_cooldown_blocks_a_new_offer_until_it_has_passed(panels, clock) -> None:
    panels.suggest("insert_table")
    panels.dismiss("insert_table")
    clock.advance(TABLE.cooldown_s - 1)
    assert panels.consider(command="insert_table") == []
    assert "cooling down" in panels.why_not("insert_table")
    clock.advance(1)
    assert _kinds(panels.consider(command="insert_table")) == [EventKind.PANEL_SUGGESTED]


def test_daily_cap(clock) -> None:
    clock.now = 10 * DAY  # start of a UTC day
    crop = REG.task("crop_resize")
    panels = TaskPanels(registry=REG, user_id="ann", clock=clock)
    for _ in range(crop.max_per_day):
        assert panels.consider(command="crop")
        panels.open("crop_resize")
        panels.close("crop_resize")
        panels.dismiss("crop_resize")  # closed panels may still be dismissed
        panels.dismissals.clear()
        clock.advance(crop.cooldown_s)
    assert panels.consider(command="crop") == []
    assert "cap 5" in panels.why_not("crop_resize")
    clock.now = 11 * DAY
    assert panels.consider(command="crop")


def test_no_second_offer_while_one_is_showing(panels) -> None:
    panels.consider(command="insert_table")
    assert panels.consider(command="insert_table") == []
    with pytest.raises(PanelTransitionError, match="already suggested"):
        panels.suggest("insert_table")


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ([], "open", "cannot open panel 'insert_table': it was never offered"),
        (["suggest"], "interact", "cannot interact with panel 'insert_table': it is suggested"),
        (["suggest"], "pin", "cannot pin panel 'insert_table': it is suggested"),
        (["suggest", "open"], "reopen", "cannot reopen panel 'insert_table': it is open"),
        (["suggest", "open"], "unpin", "cannot unpin panel 'insert_table': it is open"),
        (
            ["suggest", "open", "pin"],
            "dismiss",
            "cannot dismiss panel 'insert_table': it is pinned",
        ),
        (["suggest", "dismiss"], "close", "cannot close panel 'insert_table': it is dismissed"),
        (["suggest", "open"], "dissolve", "cannot dissolve panel 'insert_table': it is open"),
    ],
)
def test_illegal_transitions_name_state_and_action(panels, setup, action, message) -> None:
    for step in setup:
        getattr(panels, step)("insert_table")
    before = panels.state("insert_table")
    with pytest.raises(PanelTransitionError) as info:
        getattr(panels, action)("insert_table")
    assert str(info.value) == message
    assert panels.state("insert_table") == before  # a refused action changes nothing


def test_unknown_task_is_named(panels) -> None:
    with pytest.raises(KeyError, match="'nope'"):
        panels.open("nope")


def test_state_survives_a_json_round_trip(panels, clock) -> None:
    import json

    panels.suggest("insert_table")
    panels.open("insert_table")
    panels.observe("table_rows")
    panels.suggest("share")
    panels.dismiss("share")
    data = json.loads(json.dumps(panels.to_dict()))
    again = TaskPanels.from_dict(data, registry=REG, clock=clock)
    assert again.to_dict() == panels.to_dict()
    assert _kinds(again.observe("table_style")) == [EventKind.PANEL_COMPLETED]
