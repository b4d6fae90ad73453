"""The workspace's state: the person's document, their adapted regions and task panels.

Identity comes from the sign-in session on every event (``SessionState.sync``); no handler
takes a user id from the browser. The engine is called off the event loop
(``asyncio.to_thread``) because it touches SQLite; its answers are turned into small view
models so only what is drawn reaches the browser.
"""

from __future__ import annotations

import asyncio
import hashlib

import reflex as rx

from app.document import Doc, Editor, sample
from app.identity import Account
from app.session import SessionState
from app.viewmodels import (
    PaletteItem,
    PanelCard,
    RegionView,
    palette_item,
    panel_card,
    region_view,
)
from personalization.panels import DISSOLVE_AFTER_S
from personalization.registry import ApplyOn
from personalization.service import Personalizer, get_personalizer

ROUTE = "/workspace"
REGIONS = ("toolbar", "menu", "sidebar")
PALETTE_SIZE = 8


class WorkspaceState(rx.State):
    ready: bool = False
    doc: Doc = sample()
    toolbar: RegionView = RegionView()
    menu: RegionView = RegionView()
    sidebar: RegionView = RegionView()
    panels: list[PanelCard] = []
    closed: list[PanelCard] = []  # closed this session: can be re-opened
    palette_query: str = ""
    palette: list[PaletteItem] = []
    control_group: bool = False
    level: str = "full"
    handled: int = 0  # events applied (the latency benchmark waits for it)
    noops: int = 0
    _undo: list[Doc] = []
    _redo: list[Doc] = []

    # ------------------------------------------------------------------ helpers

    @rx.var
    def picture_transform(self) -> str:
        p = self.doc.picture
        flip = " scaleX(-1)" if p.flipped else ""
        return f"rotate({p.rotation}deg){flip} scale({p.scale / 100})"

    @rx.var
    def picture_filter(self) -> str:
        return self.doc.picture.css_filter

    @rx.var
    def picture_clip(self) -> str:
        return "inset(12% 12% 12% 12%)" if self.doc.picture.cropped else "none"

    async def _account(self) -> Account | None:
        return await (await self.get_state(SessionState)).sync()

    def _session_id(self) -> str:
        token = self.router.session.client_token or "default"
        return "tab-" + hashlib.sha256(token.encode()).hexdigest()[:16]

    def _regions(
        self,
        engine: Personalizer,
        user_id: str,
        moments: dict[str, ApplyOn],
        interacting: str | None = None,
    ) -> None:
        pins = engine.profile(user_id).pins
        for region in REGIONS:
            layout = engine.layout(
                user_id,
                region,
                moment=moments.get(region, ApplyOn.EVERY_EVENT),
                interacting=region == interacting,
            )
            view = region_view(layout, engine.registry, tuple(pins.get(region, ())))
            setattr(self, region, view)
        self.level = view.level

    @staticmethod
    def _changes_every_event(engine: Personalizer) -> bool:
        """Regions only move at the moments their policy allows; when none of them may
        change on an ordinary click, deciding them again would only cost time."""
        return any(
            ApplyOn.EVERY_EVENT in engine.registry.region(r).policy.apply_on for r in REGIONS
        )

    def _palette(self, engine: Personalizer, user_id: str) -> None:
        entries = engine.palette(user_id, self.palette_query, limit=PALETTE_SIZE)
        self.palette = [palette_item(e) for e in entries]

    # ------------------------------------------------------------------ page load

    @rx.event
    async def load(self):
        account = await self._account()
        if account is None:
            return rx.redirect("/login")
        engine = get_personalizer()
        uid, sid = account.user_id, self._session_id()

        def work() -> list[PanelCard]:
            self._regions(engine, uid, dict.fromkeys(REGIONS, ApplyOn.PAGE_LOAD))
            self._palette(engine, uid)
            self.control_group = engine.in_control_group(uid)
            return [panel_card(v) for v in engine.tick(uid, session_id=sid)]

        self.panels = await asyncio.to_thread(work)
        self.ready = True

    # ------------------------------------------------------------------ commands

    @rx.event
    async def run(self, command: str, region: str):
        """Apply a command to the document, record it, and let panels and regions follow."""
        account = await self._account()
        if account is None:
            return rx.redirect("/login")
        return await self._run(account, command, region=region or None, task_id=None)

    @rx.event
    async def run_step(self, task_id: str, command: str):
        account = await self._account()
        if account is None:
            return rx.redirect("/login")
        return await self._run(account, command, region=None, task_id=task_id)

    async def _run(
        self, account: Account, command: str, *, region: str | None, task_id: str | None
    ):
        engine = get_personalizer()
        if engine.registry.command(command) is None:
            return rx.toast.error(f"Unknown command {command!r}.")
        editor = Editor(self.doc, undo=self._undo, redo=self._redo)
        self.doc = editor.run(command)
        uid, sid = account.user_id, self._session_id()
        before = {p.task_id: p.state for p in self.panels}

        def work() -> tuple[list[PanelCard], bool]:
            engine.record_command(
                uid,
                command,
                region=region,
                component="task_panel" if task_id else None,
                task_id=task_id,
                route=ROUTE,
                session_id=sid,
                device="desktop",
            )
            views = engine.panels(uid, session_id=sid)
            for view in views:  # the person started this task themselves: open its panel
                task = engine.registry.task(view.task_id)
                if view.state == "suggested" and task.trigger.command == command:
                    views = engine.panel_action(uid, view.task_id, "open", session_id=sid)
            completed = any(
                v.state == "completed" and before.get(v.task_id) != "completed" for v in views
            )
            if completed or self._changes_every_event(engine):
                moment = ApplyOn.TASK_COMPLETE if completed else ApplyOn.EVERY_EVENT
                self._regions(engine, uid, dict.fromkeys(REGIONS, moment), interacting=region)
            self._palette(engine, uid)
            return [panel_card(v) for v in views], completed

        self.panels, completed = await asyncio.to_thread(work)
        self.handled += 1
        if completed:
            return WorkspaceState.dissolve_later
        return None

    @rx.event(background=True)
    async def dissolve_later(self):
        """A finished panel lingers a moment so the person sees it finish, then dissolves."""
        await asyncio.sleep(DISSOLVE_AFTER_S + 0.3)
        async with self:
            account = await self._account()
            if account is None:
                return
            uid, sid = account.user_id, self._session_id()
            views = await asyncio.to_thread(get_personalizer().tick, uid, session_id=sid)
            self.panels = [panel_card(v) for v in views]

    @rx.event
    async def tick(self, _now: str = ""):
        """Idle timeouts: panels nobody touches for a while go away by themselves."""
        account = await self._account()
        if account is None:
            return
        views = await asyncio.to_thread(
            get_personalizer().tick, account.user_id, session_id=self._session_id()
        )
        self.panels = [panel_card(v) for v in views]

    @rx.event
    async def panel(self, task_id: str, action: str):
        account = await self._account()
        if account is None:
            return rx.redirect("/login")
        engine = get_personalizer()
        uid, sid = account.user_id, self._session_id()
        closing = next((p for p in self.panels if p.task_id == task_id), None)
        views = await asyncio.to_thread(engine.panel_action, uid, task_id, action, session_id=sid)
        self.panels = [panel_card(v) for v in views]
        if action == "close" and closing is not None and closing.state != "completed":
            self.closed = [p for p in self.closed if p.task_id != task_id] + [closing]
        if action == "reopen":
            self.closed = [p for p in self.closed if p.task_id != task_id]
        return None

    # ------------------------------------------------------------------ user controls

    @rx.event
    async def control(self, action: str, region: str, command: str):
        """Pin, unpin, hide or unhide: the person's word beats the model, at once."""
        account = await self._account()
        if account is None:
            return rx.redirect("/login")
        if action not in ("pin", "unpin", "hide", "unhide"):
            return rx.toast.error(f"unknown action {action!r}")
        engine = get_personalizer()
        uid = account.user_id

        def work() -> None:
            getattr(engine, action)(uid, region=region, command=command)
            self._regions(engine, uid, dict.fromkeys(REGIONS, ApplyOn.EVERY_EVENT))
            self._palette(engine, uid)

        try:
            await asyncio.to_thread(work)
        except ValueError as exc:  # e.g. hiding what the designer protects
            return rx.toast.error(str(exc))
        label = engine.registry.label(command)
        return rx.toast.info(f"{action.capitalize()}: {label}")

    # ------------------------------------------------------------------ document only

    @rx.event
    async def search_palette(self, query: str):
        account = await self._account()
        if account is None:
            return
        self.palette_query = query[:64]
        engine = get_personalizer()
        await asyncio.to_thread(self._palette, engine, account.user_id)

    @rx.event
    def select_block(self, index: int):
        self.doc = Editor(self.doc).select(index)

    @rx.event
    def set_find_text(self, value: str):
        self.doc = Editor(self.doc).set_find(value[:40], self.doc.replace_text)

    @rx.event
    def set_replace_text(self, value: str):
        self.doc = Editor(self.doc).set_find(self.doc.find_text, value[:40])

    @rx.event
    def noop(self):
        """A round trip that does nothing: the latency benchmark's baseline."""
        self.noops += 1
