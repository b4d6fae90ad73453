"""Adaptive toolbar: the designer's pinned/static part and a bounded suggested part, with
"More" holding everything that does not fit or was hidden.

Only the suggested zone adapts (split menus keep spatial memory); the engine decides the
layout, this widget draws it, records each use itself and explains every item.
"""

from __future__ import annotations

import reflex as rx

from .items import BarProps, command_item, overflow, skeleton, suggested_divider
from .props import OnCommand
from .state import PAGE_ID, AdaptiveState
from .styles import adaptive_styles


class AdaptiveToolbar:
    """``adaptive_toolbar(region_id, on_command=HostState.run_command, slots=None, label=None)``."""

    @classmethod
    def create(
        cls,
        region_id: str,
        *,
        on_command: OnCommand = None,
        slots: int | None = None,
        label: str | None = None,
        more_label: str = "More",
        **props: object,
    ) -> rx.Component:
        """Build the toolbar for ``region_id`` (a region of the registry).

        ``on_command`` receives the command id after the use was recorded. ``slots`` caps
        how many items show (the rest go under "More"); by default the region policy's
        ``visible``. ``label`` names the toolbar for screen readers (default: the region's
        label). Other ``props`` go to the outer element (e.g. ``margin``).
        """
        bar = BarProps(
            "adaptive_toolbar",
            region_id,
            on_command=on_command,
            slots=slots,
            label=label,
            more_label=more_label,
        )
        on_command, name, shown = bar.on_command, bar.name, bar.shown
        visible, hidden = bar.visible, bar.hidden

        def item(entry):  # noqa: ANN001, ANN202 - a Var from rx.foreach
            return rx.fragment(
                suggested_divider(entry, vertical=False),
                command_item(entry, region_id=region_id, on_command=on_command, place="bar"),
            )

        loaded = rx.fragment(
            rx.el.div(
                rx.foreach(visible, item),
                class_name="adaptive-items",
                custom_attrs={"data-region": region_id},
            ),
            overflow(region_id, hidden, on_command=on_command, label=more_label),
        )
        return rx.el.div(
            adaptive_styles(),
            rx.cond(
                AdaptiveState.ready(region_id),
                loaded,
                skeleton(shown, vertical=False, label=name),
            ),
            role="toolbar",
            aria_label=name,
            class_name="adaptive-bar",
            on_mount=AdaptiveState.load_region(region_id, PAGE_ID),
            on_mouse_leave=AdaptiveState.region_left(region_id),
            custom_attrs={"data-adaptive": "toolbar"},
            **props,
        )


adaptive_toolbar = AdaptiveToolbar.create
