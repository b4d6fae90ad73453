"""Ephemeral task panels: appear when their task starts, show steps and progress, pin, close
with Esc or a button, and dissolve after completion with a short fade.

A panel never vanishes under a hand: closing is always the person's act (Esc, the button)
except after completion, where the panel lingers, fades over about three seconds and is then
removed. New panels are announced politely to screen readers.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from .props import OnCommand, check_on_command, check_text, command_events
from .shortcuts import keyboard_shortcuts
from .state import AdaptiveState
from .styles import adaptive_styles
from .view_models import PanelItem, StepItem


def _step(step: Var[StepItem], on_command: OnCommand) -> rx.Component:
    mark = rx.cond(
        step.done,
        rx.icon("circle-check", size=16, color="var(--green-9)", aria_label="done"),
        rx.icon("circle", size=16, color="var(--gray-a8)", aria_label="to do"),
    )
    runnable = (step.kind == "command") & ~step.done
    return rx.el.li(
        mark,
        rx.cond(
            runnable,
            rx.button(
                step.label,
                type="button",
                variant="ghost",
                size="1",
                on_click=command_events("", step.ref, on_command),
                custom_attrs={"data-step": step.ref},
            ),
            rx.el.span(
                step.label,
                text_decoration=rx.cond(step.done, "line-through", "none"),
                custom_attrs={"data-step": step.ref},
            ),
        ),
        display="flex",
        align_items="center",
        gap="0.4rem",
        custom_attrs={"data-done": rx.cond(step.done, "true", "false")},
    )


def _panel(panel: Var[PanelItem], on_command: OnCommand) -> rx.Component:
    title_id = Var.create("adaptive-panel-title-") + panel.task_id
    suggested = panel.state == "suggested"
    completed = panel.state == "completed"
    header = rx.hstack(
        rx.heading(panel.title, size="3", id=title_id),
        rx.spacer(),
        rx.icon_button(
            rx.icon(rx.cond(panel.pinned, "pin-off", "pin"), size=14),
            type="button",
            variant=rx.cond(panel.pinned, "solid", "ghost"),
            size="1",
            on_click=AdaptiveState.panel_action(panel.task_id, "pin"),
            aria_label=rx.cond(panel.pinned, "Unpin panel", "Pin panel"),
            custom_attrs={
                "data-action": "pin",
                "aria-pressed": rx.cond(panel.pinned, "true", "false"),
            },
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            type="button",
            variant="ghost",
            size="1",
            on_click=AdaptiveState.panel_action(panel.task_id, "close"),
            aria_label="Close panel (Esc)",
            custom_attrs={"data-action": "close"},
        ),
        align="center",
        width="100%",
    )
    body = rx.cond(
        completed,
        rx.text("Done. Nice work.", size="2", role="status", color="var(--green-11)"),
        rx.fragment(
            rx.progress(value=panel.percent, max=100, aria_label="Task progress"),
            rx.text(
                panel.percent.to_string(),
                "% done",
                size="1",
                color="var(--gray-a10)",
            ),  # fmt: skip
            rx.el.ol(
                rx.foreach(panel.steps, lambda s: _step(s, on_command)),
                class_name="adaptive-steps",
                aria_label="Steps",
            ),
            rx.cond(
                suggested,
                rx.hstack(
                    rx.button(
                        "Start",
                        size="1",
                        on_click=AdaptiveState.panel_action(panel.task_id, "open"),
                        custom_attrs={"data-action": "open"},
                    ),
                    rx.button(
                        "Not now",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=AdaptiveState.panel_action(panel.task_id, "dismiss"),
                        custom_attrs={"data-action": "dismiss"},
                    ),
                ),
            ),
        ),
    )
    return rx.card(
        rx.vstack(
            header,
            rx.text(panel.reason, size="1", color="var(--gray-a10)"),
            body,
            spacing="2",
            align="stretch",
        ),
        role="region",
        class_name="adaptive-panel",
        tab_index=-1,
        custom_attrs={
            "aria-labelledby": title_id,
            "data-task-panel": panel.task_id,
            "data-task-state": panel.state,
        },
    )


class AdaptiveTaskPanels:
    """``task_panels(on_command=HostState.run_command)``: the stack of this person's task panels."""

    @classmethod
    def create(cls, *, on_command: OnCommand = None, label: str = "Task panels") -> rx.Component:
        """Place once per page (fixed to the bottom right). ``on_command`` runs for step
        commands started from a panel, after they were recorded."""
        widget = "task_panels"
        on_command = check_on_command(widget, on_command)
        check_text(widget, "label", label)
        return rx.el.div(
            adaptive_styles(),
            keyboard_shortcuts(),
            rx.foreach(AdaptiveState.panels, lambda p: _panel(p, on_command)),
            class_name="adaptive-panel-stack",
            aria_live="polite",
            aria_label=label,
            on_mount=AdaptiveState.load_panels,
            custom_attrs={"data-adaptive": "task-panels"},
        )


task_panels = AdaptiveTaskPanels.create
