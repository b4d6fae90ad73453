"""Command palette (Ctrl+K / Cmd+K): search every command, hidden ones included, ranked by
the prediction; the keyboard alone is enough to run one.

Hidden never means unreachable: whatever the layout put under "More" or a person hid is
still here, marked as hidden. Arrow keys move the selection, Enter runs it, Esc closes.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from .props import OnCommand, check_on_command, check_text, command_events
from .shortcuts import keyboard_shortcuts
from .state import AdaptiveState
from .styles import adaptive_styles
from .view_models import PaletteItem

PALETTE_REGION = "palette"  # the context recorded for commands run from the palette
_RESULTS_ID = "adaptive-palette-results"


def _option(item: Var[PaletteItem], on_command: OnCommand) -> rx.Component:
    option_id = Var.create("adaptive-palette-") + item.command
    return rx.el.li(
        rx.el.span(
            rx.el.span(item.label, font_weight="500"),
            rx.cond(item.hidden, rx.badge("hidden", variant="soft", color_scheme="gray", ml="2")),
            rx.el.span(item.sentence, class_name="adaptive-sr-only"),
        ),
        rx.el.span(item.group, " · ", item.percent, color="var(--gray-a10)", font_size="0.8rem"),
        id=option_id,
        role="option",
        class_name="adaptive-palette-option",
        title=item.sentence,
        on_click=command_events(PALETTE_REGION, item.command, on_command),
        custom_attrs={
            "aria-selected": rx.cond(item.selected, "true", "false"),
            "data-command": item.command,
            "data-reason": item.reason,
            "data-hidden": rx.cond(item.hidden, "true", "false"),
        },
    )


class CommandPalette:
    """``command_palette(on_command=HostState.run_command, trigger_label="Commands")``."""

    @classmethod
    def create(
        cls,
        *,
        on_command: OnCommand = None,
        trigger_label: str = "Commands",
        show_trigger: bool = True,
        placeholder: str = "Type a command…",
    ) -> rx.Component:
        """The palette, its trigger button (hidden with ``show_trigger=False``; Ctrl+K and
        Cmd+K still work) and the page-wide keyboard shortcuts."""
        widget = "command_palette"
        on_command = check_on_command(widget, on_command)
        check_text(widget, "trigger_label", trigger_label)
        check_text(widget, "placeholder", placeholder)
        if not isinstance(show_trigger, bool):
            raise TypeError(f"{widget}: show_trigger must be a bool, got {show_trigger!r}")
        selected = AdaptiveState.palette_results[AdaptiveState.palette_selected]
        trigger = rx.button(
            rx.icon("search", size=14, aria_hidden="true"),
            trigger_label,
            rx.el.kbd("Ctrl K", font_size="0.7rem", opacity="0.7"),
            type="button",
            variant="surface",
            on_click=AdaptiveState.open_palette,
            aria_keyshortcuts="Control+K Meta+K",
            class_name="" if show_trigger else "adaptive-sr-only",
            tab_index=0 if show_trigger else -1,
            custom_attrs={"data-palette-trigger": ""},
        )
        dialog = rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Command palette", size="3"),
                rx.dialog.description(
                    "Every command, most likely first. Arrow keys choose, Enter runs.",
                    size="1",
                    color="var(--gray-a10)",
                ),
                rx.input(
                    value=AdaptiveState.palette_query,
                    on_change=AdaptiveState.palette_search,
                    on_key_down=AdaptiveState.palette_key,
                    placeholder=placeholder,
                    auto_focus=True,
                    aria_label="Search commands",
                    role="combobox",
                    aria_expanded="true",
                    aria_controls=_RESULTS_ID,
                    aria_autocomplete="list",
                    aria_activedescendant=rx.cond(
                        AdaptiveState.palette_results.length() > 0,
                        Var.create("adaptive-palette-") + selected.command,
                        "",
                    ),
                    margin_top="0.5rem",
                ),
                rx.el.ul(
                    rx.foreach(AdaptiveState.palette_results, lambda i: _option(i, on_command)),
                    id=_RESULTS_ID,
                    role="listbox",
                    aria_label="Commands",
                    class_name="adaptive-palette-list",
                ),
                rx.cond(
                    AdaptiveState.palette_results.length() == 0,
                    rx.text("No command matches.", size="2", role="status"),
                ),
                custom_attrs={"data-palette": ""},
                max_width="32rem",
            ),
            open=AdaptiveState.palette_open,
            on_open_change=AdaptiveState.set_palette_open,
        )
        return rx.fragment(adaptive_styles(), keyboard_shortcuts(), trigger, dialog)


command_palette = CommandPalette.create
