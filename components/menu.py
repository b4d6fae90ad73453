"""Adaptive menu: a disclosure listing the region's items in display order, the designer's
part first and the suggested zone marked, with "More" for hidden items.

Items stay in the DOM while the menu is closed (the list is only ``hidden``), so the first
paint already holds this person's order and designers' tests can read it without clicking.
"""

from __future__ import annotations

import reflex as rx

from .items import BarProps, command_item, overflow, skeleton, suggested_divider
from .props import OnCommand
from .state import PAGE_ID, AdaptiveState
from .styles import adaptive_styles


class AdaptiveMenu:
    """``adaptive_menu(region_id, label="Edit", on_command=HostState.run_command, slots=None)``."""

    @classmethod
    def create(
        cls,
        region_id: str,
        *,
        label: str | None = None,
        on_command: OnCommand = None,
        slots: int | None = None,
        more_label: str = "More",
        **props: object,
    ) -> rx.Component:
        """Build the menu for ``region_id``; ``label`` is the button text (default: the
        region's label), ``slots`` caps the visible items as for the toolbar."""
        bar = BarProps(
            "adaptive_menu",
            region_id,
            on_command=on_command,
            slots=slots,
            label=label,
            more_label=more_label,
        )
        on_command, name, shown = bar.on_command, bar.name, bar.shown
        visible, hidden = bar.visible, bar.hidden
        list_id = f"adaptive-menu-{region_id}"
        is_open = AdaptiveState.open_menu == region_id

        def item(entry):  # noqa: ANN001, ANN202 - a Var from rx.foreach
            return rx.el.li(
                suggested_divider(entry, vertical=True),
                command_item(entry, region_id=region_id, on_command=on_command, place="menu"),
            )

        loaded = rx.fragment(
            rx.el.ul(
                rx.foreach(visible, item),
                class_name="adaptive-items adaptive-vertical",
                custom_attrs={"data-region": region_id},
            ),
            overflow(region_id, hidden, on_command=on_command, label=more_label),
        )
        return rx.el.div(
            adaptive_styles(),
            rx.button(
                name,
                rx.icon("chevron-down", size=14, aria_hidden="true"),
                type="button",
                variant="soft",
                on_click=AdaptiveState.toggle_menu(region_id),
                custom_attrs={
                    "aria-expanded": rx.cond(is_open, "true", "false"),
                    "aria-controls": list_id,
                    "data-adaptive-toggle": "menu",
                },
            ),
            rx.el.div(
                rx.cond(
                    AdaptiveState.ready(region_id),
                    loaded,
                    skeleton(shown, vertical=True, label=name),
                ),
                id=list_id,
                hidden=~is_open,
                class_name="adaptive-menu-list",
                aria_label=name,
            ),
            class_name="adaptive-menu",
            on_mount=AdaptiveState.load_region(region_id, PAGE_ID),
            on_mouse_leave=AdaptiveState.region_left(region_id),
            custom_attrs={"data-adaptive": "menu"},
            **props,
        )


adaptive_menu = AdaptiveMenu.create
