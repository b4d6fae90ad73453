"""Designer console: edit the registry (JSON with every error named, plus structured region
policies), preview any region for any user or persona, export and import.

The page only draws; what it edits, checks and saves is ``designer_state.DesignerState``.
"""

from __future__ import annotations

import reflex as rx

from app.pages.designer_state import DesignerState
from app.shell import frame, guarded
from personalization.registry import ApplyOn
from reflex_adaptive.view_models import ItemView


def _json_editor() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Registry (JSON)", size="4"),
                rx.spacer(),
                rx.button(
                    "Validate",
                    on_click=DesignerState.validate,
                    variant="outline",
                    data_testid="validate",
                ),
                rx.button("Save", on_click=DesignerState.save, data_testid="save-registry"),
                rx.button(
                    rx.icon("download", size=14),
                    "Export",
                    on_click=DesignerState.export,
                    variant="soft",
                    data_testid="export-registry",
                ),
                width="100%",
            ),
            rx.text_area(
                value=DesignerState.text,
                on_change=DesignerState.set_text.debounce(300),
                font_family="monospace",
                font_size="12px",
                height="420px",
                width="100%",
                spell_check=False,
                data_testid="registry-json",
            ),
            rx.hstack(
                rx.upload(
                    rx.text("Drop a registry .json here or click to choose", size="2"),
                    id="registry_upload",
                    accept={"application/json": [".json"]},
                    max_files=1,
                    border="1px dashed var(--gray-a7)",
                    padding="0.75em",
                    border_radius="6px",
                ),
                rx.button(
                    "Import file",
                    on_click=DesignerState.import_file(
                        rx.upload_files(upload_id="registry_upload")
                    ),
                    variant="outline",
                    data_testid="import-registry",
                ),
                align="center",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _messages() -> rx.Component:
    return rx.fragment(
        rx.cond(
            DesignerState.errors.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("triangle-alert")),
                rx.vstack(
                    rx.text("Not saved: fix these fields", weight="bold"),
                    rx.foreach(
                        DesignerState.errors,
                        lambda e: rx.code(e, data_testid="registry-error"),
                    ),
                    spacing="1",
                ),
                color_scheme="red",
                width="100%",
            ),
        ),
        rx.cond(
            DesignerState.notice != "",
            rx.callout(
                DesignerState.notice,
                icon="check",
                color_scheme="green",
                data_testid="designer-notice",
            ),
        ),
    )


def _number(name: str, label: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1"),
        rx.input(
            value=DesignerState.policy[name],
            on_change=lambda v: DesignerState.set_policy_field(name, v),
            size="1",
            width="110px",
            data_testid=f"policy-{name}",
        ),
        spacing="1",
    )


def _policy_editor() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Region policy", size="4"),
                rx.select(
                    DesignerState.regions,
                    value=DesignerState.region,
                    on_change=DesignerState.pick_region,
                    data_testid="region-select",
                ),
                align="center",
            ),
            rx.hstack(
                _number("visible", "Visible slots"),
                _number("suggested_slots", "Suggested slots"),
                _number("max_moves", "Max moves per update"),
                wrap="wrap",
            ),
            rx.hstack(
                _number("min_confidence", "Min confidence"),
                _number("hysteresis", "Hysteresis"),
                _number("exploration_rate", "Exploration"),
                wrap="wrap",
            ),
            rx.text("Default order (comma-separated command ids)", size="1"),
            rx.text_area(
                value=DesignerState.order,
                on_change=DesignerState.set_order,
                width="100%",
                rows="3",
                data_testid="policy-order",
            ),
            rx.text("Designer pins", size="1"),
            rx.input(
                value=DesignerState.pinned,
                on_change=DesignerState.set_pinned,
                width="100%",
                data_testid="policy-pinned",
            ),
            rx.text("May change on", size="1"),
            rx.hstack(
                *[
                    rx.checkbox(
                        m.value.replace("_", " "),
                        checked=DesignerState.apply_on.contains(m.value),
                        on_change=lambda on, m=m.value: DesignerState.toggle_apply_on(m, on),
                    )
                    for m in ApplyOn
                ],
                wrap="wrap",
            ),
            rx.button("Save policy", on_click=DesignerState.save_policy, data_testid="save-policy"),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _preview_item(slot: ItemView) -> rx.Component:
    return rx.hstack(
        rx.badge(slot.zone, variant="soft", min_width="80px"),
        rx.text(slot.label, weight="medium", min_width="120px"),
        rx.text(slot.sentence, size="1", color_scheme="gray"),
        data_command=slot.command,
        data_reason=slot.reason,
        width="100%",
    )


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Preview", size="4"),
            rx.text("What this region shows for:", size="2"),
            rx.select.root(
                rx.select.trigger(width="100%", data_testid="preview-user"),
                rx.select.content(
                    rx.foreach(
                        DesignerState.people,
                        lambda c: rx.select.item(c.label, value=c.value),
                    )
                ),
                value=DesignerState.preview_user,
                on_change=DesignerState.pick_user,
            ),
            rx.input(
                placeholder="or type any user id",
                on_blur=DesignerState.pick_user,
                data_testid="preview-user-id",
                width="100%",
            ),
            rx.vstack(
                rx.foreach(DesignerState.preview, _preview_item),
                width="100%",
                data_testid="preview",
                spacing="1",
            ),
            rx.text(
                "Under More: ",
                DesignerState.preview_overflow.length().to_string(),
                " items",
                size="1",
                color_scheme="gray",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _history() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Versions", size="4"),
            rx.foreach(
                DesignerState.versions,
                lambda v: rx.hstack(
                    rx.badge("v", v.version.to_string()),
                    rx.text(v.created, size="1"),
                    rx.text(v.note, size="1", color_scheme="gray"),
                    data_testid="registry-version",
                ),
            ),
            spacing="1",
        ),
        width="100%",
    )


def _console() -> rx.Component:
    return rx.vstack(
        _messages(),
        rx.grid(
            rx.vstack(_json_editor(), _history(), width="100%"),
            rx.vstack(_policy_editor(), _preview(), width="100%"),
            columns="1fr 1fr",
            spacing="4",
            width="100%",
        ),
        width="100%",
        spacing="3",
        data_testid="designer-console",
    )


def page() -> rx.Component:
    return frame(
        rx.heading("Designer console", size="6", margin_bottom="0.5em"),
        guarded(
            DesignerState.ready,
            DesignerState.denied,
            _console(),
            "The designer console is for designers only.",
        ),
        max_width="1400px",
    )
