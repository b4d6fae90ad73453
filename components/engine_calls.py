"""The blocking engine work behind the widgets' events, one call per worker-thread hop.

Engine calls read and write the database, so ``AdaptiveState`` runs each function here in a
worker thread and keeps the event loop free. Keeping them out of the state also keeps them
plain functions of the engine and a few values: nothing here touches Reflex.
"""

from __future__ import annotations

import contextlib
import dataclasses

from personalization.engine.personalizer import Personalizer
from personalization.engine.views import PanelView
from personalization.panels.machine import PanelTransitionError
from personalization.profile import Level, UserProfile
from personalization.registry import ApplyOn, Registry

from .view_models import RegionView, region_view


@dataclasses.dataclass(frozen=True, slots=True)
class Decided:
    views: dict[str, RegionView]
    profile: UserProfile
    keys: dict[str, str]  # region -> draw_key of the views decided now


def draw_key(registry: Registry, profile: UserProfile, region_id: str) -> str:
    """What, besides usage, a region's layout is decided from. While it is unchanged, a
    region whose policy allows no change at this moment would be decided the same."""
    return "|".join(
        (
            str(registry.version),
            profile.level.value,
            ",".join(profile.pinned_in(region_id)),
            ",".join(profile.hidden_in(region_id)),
        )
    )


def decide_regions(
    engine: Personalizer,
    user: str | None,
    region_ids: list[str],
    *,
    moment: ApplyOn,
    drawn: dict[str, str],
) -> Decided:
    """Decide ``region_ids`` for ``user`` (nobody signed in: the designer's layouts).

    With ``drawn`` (region -> key it was last drawn with), a region is skipped when its
    policy allows no change at ``moment`` and nothing forced (registry, level, pins,
    hides) changed since: its items would stay exactly where they are, so deciding it
    again on every click would only cost time (and rewrite its stored layout).
    """
    registry = engine.registry
    profile = engine.profile(user) if user else UserProfile(user_id="", level=Level.OFF)
    views: dict[str, RegionView] = {}
    keys: dict[str, str] = {}
    for rid in region_ids:
        try:
            region = registry.region(rid)
        except KeyError:
            continue  # a region the registry no longer has: nothing to draw
        key = draw_key(registry, profile, rid)
        if drawn and moment not in region.policy.apply_on and drawn.get(rid) == key:
            continue
        layout = engine.layout(user, rid, moment=moment) if user else engine.default_layout(rid)
        views[rid] = region_view(layout, registry=registry, profile=profile)
        keys[rid] = key
    return Decided(views=views, profile=profile, keys=keys)


def record_click(
    engine: Personalizer,
    user: str,
    command: str,
    *,
    region: str | None,
    route: str | None,
    device: str,
    session: str,
    others: list[str],
    drawn: dict[str, str],
) -> tuple[list[PanelView], bool, Decided]:
    """Everything the engine does on a click, in one hop: record the command, open the
    panel of a task it starts, and decide the ``others`` regions (the clicked one waits
    until the pointer leaves it). Returns the panels, whether a task was just completed,
    and the decided regions."""
    registry = engine.registry
    before = {p.task_id: p.state for p in engine.panels(user, session_id=session)}
    engine.record_command(
        user, command, region=region, component="adaptive", route=route,
        device=device, session_id=session,
    )  # fmt: skip
    views = engine.panels(user, session_id=session)
    shown = {v.task_id: v.state for v in views}
    for task in registry.tasks:
        if task.trigger.command != command:
            continue
        # The person just started this task: its panel opens (not merely offered),
        # and one they closed earlier in this session comes back.
        action = "open" if shown.get(task.id) == "suggested" else "reopen"
        if task.id in shown and action == "reopen":
            continue
        # Never offered, dismissed or cooling down: nothing to show.
        with contextlib.suppress(PanelTransitionError):
            views = engine.panel_action(user, task.id, action, session_id=session)
    completed = any(v.state == "completed" and before.get(v.task_id) != "completed" for v in views)
    moment = ApplyOn.TASK_COMPLETE if completed else ApplyOn.EVERY_EVENT
    decided = decide_regions(engine, user, others, moment=moment, drawn=drawn)
    return views, completed, decided


def panel_steps(action: str, state: str) -> list[str]:
    """The engine transitions one user action means in the panel's current state."""
    if action == "close":
        return ["dismiss"] if state == "suggested" else ["close"]
    if action == "pin":
        if state == "pinned":
            return ["unpin"]
        return ["open", "pin"] if state == "suggested" else ["pin"]
    if action in {"open", "dismiss", "reopen", "interact"}:
        return [action]
    return []


def run_panel_steps(
    engine: Personalizer, user: str, task_id: str, steps: list[str], *, session: str
) -> list[PanelView]:
    """Apply ``steps`` to one panel, stopping at the first the panel's state refuses (a
    double click or a stale panel): the panels as they truly are now."""
    views = engine.panels(user, session_id=session)
    for step in steps:
        try:
            views = engine.panel_action(user, task_id, step, session_id=session)
        except (PanelTransitionError, KeyError, ValueError):
            break
    return views
