"""Personal controls: pin/unpin and hide/unhide items, reset, the personalization level and
whether usage is recorded.

User controls always beat the model and show at once. Designer-protected items refuse to be
hidden; the refusal is shown in words (an alert), never silently ignored.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from personalization.profile import Level

from .props import check_region
from .state import PAGE_ID, AdaptiveState
from .view_models import ItemView

_LEVEL_LABELS = {
    Level.OFF.value: "Off: the designer's layout",
    Level.SUBTLE.value: "Subtle: suggestions only",
    Level.FULL.value: "Full: suggestions and tidying",
}


def _row(item: Var[ItemView], region_id: str) -> rx.Component:
    pin_action = rx.cond(item.user_pinned, "unpin", "pin")
    hide_action = rx.cond(item.user_hidden, "unhide", "hide")
    return rx.el.li(
        rx.text(item.label, size="2", flex="1"),
        rx.button(
            rx.cond(item.user_pinned, "Unpin", "Pin"),
            type="button",
            size="1",
            variant="soft",
            on_click=AdaptiveState.control(region_id, item.command, pin_action),
            aria_label=rx.cond(item.user_pinned, "Unpin ", "Pin ") + item.label,
            custom_attrs={
                "aria-pressed": rx.cond(item.user_pinned, "true", "false"),
                "data-control": "pin",
                "data-control-command": item.command,
            },
        ),
        rx.button(
            rx.cond(item.user_hidden, "Show", "Hide"),
            type="button",
            size="1",
            variant="soft",
            color_scheme="gray",
            on_click=AdaptiveState.control(region_id, item.command, hide_action),
            aria_label=rx.cond(item.user_hidden, "Show ", "Hide ") + item.label,
            custom_attrs={
                "aria-pressed": rx.cond(item.user_hidden, "true", "false"),
                "data-control": "hide",
                "data-control-command": item.command,
            },
        ),
        display="flex",
        gap="0.5rem",
        align_items="center",
    )


class PersonalControls:
    """``personal_controls(region_id=None)``: level, recording, reset, and per-item pin/hide
    for ``region_id`` when given."""

    @classmethod
    def create(cls, region_id: str | None = None, *, show_recording: bool = True) -> rx.Component:
        widget = "personal_controls"
        parts: list[rx.Component] = [
            rx.el.label(
                rx.text("Personalization", size="2", weight="medium"),
                rx.el.select(
                    *[rx.el.option(text, value=value) for value, text in _LEVEL_LABELS.items()],
                    value=AdaptiveState.level,
                    on_change=AdaptiveState.set_level,
                    custom_attrs={"data-control": "level"},
                ),
                display="flex",
                gap="0.5rem",
                align_items="center",
            ),
        ]
        if show_recording:
            parts.append(
                rx.checkbox(
                    "Record which commands I use",
                    checked=AdaptiveState.recording,
                    on_change=AdaptiveState.set_recording,
                    custom_attrs={"data-control": "recording"},
                )
            )
        parts.append(
            rx.button(
                "Reset my layout",
                type="button",
                variant="outline",
                color_scheme="red",
                on_click=AdaptiveState.reset_personalization,
                custom_attrs={"data-control": "reset"},
            )
        )
        mount = None
        if region_id is not None:
            region = check_region(widget, region_id)
            view = AdaptiveState.regions[region_id]
            items = rx.cond(
                AdaptiveState.ready(region_id),
                rx.el.ul(
                    rx.foreach(view.visible, lambda i: _row(i, region_id)),
                    rx.foreach(view.overflow, lambda i: _row(i, region_id)),
                    list_style="none",
                    padding="0",
                    margin="0",
                    display="flex",
                    flex_direction="column",
                    gap="0.3rem",
                ),
            )
            parts.append(rx.heading(f"Items in {region.label or region.id}", size="2"))
            parts.append(items)
            mount = AdaptiveState.load_region(region_id, PAGE_ID)
        parts.append(
            rx.cond(
                AdaptiveState.control_error != "",
                rx.callout(AdaptiveState.control_error, color_scheme="amber", role="alert"),
            )
        )
        return rx.el.section(
            rx.vstack(*parts, spacing="3", align="stretch"),
            aria_label="Personalization controls",
            on_mount=mount,
            custom_attrs={"data-adaptive": "controls"},
        )


personal_controls = PersonalControls.create
