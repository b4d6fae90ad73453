"""The end user's workspace: a document editor drawn with the same adaptive widgets other
teams embed, so the product dogfoods its own library.

The widgets record each use, keep adaptation inside the regions' bounded "suggested" zones,
say why every item is where it is, and open task panels; this page only owns the document
(``WorkspaceState.run`` applies a command after the widget recorded it).
"""

from __future__ import annotations

import reflex as rx

import reflex_adaptive as adaptive
from app.pages.workspace_canvas import canvas
from app.pages.workspace_state import WorkspaceState
from app.shell import frame
from personalization.engine.personalizer import get_personalizer

S = WorkspaceState
SIDEBAR = "sidebar"


def _tool(command: str) -> rx.Component:
    """One side-panel tool; the region around it records the click and runs the command."""
    cmd = get_personalizer().registry.command(command)
    label = cmd.label if cmd else command
    return rx.button(
        rx.icon(cmd.icon if cmd and cmd.icon else "circle", size=15, aria_hidden="true"),
        label,
        type="button",
        variant="surface",
        size="2",
        width="100%",
        justify_content="start",
    )


def sidebar() -> rx.Component:
    region = get_personalizer().registry.region(SIDEBAR)
    tools = {command: _tool(command) for command in region.policy.default_order}
    return rx.card(
        rx.vstack(
            rx.text(region.label or "Side panel", weight="bold", size="2"),
            adaptive.adaptive_region(SIDEBAR, tools, on_command=S.run, width="100%"),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def personalize() -> rx.Component:
    """Level, recording, reset and per-item pin/hide, one click away from the toolbar."""
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("sliders-horizontal", size=15, aria_hidden="true"),
                "Personalize",
                variant="outline",
                data_testid="personalize",
            )
        ),
        rx.popover.content(
            adaptive.personal_controls("toolbar"),
            max_height="70vh",
            overflow_y="auto",
            width="24rem",
        ),
    )


def header() -> rx.Component:
    return rx.hstack(
        rx.heading("Workspace", size="5"),
        rx.badge("adaptation: ", adaptive.AdaptiveState.level, variant="soft", data_testid="level"),
        rx.cond(
            S.control_group,
            rx.badge(
                "You are in the comparison group: layouts stay at the designer default.",
                color_scheme="orange",
                data_testid="control-group",
            ),
        ),
        rx.spacer(),
        adaptive.command_palette(on_command=S.run),
        adaptive.adaptive_menu("menu", label="Edit menu", on_command=S.run),
        personalize(),
        rx.button(
            "·",
            on_click=S.noop,
            variant="ghost",
            size="1",
            data_testid="noop",
            data_noops=S.noops,
            aria_label="No-op round trip",
        ),
        # The latency benchmark's second baseline: the same command without the widget
        # (never drawn, so not in the page's accessibility tree either).
        rx.el.button(on_click=S.run("save"), hidden=True, data_testid="direct-save"),
        width="100%",
        align="center",
        spacing="3",
    )


def _workspace() -> rx.Component:
    return rx.vstack(
        header(),
        rx.box(
            adaptive.adaptive_toolbar("toolbar", on_command=S.run),
            padding="0.5em",
            border="1px solid var(--gray-a5)",
            border_radius="8px",
            width="100%",
        ),
        rx.grid(
            canvas(),
            sidebar(),
            columns="3fr 1fr",
            spacing="4",
            width="100%",
            align_items="start",
        ),
        adaptive.task_panels(on_command=S.run),
        spacing="3",
        width="100%",
        data_testid="workspace",
    )


def page() -> rx.Component:
    return frame(
        rx.cond(S.ready, _workspace(), rx.center(rx.spinner(size="3"), padding="3em")),
        max_width="1320px",
    )
