"""The parts toolbar and menu share: one command item, the "More" overflow, the skeleton.

Every command item carries the public DOM contract (``data-command``, ``data-reason``) and its
"why" sentence; the overflow keeps hidden items in the DOM (the list is only ``hidden`` while
"More" is closed) so designers' tests can find them without opening anything.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from personalization.registry import Region

from .props import (
    OnCommand,
    check_on_command,
    check_region,
    check_slots,
    check_text,
    command_events,
)
from .state import AdaptiveState
from .view_models import ItemView
from .why import why_id, why_text, with_why


def command_item(
    item: Var[ItemView], *, region_id: str, on_command: OnCommand, place: str
) -> rx.Component:
    """A button that runs ``item``; ``place`` ("bar", "menu", "overflow") only styles it."""
    described_by = why_id(f"{region_id}-{place}", item.command)
    variant = "ghost" if place != "bar" else "surface"
    button = rx.button(
        rx.cond(item.icon != "", rx.icon(item.icon, size=15, aria_hidden="true")),
        item.label,
        type="button",
        variant=rx.cond(item.zone == "suggested", "soft", variant),
        size="2",
        class_name="adaptive-item",
        on_click=command_events(region_id, item.command, on_command),
        custom_attrs={
            "data-command": item.command,
            "data-reason": item.reason,
            "data-zone": item.zone,
            "aria-describedby": described_by,
        },
        width="100%" if place != "bar" else "auto",
        justify_content="start" if place != "bar" else "center",
    )
    return rx.fragment(
        with_why(button, item.sentence), why_text(item.sentence, element_id=described_by)
    )


def suggested_divider(item: Var[ItemView], *, vertical: bool) -> rx.Component:
    """Marks where the designer's part ends and the suggestions start (a split menu)."""
    label = rx.el.span("Suggested", class_name="adaptive-zone-label") if vertical else None
    parts = [rx.el.span(class_name="adaptive-divider", aria_hidden="true")]
    if label is not None:
        parts.append(label)
    return rx.cond(item.first_suggested, rx.fragment(*parts))


def overflow(
    region_id: str,
    items: Var[list[ItemView]],
    *,
    on_command: OnCommand,
    label: str = "More",
) -> rx.Component:
    """The "More" disclosure: hidden items stay reachable (and in the DOM)."""
    list_id = f"adaptive-overflow-{region_id}"
    is_open = AdaptiveState.open_overflow == region_id
    toggle = rx.button(
        label,
        rx.el.span(" (", items.length().to_string(), ")", class_name="adaptive-sr-only"),
        rx.icon("chevron-down", size=14, aria_hidden="true"),
        type="button",
        variant="ghost",
        size="2",
        on_click=AdaptiveState.toggle_overflow(region_id),
        custom_attrs={
            "aria-expanded": rx.cond(is_open, "true", "false"),
            "aria-controls": list_id,
            "data-adaptive-toggle": "overflow",
        },
    )
    listing = rx.el.ul(
        rx.foreach(
            items,
            lambda item: rx.el.li(
                command_item(item, region_id=region_id, on_command=on_command, place="overflow")
            ),
        ),
        id=list_id,
        hidden=~is_open,
        class_name="adaptive-overflow-list",
        aria_label=f"{label}: hidden items",
    )
    return rx.el.div(
        rx.cond(items.length() > 0, toggle),
        listing,
        class_name="adaptive-overflow",
        custom_attrs={"data-overflow": region_id},
    )


def skeleton(count: int, *, vertical: bool, label: str) -> rx.Component:
    """A fixed-size placeholder until this person's layout has loaded: the first thing
    drawn is never the default order that then jumps."""
    return rx.el.div(
        *[rx.el.span(class_name="adaptive-skeleton-item") for _ in range(count)],
        class_name="adaptive-skeleton adaptive-vertical" if vertical else "adaptive-skeleton",
        aria_busy="true",
        aria_label=f"Loading {label}",
        role="status",
        custom_attrs={"data-skeleton": ""},
    )


class BarProps:
    """The props a toolbar and a menu share, checked once: errors name the widget."""

    def __init__(
        self,
        widget: str,
        region_id: str,
        *,
        on_command: OnCommand,
        slots: int | None,
        label: str | None,
        more_label: str,
    ) -> None:
        self.region: Region = check_region(widget, region_id)
        self.on_command = check_on_command(widget, on_command)
        cap = check_slots(widget, slots)
        default_label = self.region.label or self.region.id
        self.name = check_text(widget, "label", label if label is not None else default_label)
        self.more_label = check_text(widget, "more_label", more_label)
        policy_visible = self.region.policy.visible
        self.shown = min(cap or policy_visible, policy_visible)  # slots the skeleton keeps
        view = AdaptiveState.regions[region_id]
        # ``slots`` moves the tail of the visible items under "More", in order.
        self.visible = view.visible if cap is None else view.visible[:cap]
        self.hidden = view.overflow if cap is None else view.visible[cap:] + view.overflow
