"""The end user's workspace: an image/document editor whose toolbar, menu, side panel and
command palette adapt to the person, plus ephemeral task panels.

Adaptation stays inside bounded zones (the regions' "suggested" slots); every adapted item
says why it is there (hover, or right-click for the reason and the pin/hide controls).
"""

from __future__ import annotations

import reflex as rx

from app.pages.workspace_canvas import canvas
from app.pages.workspace_state import WorkspaceState
from app.shell import frame
from app.viewmodels import PaletteItem, PanelCard, RegionView, Slot, StepCard

S = WorkspaceState


def _slot_controls(region: str, slot: Slot) -> rx.Component:
    return rx.context_menu.content(
        rx.context_menu.label(slot.sentence, max_width="260px", white_space="normal"),
        rx.context_menu.separator(),
        rx.cond(
            slot.user_pinned,
            rx.context_menu.item(
                "Unpin", on_click=S.control("unpin", region, slot.command), data_action="unpin"
            ),
            rx.context_menu.item(
                "Pin here", on_click=S.control("pin", region, slot.command), data_action="pin"
            ),
        ),
        rx.context_menu.item(
            "Hide", on_click=S.control("hide", region, slot.command), data_action="hide"
        ),
    )


def _slot_button(region: str, slot: Slot, **props) -> rx.Component:
    suggested = slot.zone == "suggested"
    return rx.context_menu.root(
        rx.context_menu.trigger(
            rx.button(
                rx.icon(slot.icon, size=15),
                slot.label,
                rx.cond(suggested, rx.icon("sparkles", size=11, color="var(--accent-9)")),
                on_click=S.run(slot.command, region),
                variant=rx.cond(suggested, "soft", "surface"),
                size="2",
                title=slot.sentence,
                data_command=slot.command,
                data_reason=slot.reason,
                data_zone=slot.zone,
                **props,
            )
        ),
        _slot_controls(region, slot),
    )


def _overflow(region: str, view: RegionView, label: str = "More") -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                label,
                rx.icon("chevron-down", size=14),
                variant="ghost",
                size="2",
                data_overflow=region,
            )
        ),
        rx.menu.content(
            rx.foreach(
                view.overflow,
                lambda slot: rx.menu.item(
                    rx.hstack(rx.icon(slot.icon, size=14), rx.text(slot.label)),
                    on_click=S.run(slot.command, region),
                    title=slot.sentence,
                    data_command=slot.command,
                    data_reason=slot.reason,
                ),
            ),
            rx.menu.separator(),
            rx.text(
                "Hidden items stay here and in the palette",
                size="1",
                color_scheme="gray",
                padding_x="0.5em",
            ),
        ),
    )


def toolbar() -> rx.Component:
    return rx.hstack(
        rx.foreach(S.toolbar.visible, lambda slot: _slot_button("toolbar", slot)),
        _overflow("toolbar", S.toolbar),
        wrap="wrap",
        spacing="2",
        align="center",
        data_region="toolbar",
        data_level=S.toolbar.level,
        padding="0.5em",
        border="1px solid var(--gray-a5)",
        border_radius="8px",
        width="100%",
    )


def menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("menu", size=15), "Edit menu", variant="outline", data_testid="menu-trigger"
            )
        ),
        rx.menu.content(
            rx.foreach(
                S.menu.visible,
                lambda slot: rx.menu.item(
                    rx.hstack(
                        rx.icon(slot.icon, size=14),
                        rx.text(slot.label),
                        rx.cond(slot.zone == "suggested", rx.icon("sparkles", size=11)),
                    ),
                    on_click=S.run(slot.command, "menu"),
                    title=slot.sentence,
                    data_command=slot.command,
                    data_reason=slot.reason,
                    data_zone=slot.zone,
                ),
            ),
            rx.menu.separator(),
            rx.menu.sub(
                rx.menu.sub_trigger("More", data_overflow="menu"),
                rx.menu.sub_content(
                    rx.foreach(
                        S.menu.overflow,
                        lambda slot: rx.menu.item(
                            slot.label,
                            on_click=S.run(slot.command, "menu"),
                            data_command=slot.command,
                            data_reason=slot.reason,
                        ),
                    )
                ),
            ),
            data_region="menu",
        ),
    )


def sidebar() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Side panel", weight="bold", size="2"),
            rx.foreach(
                S.sidebar.visible,
                lambda slot: _slot_button("sidebar", slot, width="100%", justify="start"),
            ),
            _overflow("sidebar", S.sidebar),
            spacing="2",
            width="100%",
            data_region="sidebar",
        ),
        width="100%",
    )


def _palette_row(item: PaletteItem) -> rx.Component:
    return rx.hstack(
        rx.icon(item.icon, size=14),
        rx.text(item.label, size="2"),
        rx.spacer(),
        rx.cond(item.hidden, rx.badge("hidden", size="1", variant="outline")),
        rx.text(item.percent.to_string(), "%", size="1", color_scheme="gray"),
        on_click=S.run(item.command, "palette"),
        title=item.sentence,
        cursor="pointer",
        padding="0.25em 0.4em",
        border_radius="6px",
        _hover={"background": "var(--accent-3)"},
        width="100%",
        data_command=item.command,
        data_reason=rx.cond(item.percent > 0, "PREDICTED", "DEFAULT"),
    )


