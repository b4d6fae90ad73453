"""Engine results turned into the small, typed shapes the pages render.

Reflex sends every state field to the browser, so these carry only what is drawn: labels,
icons and the "why" sentence, never probabilities of other commands or anyone else's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from personalization.layout import Layout
from personalization.registry import Registry
from personalization.views import PaletteEntry, PanelView


@dataclass
class Slot:
    command: str = ""
    label: str = ""
    icon: str = "circle"
    zone: str = ""
    reason: str = ""
    sentence: str = ""
    user_pinned: bool = False


@dataclass
class RegionView:
    region: str = ""
    visible: list[Slot] = field(default_factory=list)
    overflow: list[Slot] = field(default_factory=list)
    level: str = "full"


@dataclass
class StepCard:
    ref: str = ""
    kind: str = ""
    label: str = ""
    done: bool = False


@dataclass
class PanelCard:
    task_id: str = ""
    title: str = ""
    state: str = ""
    steps: list[StepCard] = field(default_factory=list)
    percent: int = 0
    pinned: bool = False
    reason: str = ""


@dataclass
class PaletteItem:
    command: str = ""
    label: str = ""
    group: str = ""
    icon: str = "circle"
    percent: int = 0
    hidden: bool = False
    sentence: str = ""


def region_view(layout: Layout, registry: Registry, user_pins: tuple[str, ...]) -> RegionView:
    def slot(command: str) -> Slot:
        item = layout.item(command)
        cmd = registry.command(command)
        return Slot(
            command=command,
            label=cmd.label if cmd else command,
            icon=(cmd.icon if cmd and cmd.icon else "circle"),
            zone=item.zone if item else "overflow",
            reason=str(item.reason) if item else "OVERFLOW",
            sentence=item.sentence if item else "",
            user_pinned=command in user_pins,
        )

    return RegionView(
        region=layout.region,
        visible=[slot(c) for c in layout.visible],
        overflow=[slot(c) for c in layout.overflow],
        level=str(layout.level),
    )


def panel_card(view: PanelView) -> PanelCard:
    return PanelCard(
        task_id=view.task_id,
        title=view.title,
        state=view.state,
        steps=[StepCard(s.ref, s.kind, s.label, s.done) for s in view.steps],
        percent=round(view.progress * 100),
        pinned=view.pinned,
        reason=view.reason,
    )


def palette_item(entry: PaletteEntry) -> PaletteItem:
    return PaletteItem(
        command=entry.command,
        label=entry.label,
        group=entry.group,
        icon=entry.icon or "circle",
        percent=round(entry.probability * 100),
        hidden=entry.hidden,
        sentence=entry.sentence,
    )
