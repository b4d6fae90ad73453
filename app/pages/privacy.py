"""Privacy center: what is recorded about me, download it, delete it, and the controls.

Every handler acts on the signed-in person only (``SessionState.sync``); there is no
parameter naming a user, so no request can reach someone else's data.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import reflex as rx

from app.session import SessionState
from app.shell import frame
from personalization.engine.personalizer import get_personalizer

SHOWN = 50
RETENTION_CHOICES = ["7", "30", "90", "365"]
LEVELS = ["full", "subtle", "off"]


@dataclass
class EventRow:
    time: str = ""
    command: str = ""
    kind: str = ""
    region: str = ""
    route: str = ""
    device: str = ""


class PrivacyState(rx.State):
    ready: bool = False
    engine_id: str = ""
    rows: list[EventRow] = []
    total: int = 0
    level: str = "full"
    recording: bool = True
    retention: str = "365"
    learned: list[str] = []  # the usage summary kept about this person, in words
    notice: str = ""

    async def _uid(self) -> str | None:
        account = await (await self.get_state(SessionState)).sync()
        return account.user_id if account else None

    def _refresh(self, uid: str) -> None:
        engine = get_personalizer()
        events = engine.store.history(uid, limit=SHOWN)
        self.total = engine.store.count(uid)
        self.rows = [
            EventRow(
                time=(e.client_time or e.server_time).strftime("%Y-%m-%d %H:%M")
                if (e.client_time or getattr(e, "server_time", None))
                else "",
                command=e.command,
                kind=str(e.kind),
                region=e.region or "",
                route=e.route or "",
                device=str(e.device or ""),
            )
            for e in reversed(events)
        ]
        prof = engine.profile(uid)
        self.level = str(prof.level)
        self.recording = prof.recording
        self.retention = str(prof.retention_days)
        top = sorted(prof.counts.items(), key=lambda kv: -kv[1])[:5]
        self.learned = [f"{engine.registry.label(c)} ({n}×)" for c, n in top]
        self.engine_id = uid

    @rx.event
    async def load(self):
        uid = await self._uid()
        if uid is None:
            return rx.redirect("/login")
        await asyncio.to_thread(self._refresh, uid)
        self.ready = True
        return None

    @rx.event
    async def download(self):
        uid = await self._uid()
        if uid is None:
            return rx.redirect("/login")
        data = await asyncio.to_thread(get_personalizer().export_user, uid)
        body = json.dumps(data, indent=2, default=str)
        return rx.download(data=body, filename="my-adaptive-data.json")

    @rx.event
    async def erase(self):
        uid = await self._uid()
        if uid is None:
            return rx.redirect("/login")
        engine = get_personalizer()
        deleted = await asyncio.to_thread(engine.erase_user, uid)
        await asyncio.to_thread(self._refresh, uid)
        self.notice = (
            f"Deleted {sum(deleted.values())} records. Your layout is back to the designer's "
            "default."
        )
        return None

    @rx.event
    async def reset_learning(self):
        uid = await self._uid()
        if uid is None:
            return rx.redirect("/login")
        await asyncio.to_thread(get_personalizer().reset, uid)
        await asyncio.to_thread(self._refresh, uid)
        self.notice = "Your ranking, pins and hides are reset; your history is kept."
        return None

    @rx.event
    async def set_level(self, level: str | list[str]):
        level = level[0] if isinstance(level, list) and level else level
        uid = await self._uid()
        if uid is None or level not in LEVELS:
            return
        await asyncio.to_thread(get_personalizer().set_level, uid, level)
        self.level = level
        self.notice = f"Personalization level: {level}."

    @rx.event
    async def set_recording(self, enabled: bool):
        uid = await self._uid()
        if uid is None:
            return
        await asyncio.to_thread(get_personalizer().set_recording, uid, bool(enabled))
        self.recording = bool(enabled)
        self.notice = "Recording is on." if enabled else "Recording is off: nothing new is kept."

    @rx.event
    async def set_retention(self, days: str):
        uid = await self._uid()
        if uid is None or days not in RETENTION_CHOICES:
            return
        await asyncio.to_thread(get_personalizer().set_retention, uid, int(days))
        await asyncio.to_thread(self._refresh, uid)
        self.notice = f"Events older than {days} days are deleted."


def _controls() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Your controls", size="4"),
            rx.hstack(
                rx.text("Personalization", width="160px"),
                rx.segmented_control.root(
                    *[rx.segmented_control.item(v.capitalize(), value=v) for v in LEVELS],
                    value=PrivacyState.level,
                    on_change=PrivacyState.set_level,
                    data_testid="level-control",
                ),
                align="center",
            ),
            rx.hstack(
                rx.text("Record my usage", width="160px"),
                rx.switch(
                    checked=PrivacyState.recording,
                    on_change=PrivacyState.set_recording,
                    data_testid="recording-switch",
                ),
                align="center",
            ),
            rx.hstack(
                rx.text("Keep my events for", width="160px"),
                rx.select(
                    RETENTION_CHOICES,
                    value=PrivacyState.retention,
                    on_change=PrivacyState.set_retention,
                    data_testid="retention-select",
                ),
                rx.text("days"),
                align="center",
            ),
            rx.hstack(
                rx.button(
                    rx.icon("download", size=15),
                    "Download my data (JSON)",
                    on_click=PrivacyState.download,
                    data_testid="download-data",
                ),
                rx.button(
                    "Reset my personalization",
                    on_click=PrivacyState.reset_learning,
                    variant="outline",
                    data_testid="reset-data",
                ),
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(
                        rx.button("Delete my data", color_scheme="red", data_testid="delete-data")
                    ),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Delete everything recorded about you?"),
                        rx.alert_dialog.description(
                            "Your events, your profile and what the model learned from them "
                            "are deleted. Your account stays; your layout returns to the "
                            "designer's default."
                        ),
                        rx.hstack(
                            rx.alert_dialog.cancel(rx.button("Cancel", variant="soft")),
                            rx.alert_dialog.action(
                                rx.button(
                                    "Delete",
                                    color_scheme="red",
                                    on_click=PrivacyState.erase,
                                    data_testid="confirm-delete",
                                )
                            ),
                            justify="end",
                            spacing="3",
                            margin_top="1em",
                        ),
                    ),
                ),
                spacing="3",
                wrap="wrap",
            ),
            rx.cond(
                PrivacyState.notice != "",
                rx.callout(PrivacyState.notice, icon="info", data_testid="privacy-notice"),
            ),
            spacing="3",
        ),
        width="100%",
    )


def _table() -> rx.Component:
    return rx.vstack(
        rx.heading("What is recorded about you", size="4"),
        rx.text(
            "Command names and where you used them; never what you typed. You are known to "
            "the engine as ",
            rx.code(PrivacyState.engine_id, data_testid="engine-id"),
            ". ",
            rx.text.strong(PrivacyState.total.to_string(), data_testid="event-total"),
            " events stored; the latest are below.",
            size="2",
        ),
        rx.cond(
            PrivacyState.learned.length() > 0,
            rx.text(
                "The model expects next: ",
                PrivacyState.learned.join(", "),
                size="2",
                data_testid="learned",
            ),
            rx.text("The model has learned nothing about you.", size="2", data_testid="learned"),
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Time (UTC)", "Command", "Kind", "Region", "Page", "Device")
                    ]
                )
            ),
            rx.table.body(
                rx.foreach(
                    PrivacyState.rows,
                    lambda r: rx.table.row(
                        rx.table.cell(r.time),
                        rx.table.cell(r.command),
                        rx.table.cell(r.kind),
                        rx.table.cell(r.region),
                        rx.table.cell(r.route),
                        rx.table.cell(r.device),
                        data_testid="event-row",
                    ),
                )
            ),
            size="1",
            width="100%",
            data_testid="event-table",
        ),
        width="100%",
        spacing="3",
    )


def page() -> rx.Component:
    return frame(
        rx.heading("Privacy center", size="6", margin_bottom="0.5em"),
        rx.cond(
            PrivacyState.ready,
            rx.vstack(_controls(), _table(), spacing="5", width="100%"),
            rx.center(rx.spinner(size="3"), padding="3em"),
        ),
    )
