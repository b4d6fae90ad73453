"""Layout decisions on the demo registry, one rule per test."""

from __future__ import annotations

import json
from dataclasses import replace

from app.registry import demo_registry
from personalization.layout.decide import Layout, decide_layout, moves_between
from personalization.layout.reasons import Reason
from personalization.profile import Level, UserProfile, hide, pin, record_use, set_level
from personalization.registry import ApplyOn
from personalization.types import Prediction

REG = demo_registry()
TOOLBAR = REG.region("toolbar").policy
DEFAULT_VISIBLE = TOOLBAR.default_order[:8]


def _layout(profile: UserProfile | None = None, predictions=(), **kw) -> Layout:
    return decide_layout(
        registry=REG,
        region_id="toolbar",
        predictions=list(predictions),
        profile=profile or UserProfile("ann"),
        **kw,
    )


def test_new_person_sees_the_designer_default() -> None:
    layout = _layout()
    assert layout.visible == DEFAULT_VISIBLE
    assert layout.overflow == TOOLBAR.default_order[8:]
    assert layout.item("save").reason is Reason.PINNED and layout.item("save").zone == "pinned"
    assert layout.item("crop").reason is Reason.DEFAULT
    assert layout.item("copy").reason is Reason.OVERFLOW and not layout.item("copy").visible
    assert layout.moves == 0


def test_confident_prediction_enters_the_suggested_zone_with_a_sentence() -> None:
    profile = record_use(UserProfile("ann"), command="crop", at=0.0)
    layout = _layout(profile, [Prediction("export_pdf", 0.72, "SEQUENCE")])
    item = layout.item("export_pdf")
    assert item.visible and item.zone == "suggested" and item.reason is Reason.PREDICTED
    assert item.position in (6, 7)  # the last two free visible slots
    assert item.sentence == "Suggested because you usually run this after Crop (72% likely next)."
    assert item.probability == 0.72
    assert "export_pdf" not in layout.overflow
    assert len(layout.visible) == 8


def test_population_prior_is_explained_as_such() -> None:
    layout = _layout(predictions=[Prediction("find", 0.4, "POPULAR")])
    assert layout.item("find").visible
    assert "people often use it" in layout.item("find").sentence


def test_unconfident_prediction_changes_nothing() -> None:
    below = TOOLBAR.min_confidence - 0.01
    layout = _layout(predictions=[Prediction("export_pdf", below, "SEQUENCE")])
    assert layout.visible == DEFAULT_VISIBLE


def test_hysteresis_keeps_the_incumbent_against_a_near_tie() -> None:
    first = _layout(predictions=[Prediction("find", 0.5), Prediction("copy", 0.45)])
    assert {"find", "copy"} <= set(first.visible)
    near = [Prediction("paste", 0.55), Prediction("find", 0.5), Prediction("copy", 0.48)]
    second = _layout(predictions=near, previous=first, update_counter=1)
    assert second.visible == first.visible and second.moves == 0
    strong = [Prediction("paste", 0.8), Prediction("find", 0.1), Prediction("copy", 0.05)]
    third = _layout(predictions=strong, previous=second, update_counter=2)
    assert "paste" in third.visible
    assert third.moves == 2  # paste in, the weakest suggestion out; nothing else shifts
    assert moves_between(second, third) == 2


def test_moves_per_update_are_capped_by_the_policy() -> None:
    first = _layout()
    many = [Prediction(c, 0.9 - i * 0.01) for i, c in enumerate(("copy", "paste", "find"))]
    second = _layout(predictions=many, previous=first, update_counter=1)
    assert second.moves == TOOLBAR.max_moves == 2
    assert sum(c in second.visible for c in ("copy", "paste", "find")) == 1
    third = _layout(predictions=many, previous=second, update_counter=2)
    assert sum(c in third.visible for c in ("copy", "paste", "find")) == 2


