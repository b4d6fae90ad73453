"""The small, typed shapes the widget state sends to the browser.

Reflex sends every state field to the client when it changes, so these carry only what a
widget draws (ids, labels, reason code and sentence) and are built from the engine's
immutable objects in one place.
"""

from __future__ import annotations

import dataclasses

from personalization.engine.views import PaletteEntry, PanelView
from personalization.layout.decide import Layout, LayoutItem
from personalization.profile import UserProfile
from personalization.registry import Registry


@dataclasses.dataclass
class ItemView:
    command: str = ""
    label: str = ""
    icon: str = ""  # a lucide icon name from the registry; "" draws the label alone
    reason: str = ""
    sentence: str = ""
    zone: str = ""
    first_suggested: bool = False  # draws the divider before the suggested zone
    user_pinned: bool = False
    user_hidden: bool = False


@dataclasses.dataclass
class RegionView:
    region: str = ""
    label: str = ""
    visible: list[ItemView] = dataclasses.field(default_factory=list)
    overflow: list[ItemView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class PaletteItem:
    command: str = ""
    label: str = ""
    group: str = ""
    percent: str = ""
    hidden: bool = False
    reason: str = ""
    sentence: str = ""
    selected: bool = False


@dataclasses.dataclass
class StepItem:
    ref: str = ""
    kind: str = ""
    label: str = ""
    done: bool = False


@dataclasses.dataclass
class PanelItem:
    task_id: str = ""
    title: str = ""
    state: str = ""
    steps: list[StepItem] = dataclasses.field(default_factory=list)
    percent: int = 0
    pinned: bool = False
    reason: str = ""


def region_view(layout: Layout, *, registry: Registry, profile: UserProfile) -> RegionView:
    """Visible items in slot order, then the overflow in its own order."""
    pinned = set(profile.pinned_in(layout.region))
    hidden = set(profile.hidden_in(layout.region))

    def view(item: LayoutItem, first_suggested: bool = False) -> ItemView:
        return ItemView(
            command=item.command,
            label=registry.label(item.command),
            icon=command.icon if (command := registry.command(item.command)) else "",
            reason=str(item.reason),
            sentence=item.sentence,
            zone=item.zone,
            first_suggested=first_suggested,
            user_pinned=item.command in pinned,
            user_hidden=item.command in hidden,
        )

    shown = sorted((i for i in layout.items if i.visible), key=lambda i: i.position)
    visible: list[ItemView] = []
    previous_zone = ""
    for item in shown:
        first = item.zone == "suggested" and previous_zone != "suggested"
        visible.append(view(item, first))
        previous_zone = item.zone
    by_command = {i.command: i for i in layout.items}
    overflow = [view(by_command[c]) for c in layout.overflow if c in by_command]
    try:
        label = registry.region(layout.region).label
    except KeyError:
        label = layout.region
    return RegionView(region=layout.region, label=label, visible=visible, overflow=overflow)


def palette_item(entry: PaletteEntry, *, selected: bool = False) -> PaletteItem:
    return PaletteItem(
        command=entry.command,
        label=entry.label,
        group=entry.group,
        percent=f"{round(entry.probability * 100)}%",
        hidden=entry.hidden,
        reason=entry.reason,
        sentence=entry.sentence,
        selected=selected,
    )


def panel_item(view: PanelView) -> PanelItem:
    return PanelItem(
        task_id=view.task_id,
        title=view.title,
        state=view.state,
        steps=[StepItem(ref=s.ref, kind=s.kind, label=s.label, done=s.done) for s in view.steps],
        percent=round(view.progress * 100),
        pinned=view.pinned,
        reason=view.reason,
    )
