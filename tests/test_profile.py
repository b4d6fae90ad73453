"""User controls as pure functions, and their persistence on a real SQLite file."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from app.registry import demo_registry
from personalization.layout.decide import decide_layout
from personalization.profile import (
    ControlError,
    Level,
    UserProfile,
    apply_event,
    hide,
    pin,
    record_dismissal,
    record_use,
    reset,
    set_level,
    set_recording,
    unhide,
    unpin,
)
from personalization.store import profiles as profile_store
from personalization.store.db import make_engine
from personalization.store.privacy import user_data_tables
from personalization.types import Context, Event, EventKind, Prediction


def test_pin_and_hide_are_exclusive_and_ordered() -> None:
    p = UserProfile("ann")
    p = pin(p, region="toolbar", command="crop")
    p = pin(p, region="toolbar", command="find")
    p = pin(p, region="toolbar", command="crop")  # again: no duplicate, order kept
    assert p.pinned_in("toolbar") == ("crop", "find")
    p = hide(p, region="toolbar", command="crop")
    assert p.pinned_in("toolbar") == ("find",) and p.hidden_in("toolbar") == ("crop",)
    p = pin(p, region="toolbar", command="crop")
    assert p.hidden_in("toolbar") == () and "toolbar" not in p.hidden
    p = unpin(unpin(p, region="toolbar", command="crop"), region="toolbar", command="find")
    assert p.pins == {}
    assert unhide(p, region="menu", command="x") == p


def test_controls_do_not_mutate_the_original() -> None:
    original = UserProfile("ann")
    changed = hide(record_use(original, command="crop", at=5.0), region="menu", command="crop")
    assert original == UserProfile("ann")
    assert changed.counts == {"crop": 1} and changed.hidden == {"menu": ("crop",)}


def test_hiding_a_protected_item_is_refused_with_a_clear_error() -> None:
    policy = demo_registry().region("toolbar").policy
    protected = policy.pinned + policy.never_hide
    with pytest.raises(ControlError, match="cannot hide 'save' in region 'toolbar'"):
        hide(UserProfile("ann"), region="toolbar", command="save", protected=protected)


def test_level_validation_names_the_choices() -> None:
    assert set_level(UserProfile("ann"), "subtle").level is Level.SUBTLE
    with pytest.raises(ControlError, match="level: must be one of off, subtle, full"):
        set_level(UserProfile("ann"), "max")


def test_opting_out_stops_recording_but_keeps_controls() -> None:
    p = record_use(UserProfile("ann"), command="crop", at=1.0)
    p = set_recording(p, False)
    assert record_use(p, command="find", at=2.0) == p
    assert pin(p, region="toolbar", command="find").pinned_in("toolbar") == ("find",)


def test_reset_forgets_personalization_but_keeps_the_persons_choices() -> None:
    p = UserProfile("ann", level=Level.SUBTLE, recording=False, retention_days=30)
    p = pin(hide(p, region="menu", command="cut"), region="toolbar", command="crop")
    p = record_dismissal(record_use(p, command="x", at=1.0), task_id="share")
    fresh = reset(p)
    assert fresh == UserProfile("ann", level=Level.SUBTLE, recording=False, retention_days=30)
    reg = demo_registry()
    assert (
        decide_layout(registry=reg, region_id="toolbar", predictions=[], profile=fresh).visible
        == reg.region("toolbar").policy.default_order[:8]
    )


def test_profile_rebuilds_from_events() -> None:
    ctx = Context(region="toolbar")
    events = [
        Event("ann", "crop", 10.0),
        Event("ann", "find", 20.0),
        Event("ann", "find", 30.0),
        Event("ann", "copy", 31.0, ctx, EventKind.PIN),
        Event("ann", "bold", 32.0, ctx, EventKind.HIDE),
        Event("ann", "share", 33.0, Context(task_id="share"), EventKind.PANEL_DISMISSED),
        Event("ann", "share", 34.0, Context(task_id="share"), EventKind.PANEL_OPENED),
    ]
    p = UserProfile("ann")
    for event in events:
        p = apply_event(p, event)
    assert p.counts == {"crop": 1, "find": 2}
    assert p.last_used == {"crop": 10.0, "find": 30.0} and p.last_command == "find"
    assert p.first_seen == 10.0
    assert p.pins == {"toolbar": ("copy",)} and p.hidden == {"toolbar": ("bold",)}
    assert p.dismissals == {"share": 1}


def test_profile_json_round_trip_and_bad_data() -> None:
    p = pin(record_use(UserProfile("ann"), command="crop", at=3.0), region="t", command="a")
    assert UserProfile.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    with pytest.raises(ValueError, match="invalid profile data"):
        UserProfile.from_dict({"level": "full"})


def test_store_saves_profiles_and_previous_layouts(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'profiles.db'}"
    engine = make_engine(url)
    reg = demo_registry()
    ann = pin(record_use(UserProfile("ann"), command="crop", at=3.0), region="toolbar", command="a")
    with Session(engine) as session:
        assert profile_store.load_profile(session=session, user_id="ann") == UserProfile("ann")
        profile_store.save_profile(session=session, profile=ann)
        profile_store.save_profile(session=session, profile=set_level(ann, Level.SUBTLE))
        profile_store.save_profile(session=session, profile=UserProfile("bob"))
        layout = decide_layout(
            registry=reg,
            region_id="toolbar",
            predictions=[Prediction("find", 0.9)],
            profile=ann,
            update_counter=4,
        )
        profile_store.save_layout(session=session, user_id="ann", layout=layout)
        profile_store.save_layout(session=session, user_id="bob", layout=layout)
    engine.dispose()
    engine = make_engine(url)
    with Session(engine) as session:
        loaded = profile_store.load_profile(session=session, user_id="ann")
        assert loaded == set_level(ann, Level.SUBTLE)
        assert profile_store.load_layout(session=session, user_id="ann", region="toolbar") == (
            layout
        )
        assert profile_store.load_layout(session=session, user_id="ann", region="menu") is None
        assert set(profile_store.load_layouts(session=session, user_id="ann")) == {"toolbar"}
        assert profile_store.delete_user(session=session, user_id="ann") == 2
        assert profile_store.load_profile(session=session, user_id="ann") == UserProfile("ann")
        assert profile_store.load_layouts(session=session, user_id="ann") == {}
        assert profile_store.load_layouts(session=session, user_id="bob") != {}  # untouched
    engine.dispose()


def test_tables_are_flagged_as_personal_data() -> None:
    names = {t.name for t in user_data_tables()}
    assert {"user_profile", "user_layout"} <= names