def test_interacting_returns_the_previous_layout_unchanged() -> None:
    first = _layout()
    again = _layout(predictions=[Prediction("export_pdf", 0.99)], previous=first, interacting=True)
    assert again is first


def test_moment_outside_the_policy_applies_only_user_controls() -> None:
    first = _layout()
    assert ApplyOn.EVERY_EVENT not in TOOLBAR.apply_on
    guess = [Prediction("export_pdf", 0.99)]
    held = _layout(predictions=guess, previous=first, moment=ApplyOn.EVERY_EVENT)
    assert held.visible == first.visible
    profile = pin(UserProfile("ann"), region="toolbar", command="italic")
    forced = _layout(profile, guess, previous=first, moment=ApplyOn.EVERY_EVENT)
    assert "italic" in forced.visible and "export_pdf" not in forced.visible
    assert forced.moves == forced.forced_moves == 2


def test_user_pin_stays_put_and_wins_over_the_model() -> None:
    profile = pin(UserProfile("ann"), region="toolbar", command="italic")
    first = _layout(profile)
    item = first.item("italic")
    assert item.visible and item.reason is Reason.USER_PINNED and item.zone == "pinned"
    assert item.sentence == "Here because you pinned it."
    layout = first
    for n, guess in enumerate(("copy", "paste", "find", "rotate", "heading")):
        layout = _layout(profile, [Prediction(guess, 0.95)], previous=layout, update_counter=n)
        assert layout.item("italic").position == item.position


def test_user_hidden_item_goes_to_more_and_stays_reachable() -> None:
    profile = hide(UserProfile("ann"), region="toolbar", command="crop")
    layout = _layout(profile, [Prediction("crop", 0.99)])
    crop = layout.item("crop")
    assert not crop.visible and crop.reason is Reason.USER_HIDDEN and crop.zone == "overflow"
    assert "crop" in layout.overflow
    assert "command palette" in crop.sentence
    assert len(layout.visible) == 8  # the gap is filled, not left empty


def test_designer_pins_cannot_be_hidden_by_a_stale_profile() -> None:
    profile = replace(UserProfile("ann"), hidden={"toolbar": ("save", "redo")})
    layout = _layout(profile)
    assert layout.item("save").visible and layout.item("save").position == 0
    assert layout.item("redo").visible  # never_hide


def test_level_off_is_the_designer_default_exactly() -> None:
    profile = pin(UserProfile("ann"), region="toolbar", command="italic")
    profile = hide(profile, region="toolbar", command="crop")
    adapted = _layout(profile, [Prediction("export_pdf", 0.9)])
    off = _layout(set_level(profile, Level.OFF), [Prediction("export_pdf", 0.9)], previous=adapted)
    assert off.visible == DEFAULT_VISIBLE
    assert off.overflow == TOOLBAR.default_order[8:]
    assert {i.reason for i in off.items if i.visible} == {Reason.PINNED, Reason.DEFAULT}
    assert off.moves == off.forced_moves > 0
    assert "personalization is off" in off.item("crop").sentence


def _heavy_user(level: Level) -> UserProfile:
    profile = record_use(UserProfile("ann", level=level), command="save", at=0.0)
    for t in range(40):  # 90 days later: find and copy are in daily use, the rest is not
        at = 90 * 86400.0 + t
        profile = record_use(profile, command="find" if t % 2 else "copy", at=at)
    return profile


def test_full_level_promotes_frequent_items_and_hides_long_unused_ones() -> None:
    layout = _layout(_heavy_user(Level.FULL))
    for c in ("find", "copy"):
        assert layout.item(c).visible and layout.item(c).reason is Reason.FREQUENT
        assert layout.item(c).zone == "static"
    unused = layout.item("italic")
    assert unused.reason is Reason.HIDDEN_UNUSED and not unused.visible
    assert unused.sentence == "Moved to More because you haven't used it in 30 days."
    assert layout.item("redo").reason is not Reason.HIDDEN_UNUSED  # never_hide
    assert set(layout.overflow) | set(layout.visible) == set(TOOLBAR.default_order)


