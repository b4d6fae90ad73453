"""The designer console's state: the registry being edited, one region's policy as form
fields, version history and the preview of a region for one person or persona.

Saving stores a new registry version; end users get it on their next layout update. Every
handler re-checks the designer role on the server, so an end user who sends these events
by hand gets nothing back.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace

import reflex as rx
from reflex_local_auth.user import LocalUser
from sqlmodel import select

from app.session import SessionState
from personalization.engine.personalizer import get_personalizer
from personalization.registry import ApplyOn, RegionPolicy, Registry, RegistryError
from reflex_adaptive.view_models import ItemView, region_view

PERSONA_NEW = "persona:new"
POLICY_NUMBERS = {
    "visible": int,
    "suggested_slots": int,
    "max_moves": int,
    "min_confidence": float,
    "hysteresis": float,
    "exploration_rate": float,
}


@dataclass
class VersionRow:
    version: int = 0
    created: str = ""
    note: str = ""
    checksum: str = ""


@dataclass
class Choice:
    value: str = ""
    label: str = ""


class DesignerState(rx.State):
    ready: bool = False
    denied: bool = False
    text: str = ""
    errors: list[str] = []
    notice: str = ""
    versions: list[VersionRow] = []
    regions: list[str] = []
    region: str = "toolbar"
    policy: dict[str, str] = {}
    apply_on: list[str] = []
    order: str = ""
    pinned: str = ""
    people: list[Choice] = []
    preview_user: str = PERSONA_NEW
    preview: list[ItemView] = []
    preview_overflow: list[ItemView] = []

    async def _allowed(self) -> bool:
        account = await (await self.get_state(SessionState)).sync()
        self.denied = account is None or not account.is_designer
        if self.denied:  # nothing a previous designer loaded in this tab stays visible
            self.ready, self.text, self.people, self.preview = False, "", [], []
            self.versions, self.preview_overflow, self.errors = [], [], []
        return not self.denied

    def _load_registry(self, registry: Registry) -> None:
        self.text = registry.to_json()
        self.regions = [r.id for r in registry.regions]
        if self.region not in self.regions:
            self.region = self.regions[0]
        self._load_policy(registry)

    def _load_policy(self, registry: Registry) -> None:
        pol = registry.region(self.region).policy
        self.policy = {name: str(getattr(pol, name)) for name in POLICY_NUMBERS}
        self.apply_on = [str(a) for a in pol.apply_on]
        self.order = ", ".join(pol.default_order)
        self.pinned = ", ".join(pol.pinned)

    def _refresh(self) -> None:
        engine = get_personalizer()
        self._load_registry(engine.registry)
        self.versions = [
            VersionRow(v.version, v.created_at.strftime("%Y-%m-%d %H:%M"), v.note, v.checksum[:10])
            for v in reversed(engine.registry_history())
        ]
        with rx.session() as session:
            names = {u.id: u.username for u in session.exec(select(LocalUser)).all()}
        people = [Choice(PERSONA_NEW, "Persona: brand-new user (no history)")]
        for uid in engine.recent_users(limit=50):
            label = uid
            if uid.startswith("web:") and uid[4:].isdigit():
                label = f"{names.get(int(uid[4:]), 'deleted account')} ({uid})"
            people.append(Choice(uid, label))
        self.people = people
        self._preview()

    def _preview(self) -> None:
        engine = get_personalizer()
        layout = engine.layout(self.preview_user, self.region, commit=False)
        prof = engine.profile(self.preview_user)
        view = region_view(layout, registry=engine.registry, profile=prof)
        self.preview, self.preview_overflow = view.visible, view.overflow

    @rx.event
    async def load(self):
        if not await self._allowed():
            if (await self.get_state(SessionState)).username == "":
                return rx.redirect("/login")
            return None
        await asyncio.to_thread(self._refresh)
        self.ready = True
        return None

    # ------------------------------------------------------------------ JSON editor

    @rx.event
    def set_text(self, value: str):
        self.text = value

    @rx.event
    async def validate(self):
        if not await self._allowed():
            return
        try:
            Registry.from_json(self.text)
        except RegistryError as exc:
            self.errors, self.notice = exc.errors, ""
            return
        self.errors, self.notice = [], "Valid: ready to save."

    @rx.event
    async def save(self):
        if not await self._allowed():
            return
        await self._save(self.text, note="edited in the designer console")

    async def _save(self, text: str, *, note: str) -> None:
        engine = get_personalizer()
        try:
            version = await asyncio.to_thread(engine.save_registry, text, note=note)
        except RegistryError as exc:
            self.errors, self.notice = exc.errors, ""
            return
        self.errors = []
        await asyncio.to_thread(self._refresh)
        self.notice = f"Saved as version {version}; users get it on their next layout update."

    @rx.event
    async def export(self):
        if not await self._allowed():
            return None
        body = get_personalizer().registry.to_json()
        return rx.download(data=body, filename="registry.json")

    @rx.event
    async def import_file(self, files: list[rx.UploadFile]):
        if not await self._allowed():
            return
        if not files:
            self.errors = ["(file): choose a registry JSON file first"]
            return
        raw = await files[0].read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.errors = ["(file): not UTF-8 text"]
            return
        self.text = text
        try:
            Registry.from_json(text)
        except RegistryError as exc:
            self.errors, self.notice = exc.errors, ""
            return
        self.errors, self.notice = [], "Imported into the editor: review it, then save."

    # ------------------------------------------------------------------ structured policy

    @rx.event
    async def pick_region(self, region: str):
        if not await self._allowed() or region not in self.regions:
            return
        self.region = region
        self._load_policy(get_personalizer().registry)
        await asyncio.to_thread(self._preview)

    @rx.event
    def set_policy_field(self, name: str, value: str):
        if name in POLICY_NUMBERS:
            self.policy = {**self.policy, name: value}

    @rx.event
    def toggle_apply_on(self, moment: str, on: bool):
        rest = [a for a in self.apply_on if a != moment]
        self.apply_on = rest + [moment] if on else rest

    @rx.event
    def set_order(self, value: str):
        self.order = value

    @rx.event
    def set_pinned(self, value: str):
        self.pinned = value

    @rx.event
    async def save_policy(self):
        if not await self._allowed():
            return
        errors: list[str] = []
        values: dict[str, object] = {}
        for name, kind in POLICY_NUMBERS.items():
            raw = self.policy.get(name, "").strip()
            try:
                values[name] = kind(raw)
            except ValueError:
                errors.append(f"{self.region}.policy.{name}: must be {kind.__name__}, got {raw!r}")
        if errors:
            self.errors = errors
            return
        registry = get_personalizer().registry
        region = registry.region(self.region)
        policy: RegionPolicy = replace(
            region.policy,
            default_order=tuple(c.strip() for c in self.order.split(",") if c.strip()),
            pinned=tuple(c.strip() for c in self.pinned.split(",") if c.strip()),
            apply_on=tuple(ApplyOn(a) for a in self.apply_on),
            **values,  # type: ignore[arg-type]
        )
        regions = tuple(
            replace(r, policy=policy) if r.id == self.region else r for r in registry.regions
        )
        data = replace(registry, regions=regions).to_dict()
        await self._save(json.dumps(data), note=f"policy of {self.region}")

    # ------------------------------------------------------------------ preview

    @rx.event
    async def pick_user(self, user: str):
        if not await self._allowed() or not user.strip():
            return
        self.preview_user = user.strip()
        await asyncio.to_thread(self._preview)