def palette() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Command palette", weight="bold", size="2"),
            rx.input(
                placeholder="Type a command…",
                value=S.palette_query,
                on_change=S.search_palette.debounce(150),
                size="2",
                width="100%",
                data_testid="palette-input",
            ),
            rx.foreach(S.palette, _palette_row),
            spacing="1",
            width="100%",
            data_palette="palette",
        ),
        width="100%",
    )


def _step(task_id: rx.Var, step: StepCard) -> rx.Component:
    return rx.hstack(
        rx.cond(
            step.done,
            rx.icon("circle-check", size=16, color="var(--green-9)"),
            rx.icon("circle", size=16, color="var(--gray-8)"),
        ),
        rx.cond(
            step.kind == "command",
            rx.button(
                step.label,
                size="1",
                variant=rx.cond(step.done, "ghost", "soft"),
                on_click=S.run_step(task_id, step.ref),
                data_step=step.ref,
                data_done=rx.cond(step.done, "true", "false"),
            ),
            rx.text("Preview of the export", size="1", color_scheme="gray"),
        ),
        align="center",
    )


def _panel_action(label: str, task_id: rx.Var, action: str, **props) -> rx.Component:
    return rx.button(
        label,
        size="1",
        variant="ghost",
        on_click=S.panel(task_id, action),
        data_action=action,
        **props,
    )


def task_panel(card: PanelCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("list-checks", size=16),
                rx.text(card.title, weight="bold"),
                rx.spacer(),
                rx.cond(
                    card.state != "completed",
                    rx.hstack(
                        rx.cond(
                            card.state == "suggested",
                            rx.fragment(),
                            rx.cond(
                                card.pinned,
                                _panel_action("Unpin", card.task_id, "unpin"),
                                _panel_action("Pin", card.task_id, "pin"),
                            ),
                        ),
                        rx.icon_button(
                            rx.icon("x", size=14),
                            size="1",
                            variant="ghost",
                            on_click=S.panel(card.task_id, "close"),
                            aria_label="Close",
                            data_action="close",
                            disabled=card.state == "suggested",
                        ),
                        spacing="1",
                    ),
                ),
                width="100%",
                align="center",
            ),
            rx.text(card.reason, size="1", color_scheme="gray"),
            rx.progress(value=card.percent, size="1"),
            rx.cond(
                card.state == "suggested",
                rx.hstack(
                    rx.button(
                        "Start",
                        size="1",
                        on_click=S.panel(card.task_id, "open"),
                        data_action="open",
                    ),
                    _panel_action("Not now", card.task_id, "dismiss"),
                ),
                rx.vstack(rx.foreach(card.steps, lambda s: _step(card.task_id, s)), spacing="1"),
            ),
            rx.cond(
                card.state == "completed",
                rx.callout(
                    "Done: this panel will close by itself.",
                    icon="check",
                    color_scheme="green",
                    size="1",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="300px",
        data_task_panel=card.task_id,
        data_task_state=card.state,
        box_shadow="var(--shadow-4)",
    )


def task_panels() -> rx.Component:
    return rx.vstack(
        rx.foreach(S.panels, task_panel),
        rx.cond(
            S.closed.length() > 0,
            rx.hstack(
                rx.foreach(
                    S.closed,
                    lambda c: rx.button(
                        "Reopen ",
                        c.title,
                        size="1",
                        variant="outline",
                        on_click=S.panel(c.task_id, "reopen"),
                        data_action="reopen",
                    ),
                ),
                wrap="wrap",
            ),
        ),
        position="fixed",
        bottom="1em",
        right="1em",
        spacing="2",
        align="end",
        z_index="20",
        data_testid="task-panels",
    )


def _workspace() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Workspace", size="5"),
            rx.badge("adaptation: ", S.level, variant="soft", data_testid="level"),
            rx.cond(
                S.control_group,
                rx.badge(
                    "You are in the comparison group: layouts stay at the designer default.",
                    color_scheme="orange",
                    data_testid="control-group",
                ),
            ),
            rx.spacer(),
            menu(),
            rx.button(
                "·",
                on_click=S.noop,
                variant="ghost",
                size="1",
                data_testid="noop",
                data_noops=S.noops,
                aria_label="No-op round trip",
            ),
            width="100%",
            align="center",
        ),
        toolbar(),
        rx.grid(
            canvas(),
            rx.vstack(sidebar(), palette(), width="100%"),
            columns="3fr 1fr",
            spacing="4",
            width="100%",
        ),
        task_panels(),
        rx.moment(interval=30_000, on_change=S.tick, display="none"),
        spacing="3",
        width="100%",
        data_testid="workspace",
    )


def page() -> rx.Component:
    return frame(
        rx.cond(S.ready, _workspace(), rx.center(rx.spinner(size="3"), padding="3em")),
        max_width="1320px",
    )