def test_subtle_level_keeps_the_static_zone_and_hides_nothing() -> None:
    layout = _layout(_heavy_user(Level.SUBTLE))
    assert layout.visible == DEFAULT_VISIBLE
    assert all(i.reason is not Reason.HIDDEN_UNUSED for i in layout.items)
    suggested = _layout(_heavy_user(Level.SUBTLE), [Prediction("find", 0.8)])
    assert suggested.item("find").zone == "suggested"
    assert suggested.visible[:6] == DEFAULT_VISIBLE[:6]


def test_exploration_is_seeded_and_deterministic() -> None:
    menu = REG.region("menu")
    explore = replace(menu, policy=replace(menu.policy, exploration_rate=1.0))
    reg = replace(REG, regions=(explore,))

    def run(counter: int, user: str = "ann") -> Layout:
        return decide_layout(
            registry=reg,
            region_id="menu",
            predictions=[],
            profile=UserProfile(user),
            update_counter=counter,
        )

    first = run(3)
    explored = [i for i in first.items if i.reason is Reason.EXPLORATION]
    assert len(explored) == 1 and explored[0].zone == "suggested" and explored[0].visible
    assert run(3) == first
    picks = {
        next(i.command for i in run(n).items if i.reason is Reason.EXPLORATION) for n in range(12)
    }
    assert len(picks) > 1  # the counter changes the pick, the same counter never does


def test_layout_round_trips_through_json() -> None:
    profile = record_use(UserProfile("ann"), command="crop", at=0.0)
    layout = _layout(profile, [Prediction("export_pdf", 0.72, "SEQUENCE")])
    data = json.loads(json.dumps(layout.to_dict()))
    assert Layout.from_dict(data) == layout
    assert data["items"][0]["reason"] == "PINNED"


def test_full_level_hides_a_long_unused_item_that_was_on_screen() -> None:
    profile = _heavy_user(Level.FULL)
    first = _layout(profile)
    bold = first.item("bold")  # in the designer's visible eight, unused for 90 days
    assert not bold.visible and bold.reason is Reason.HIDDEN_UNUSED
    # everything else unused for 90 days goes too: the toolbar shrinks to what is in use
    # plus what the designer protects, rather than filling up with other unused items
    assert first.visible == ("save", "undo", "redo", "copy", "find")
    assert set(first.overflow) == set(TOOLBAR.default_order) - set(first.visible)


def test_changing_level_applies_at_once_as_a_forced_change() -> None:
    full = _layout(_heavy_user(Level.FULL))
    subtle = _layout(set_level(_heavy_user(Level.FULL), Level.SUBTLE), previous=full)
    assert subtle.visible == DEFAULT_VISIBLE
    assert subtle.moves == subtle.forced_moves > TOOLBAR.max_moves


def test_suggested_zone_can_sit_first_like_a_split_menu() -> None:
    toolbar = REG.region("toolbar")
    first = replace(toolbar, policy=replace(toolbar.policy, suggested_first=True))
    reg = replace(REG, regions=(first,))
    plain = decide_layout(
        registry=reg, region_id="toolbar", predictions=[], profile=UserProfile("a")
    )
    assert plain.visible == DEFAULT_VISIBLE  # no guess yet: still the designer default
    layout = decide_layout(
        registry=reg,
        region_id="toolbar",
        predictions=[Prediction("export_pdf", 0.9)],
        profile=UserProfile("a"),
    )
    # slots 2-3 (right after the pins) are the suggested zone; the designer's later item of
    # the two gives way, in place, and nothing else shifts
    assert layout.item("export_pdf").zone == "suggested"
    assert layout.visible == (*DEFAULT_VISIBLE[:3], "export_pdf", *DEFAULT_VISIBLE[4:])
