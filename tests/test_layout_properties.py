"""Invariants of the layout decision, over random regions, profiles and prediction streams."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from personalization.layout.decide import Layout, decide_region_layout, moves_between
from personalization.profile import Level, UserProfile
from personalization.registry import ApplyOn, Region, RegionKind, RegionPolicy
from personalization.types import Prediction

COMMANDS = [f"c{i}" for i in range(16)]


@dataclass(frozen=True)
class Case:
    region: Region
    profile: UserProfile
    stream: list[list[Prediction]]


@st.composite
def cases(draw) -> Case:
    n = draw(st.integers(2, len(COMMANDS)))
    order = tuple(draw(st.permutations(COMMANDS))[:n])
    visible = draw(st.integers(1, n))
    pinned = tuple(draw(st.sets(st.sampled_from(order[:visible]), max_size=min(3, visible))))
    policy = RegionPolicy(
        default_order=order,
        pinned=pinned,
        visible=visible,
        suggested_slots=draw(st.integers(0, visible)),
        min_confidence=draw(st.floats(0, 0.6)),
        hysteresis=draw(st.floats(0, 0.3)),
        hide_unused_after_days=draw(st.none() | st.floats(0.5, 10)),
        hide_below_probability=draw(st.none() | st.floats(0, 0.5)),
        never_hide=tuple(draw(st.sets(st.sampled_from(order), max_size=3))),
        max_moves=draw(st.integers(0, 4)),
        exploration_rate=draw(st.sampled_from([0.0, 0.3, 1.0])),
        apply_on=(ApplyOn.PAGE_LOAD, ApplyOn.EVERY_EVENT),
        suggested_first=draw(st.booleans()),
    )
    region = Region(id="r", kind=RegionKind.TOOLBAR, slots=n, policy=policy)
    used = draw(st.lists(st.sampled_from(order), max_size=12))
    counts: dict[str, int] = {}
    last_used: dict[str, float] = {}
    for t, c in enumerate(used):
        counts[c] = counts.get(c, 0) + 1
        last_used[c] = t * 86400.0
    profile = UserProfile(
        user_id=draw(st.sampled_from(["ann", "bob"])),
        level=draw(st.sampled_from(list(Level))),
        pins={"r": tuple(draw(st.sets(st.sampled_from(order), max_size=3)))},
        hidden={"r": tuple(draw(st.sets(st.sampled_from(order), max_size=4)))},
        counts=counts,
        last_used=last_used,
        last_command=used[-1] if used else None,
        first_seen=0.0 if used else None,
    )
    prediction = st.builds(
        Prediction,
        command=st.sampled_from(COMMANDS),
        probability=st.floats(0, 1),
        reason=st.sampled_from(["SEQUENCE", "POPULAR", "FREQUENT"]),
    )
    stream = draw(st.lists(st.lists(prediction, max_size=6), min_size=1, max_size=6))
    return Case(region, profile, stream)


def _run(case: Case, predictions: list[Prediction], previous: Layout | None, n: int) -> Layout:
    return decide_region_layout(
        region=case.region,
        predictions=predictions,
        profile=case.profile,
        previous=previous,
        update_counter=n,
        moment=ApplyOn.EVERY_EVENT,
    )


def _chain(case: Case) -> list[Layout]:
    layouts: list[Layout] = []
    previous = None
    for n, predictions in enumerate(case.stream):
        previous = _run(case, predictions, previous, n)
        layouts.append(previous)
    return layouts


SETTINGS = settings(max_examples=50, deadline=None)


@SETTINGS
@given(cases())
def test_every_member_is_placed_once_and_hidden_means_overflow(case: Case) -> None:
    order = case.region.policy.default_order
    for layout in _chain(case):
        commands = [i.command for i in layout.items]
        assert sorted(commands) == sorted(order)
        vis = [i for i in layout.items if i.visible]
        assert len({i.position for i in vis}) == len(vis)
        assert all(0 <= i.position < case.region.policy.visible for i in vis)
        assert set(layout.overflow) == set(order) - {i.command for i in vis}
        for item in layout.items:
            assert item.visible == (item.zone != "overflow")
            assert item.sentence


@SETTINGS
@given(cases())
def test_designer_pins_never_move(case: Case) -> None:
    pol = case.region.policy
    for layout in _chain(case):
        for c in pol.pinned:
            item = layout.item(c)
            assert item is not None and item.visible
            assert item.position == pol.default_order.index(c)


@SETTINGS
@given(cases())
def test_model_moves_per_update_stay_within_the_policy(case: Case) -> None:
    layouts = _chain(case)
    for before, after in zip(layouts, layouts[1:], strict=False):
        assert after.moves - after.forced_moves <= case.region.policy.max_moves
        assert after.forced_moves == 0  # same profile and registry: nothing is forced
        assert after.moves <= case.region.policy.max_moves
        assert moves_between(before, after) == after.moves


@SETTINGS
@given(cases())
def test_user_controls_hold(case: Case) -> None:
    pol = case.region.policy
    protected = set(pol.pinned) | set(pol.never_hide)
    pins = set(case.profile.pinned_in("r"))
    hidden = set(case.profile.hidden_in("r")) - protected - pins
    layouts = _chain(case)
    for layout in layouts:
        if case.profile.level is Level.OFF:
            continue
        for c in hidden:
            assert not layout.item(c).visible and c in layout.overflow
    if case.profile.level is not Level.OFF and pins:
        first = layouts[0]
        for layout in layouts[1:]:
            for c in pins:
                if first.item(c).visible:
                    assert layout.item(c).position == first.item(c).position


@SETTINGS
@given(cases())
def test_interacting_returns_the_previous_layout(case: Case) -> None:
    first = _chain(case)[-1]
    again = decide_region_layout(
        region=case.region,
        predictions=case.stream[0],
        profile=case.profile,
        previous=first,
        interacting=True,
        update_counter=99,
    )
    assert again is first


@SETTINGS
@given(cases())
def test_level_off_is_the_designer_default(case: Case) -> None:
    pol = case.region.policy
    off = UserProfile(**{**_fields(case.profile), "level": Level.OFF})
    layout = decide_region_layout(region=case.region, predictions=case.stream[0], profile=off)
    assert layout.visible == pol.default_order[: pol.visible]
    assert layout.overflow == pol.default_order[pol.visible :]


@SETTINGS
@given(cases())
def test_same_inputs_same_layout(case: Case) -> None:
    assert _chain(case) == _chain(case)


def _fields(profile: UserProfile) -> dict:
    return {name: getattr(profile, name) for name in profile.__slots__}
