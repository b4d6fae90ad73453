"""Adaptive region: a container that shows, orders or hides the host's own components by id.

The host hands over ``{item id: component}``; ids are the region's members in the registry.
Each slot renders the component whose id the layout puts there (``rx.match``), so the DOM
order is the display order, and hidden ones move into the region's overflow, still in the
DOM and reachable under "More".
"""

from __future__ import annotations

from collections.abc import Mapping

import reflex as rx
from reflex.vars import Var

from .props import (
    OnCommand,
    check_on_command,
    check_region,
    check_text,
    command_events,
)
from .state import PAGE_ID, AdaptiveState
from .styles import adaptive_styles
from .why import with_why


def _slot(
    entries: Var, index: int, children: Mapping[str, rx.Component], *, region_id: str,
    record: bool, on_command: OnCommand,
) -> rx.Component:  # fmt: skip
    entry = entries[index]

    def wrap(command: str, child: rx.Component) -> rx.Component:
        return with_why(
            rx.el.div(
                child,
                class_name="adaptive-region-item",
                on_click=command_events(region_id, command, on_command) if record else None,
                custom_attrs={"data-command": command, "data-reason": entry.reason},
            ),
            entry.sentence,
        )

    cases = [(cid, wrap(cid, child)) for cid, child in children.items()]
    return rx.cond(entries.length() > index, rx.match(entry.command, *cases, rx.fragment()))


class AdaptiveRegion:
    """``adaptive_region(region_id, {"item_id": component, ...}, direction="column")``."""

    @classmethod
    def create(
        cls,
        region_id: str,
        children: Mapping[str, rx.Component],
        *,
        direction: str = "column",
        record_clicks: bool = True,
        on_command: OnCommand = None,
        more_label: str = "More",
        **props: object,
    ) -> rx.Component:
        """Lay out the host's ``children`` (id -> component) as the engine decides.

        ``record_clicks`` records a click on an item as a use of its id (the model learns
        which parts a person reaches for). Every id must be a member of the region.
        """
        widget = "adaptive_region"
        region = check_region(widget, region_id)
        on_command = check_on_command(widget, on_command)
        check_text(widget, "more_label", more_label)
        if direction not in {"row", "column"}:
            raise ValueError(f"{widget}: direction must be 'row' or 'column', got {direction!r}")
        if not isinstance(children, Mapping) or not children:
            raise ValueError(f"{widget}: children must be a non-empty mapping of id -> component")
        members = set(region.policy.default_order)
        unknown = sorted(str(k) for k in children if k not in members)
        if unknown:
            raise ValueError(
                f"{widget}: unknown item id(s) {unknown} for region {region_id!r}; "
                f"members: {sorted(members)}"
            )
        bad = sorted(k for k, v in children.items() if not isinstance(v, rx.Component))
        if bad:
            raise TypeError(f"{widget}: children[{bad[0]!r}] must be a Reflex component")
        view = AdaptiveState.regions[region_id]
        count = len(members)
        shown = [
            _slot(
                view.visible,
                i,
                children,
                region_id=region_id,
                record=record_clicks,
                on_command=on_command,
            )
            for i in range(min(region.policy.visible, count))
        ]
        hidden = [
            _slot(
                view.overflow,
                i,
                children,
                region_id=region_id,
                record=record_clicks,
                on_command=on_command,
            )
            for i in range(count)
        ]
        list_id = f"adaptive-overflow-{region_id}"
        is_open = AdaptiveState.open_overflow == region_id
        loaded = rx.fragment(
            rx.el.div(
                *shown,
                custom_attrs={"data-region": region_id},
                display="flex",
                flex_direction=direction,
                gap="0.5rem",
            ),
            rx.el.div(
                rx.cond(
                    view.overflow.length() > 0,
                    rx.button(
                        more_label,
                        type="button",
                        variant="ghost",
                        size="1",
                        on_click=AdaptiveState.toggle_overflow(region_id),
                        custom_attrs={
                            "aria-expanded": rx.cond(is_open, "true", "false"),
                            "aria-controls": list_id,
                            "data-adaptive-toggle": "overflow",
                        },
                    ),
                ),
                rx.el.div(*hidden, id=list_id, hidden=~is_open),
                custom_attrs={"data-overflow": region_id},
            ),
        )
        return rx.el.section(
            adaptive_styles(),
            rx.cond(
                AdaptiveState.ready(region_id),
                loaded,
                rx.el.div(
                    min_height=f"{2.5 * min(region.policy.visible, count)}rem",
                    aria_busy="true",
                    custom_attrs={"data-skeleton": ""},
                ),
            ),
            aria_label=region.label or region.id,
            on_mount=AdaptiveState.load_region(region_id, PAGE_ID),
            on_mouse_leave=AdaptiveState.region_left(region_id),
            custom_attrs={"data-adaptive": "region"},
            **props,
        )


adaptive_region = AdaptiveRegion.create
