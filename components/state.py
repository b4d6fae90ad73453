"""The one small state behind every adaptive widget on a page.

Why one state: the widgets share the acting user, the loaded layouts and the task panels, and
a command run in one widget (the palette) must advance panels and refresh the others. Layouts
are small views (ids, labels, reasons); the event log and the model stay in the engine.

Identity never comes from the browser: each handler asks the configured resolver (or the
anonymous cookie) who is acting. Engine calls are blocking (SQLite), so they run in a worker
thread (the functions in ``engine_calls``) and the event loop stays free; how a host's
``on_command`` handler runs inside a widget event is ``host_handler``'s business.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import reflex as rx
from reflex.vars import Var

from personalization.profile import ControlError, Level
from personalization.registry import ApplyOn

from . import config
from .device import device_class
from .engine_calls import Decided, decide_regions, panel_steps, record_click, run_panel_steps
from .host_handler import run_host
from .view_models import PaletteItem, PanelItem, RegionView, palette_item, panel_item

ANON_PREFIX = "anon-"
_ANON_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
_TICK_S = 1.0  # a finished panel dissolves within about a second of its linger time
_LEVELS = tuple(level.value for level in Level)

# A random id per page load, made in the browser. Reflex keeps a tab's state across reloads,
# so a layout is drawn only once it was decided for *this* load: the first paint is the
# skeleton, then this person's layout, never the previous load's order followed by a jump.
PAGE_ID: Var[str] = Var(
    "(typeof window === 'undefined' ? '' : (window.__adaptivePage = window.__adaptivePage"
    " || Math.random().toString(36).slice(2)))",
    _var_type=str,
)


class AdaptiveState(rx.State):
    """Layouts per region, the palette and the task panels for the acting user."""

    regions: dict[str, RegionView] = {}
    open_overflow: str = ""
    open_menu: str = ""
    palette_open: bool = False
    palette_query: str = ""
    palette_results: list[PaletteItem] = []
    palette_selected: int = 0
    panels: list[PanelItem] = []
    level: str = Level.FULL.value
    recording: bool = True
    control_error: str = ""
    signed_in: bool = False
    page_id: str = ""

    anon_token: str = rx.Cookie("", name="adaptive_anon", max_age=_COOKIE_MAX_AGE, same_site="lax")

    _pending: dict[str, str] = {}  # region -> moment deferred until the pointer leaves it
    _ticking: bool = False
    _loaded: dict[str, str] = {}  # region -> page id its layout was decided for
    _drawn_for: str = ""  # the user the layouts in this tab were decided for
    _drawn: dict[str, str] = {}  # region -> what its layout was decided from (_draw_key)

    # ------------------------------------------------------------------ identity

    async def acting_user(self) -> str | None:
        """Who is acting, decided on the server (resolver or anonymous cookie)."""
        resolver = config.user_resolver()
        if resolver is not None:
            user = await resolver(self)
            return str(user) if user else None
        if not _ANON_TOKEN.match(self.anon_token or ""):
            self.anon_token = secrets.token_hex(16)
        return ANON_PREFIX + self.anon_token

    def _session(self) -> str:
        return self.router.session.client_token or "default"

    # ------------------------------------------------------------------ layouts

    @rx.event
    async def load_region(self, region_id: str, page_id: str = "") -> Any:
        """First paint of a region: its layout as of this page load, decided once per load
        even when several widgets show the same region."""
        page_id = str(page_id)[:40]
        await self._forget_previous_user()
        if self._loaded.get(region_id) != page_id or region_id not in self.regions:
            await self._refresh_regions([region_id], moment=ApplyOn.PAGE_LOAD)
            self._loaded = {**self._loaded, region_id: page_id}
        self.page_id = page_id
        return self._start_ticking()

    async def _forget_previous_user(self) -> None:
        """A tab keeps its state across a sign-out and an in-app navigation (same page id),
        so nothing decided for the previous person may be drawn for the next one."""
        user = await self.acting_user() or ""
        if user == self._drawn_for:
            return
        self._drawn_for = user
        self.regions, self._loaded, self._pending, self._drawn = {}, {}, {}, {}
        self.panels, self.palette_results = [], []

    @staticmethod
    def ready(region_id: str) -> Var[bool]:
        """True once ``region_id`` has its layout for this page load."""
        return AdaptiveState.regions.contains(region_id) & (AdaptiveState.page_id == PAGE_ID)

    async def _refresh_regions(self, region_ids: list[str], *, moment: ApplyOn) -> None:
        user = await self.acting_user()
        _assign(self, "signed_in", user is not None)
        engine = config.personalizer()
        decided = await asyncio.to_thread(
            decide_regions, engine, user, region_ids, moment=moment, drawn={}
        )
        self._show(decided)

    def _show(self, decided: Decided) -> None:
        """Assign only what changed: Reflex sends (and React redraws) every assigned field,
        so an unchanged layout costs nothing on the wire or in the browser."""
        changed = {rid: v for rid, v in decided.views.items() if self.regions.get(rid) != v}
        if changed:
            self.regions = {**self.regions, **changed}
        if decided.keys:
            self._drawn = {**self._drawn, **decided.keys}
        _assign(self, "level", decided.profile.level.value)
        _assign(self, "recording", decided.profile.recording)

    @rx.event
    async def region_left(self, region_id: str) -> None:
        """The pointer left a region: apply the change held back while it was in use."""
        moment = self._pending.get(region_id)
        self._pending = {k: v for k, v in self._pending.items() if k != region_id}
        if moment is not None and region_id in self.regions:
            await self._refresh_regions([region_id], moment=ApplyOn(moment))

    @rx.event
    def toggle_overflow(self, region_id: str) -> None:
        self.open_overflow = "" if self.open_overflow == region_id else region_id

    @rx.event
    def toggle_menu(self, region_id: str) -> None:
        self.open_menu = "" if self.open_menu == region_id else region_id
        self.open_overflow = ""

    # ------------------------------------------------------------------ commands

    @rx.event
    async def invoke(self, region_id: str, command: str) -> Any:
        """Record a command (id and context only), advance panels, refresh other regions.

        The region the command came from is left alone while the person is in it ("never
        while interacting"); its change waits until the pointer leaves it.
        """
        return await self._record_use(region_id, command)

    @rx.event
    async def invoke_then(self, region_id: str, command: str, host: str) -> Any:
        """The host's ``on_command`` handler named by ``host`` (see :mod:`.host_handler`),
        then :meth:`invoke`, in ONE event: the person's command shows on the page at once
        (the first update goes out before the engine runs), and the recording, task panels
        and other regions follow in the same event's next update. No second round trip, and
        the engine's work is never on the path between a click and its visible result."""
        _assign(self, "open_overflow", "")
        _assign(self, "open_menu", "")
        _assign(self, "palette_open", False)
        try:
            events = await run_host(self, host, command)
        except Exception:
            await self._record_use(region_id, command)  # the use happened all the same
            raise
        yield events
        tick = await self._record_use(region_id, command)
        if tick is not None:
            yield tick

    async def _record_use(self, region_id: str, command: str) -> Any:
        engine = config.personalizer()
        registry = engine.registry
        if registry.command(command) is None:
            return None  # not a command of this app: a tampered event, nothing to record
        user = await self.acting_user()
        _assign(self, "open_overflow", "")
        _assign(self, "open_menu", "")
        _assign(self, "palette_open", False)
        if user is None:
            return None
        region = region_id if region_id in {r.id for r in registry.regions} else None
        views, completed, decided = await asyncio.to_thread(
            record_click,
            engine,
            user,
            command,
            region=region,
            route=self.router.route_id or None,
            device=device_class(self.router.headers.user_agent),
            session=self._session(),
            others=[rid for rid in self.regions if rid != region],
            drawn=dict(self._drawn),
        )
        _assign(self, "panels", [panel_item(v) for v in views])
        if region in self.regions:
            held = self._pending.get(region)
            keep_task = held == ApplyOn.TASK_COMPLETE.value
            deferred = ApplyOn.TASK_COMPLETE if completed or keep_task else ApplyOn.IDLE
            if held != deferred.value:
                self._pending = {**self._pending, region: deferred.value}
        _assign(self, "signed_in", True)
        self._show(decided)
        return self._start_ticking()

    # ------------------------------------------------------------------ personal controls

    @rx.event
    async def control(self, region_id: str, command: str, action: str) -> None:
        """pin / unpin / hide / unhide one item; shows at once (a forced change)."""
        if action not in {"pin", "unpin", "hide", "unhide"}:
            return
        user = await self.acting_user()
        if user is None:
            return
        engine = config.personalizer()
        try:
            await asyncio.to_thread(
                getattr(engine, action), user, region=region_id, command=command
            )
        except (ControlError, KeyError, ValueError) as exc:
            self.control_error = str(exc).strip("'\"")
            return
        self.control_error = ""
        self._pending = {k: v for k, v in self._pending.items() if k != region_id}
        await self._refresh_regions([region_id], moment=ApplyOn.IDLE)

    @rx.event
    async def set_level(self, level: str) -> None:
        if level not in _LEVELS:
            return
        user = await self.acting_user()
        if user is None:
            return
        await asyncio.to_thread(config.personalizer().set_level, user, level)
        await self._refresh_regions(list(self.regions), moment=ApplyOn.PAGE_LOAD)

    @rx.event
    async def set_recording(self, enabled: bool) -> None:
        user = await self.acting_user()
        if user is None:
            return
        await asyncio.to_thread(config.personalizer().set_recording, user, bool(enabled))
        self.recording = bool(enabled)

    @rx.event
    async def reset_personalization(self) -> None:
        """Forget the learned ranking, pins and hides: back to the designer layout."""
        user = await self.acting_user()
        if user is None:
            return
        await asyncio.to_thread(config.personalizer().reset, user)
        self._pending = {}
        self.control_error = ""
        self.panels = []
        await self._refresh_regions(list(self.regions), moment=ApplyOn.PAGE_LOAD)

    # ------------------------------------------------------------------ palette

    @rx.event
    async def open_palette(self) -> None:
        self.palette_open = True
        self.palette_query = ""
        await self._search()

    @rx.event
    def set_palette_open(self, is_open: bool) -> None:
        self.palette_open = bool(is_open)

    @rx.event
    async def palette_search(self, query: str) -> None:
        self.palette_query = query[:200]
        await self._search()

    async def _search(self, limit: int = 50) -> None:
        user = await self.acting_user()
        engine = config.personalizer()
        who = user or ""
        entries = await asyncio.to_thread(engine.palette, who, self.palette_query, limit=limit)
        self.palette_selected = 0
        self.palette_results = [palette_item(e, selected=i == 0) for i, e in enumerate(entries)]

    @rx.event
    def palette_key(self, key: str) -> Any:
        """Arrow keys move the selection; Enter runs it through the option's own click, so
        the host's ``on_command`` runs exactly as for a mouse click."""
        count = len(self.palette_results)
        if key in {"ArrowDown", "ArrowUp"} and count:
            step = 1 if key == "ArrowDown" else -1
            self._select((self.palette_selected + step) % count)
            return None
        if key == "Enter" and count:
            return rx.call_script(
                "document.querySelector('[data-palette] [aria-selected=\"true\"]')?.click()"
            )
        return None

    def _select(self, index: int) -> None:
        self.palette_selected = index
        self.palette_results = [
            PaletteItem(**{**vars(item), "selected": i == index})
            for i, item in enumerate(self.palette_results)
        ]

    # ------------------------------------------------------------------ task panels

    @rx.event
    async def load_panels(self) -> Any:
        user = await self.acting_user()
        if user is None:
            self.panels = []
            return None
        engine = config.personalizer()
        views = await asyncio.to_thread(engine.panels, user, session_id=self._session())
        self.panels = [panel_item(v) for v in views]
        return self._start_ticking()

    @rx.event
    async def panel_action(self, task_id: str, action: str) -> Any:
        """close (Esc or the button), pin toggle, open, dismiss, reopen, interact."""
        user = await self.acting_user()
        if user is None:
            return None
        engine = config.personalizer()
        current = next((p for p in self.panels if p.task_id == task_id), None)
        steps = panel_steps(action, current.state if current is not None else "")
        views = await asyncio.to_thread(
            run_panel_steps, engine, user, task_id, steps, session=self._session()
        )
        self.panels = [panel_item(v) for v in views]
        return self._start_ticking()

    def _start_ticking(self) -> Any:
        if self.panels and not self._ticking:
            self._ticking = True
            return AdaptiveState.tick_panels
        return None

    @rx.event(background=True)
    async def tick_panels(self) -> None:
        """Idle timeouts and the dissolve of finished panels, while any panel is up."""
        while True:
            await asyncio.sleep(_TICK_S)
            async with self:
                user = await self.acting_user()
                timed = [p for p in self.panels if p.state != "pinned"]
                if user is None or not timed:
                    self._ticking = False
                    return
                engine = config.personalizer()
                views = await asyncio.to_thread(engine.tick, user, session_id=self._session())
                self.panels = [panel_item(v) for v in views]


def _assign(state: AdaptiveState, name: str, value: Any) -> None:
    """Set a field only when the value differs: every assignment is sent to the browser."""
    if getattr(state, name) != value:
        setattr(state, name, value)
