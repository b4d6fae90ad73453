"""The workspace's own state: the person's document and nothing the widgets already keep.

The adaptive widgets (``components``) record each use, draw the regions, the palette and the
task panels; once they have recorded a command they hand its id to :meth:`WorkspaceState.run`,
which applies it to the document. Identity comes from the sign-in session on every event
(``SessionState.sync`` on load, the session's account on each command); no handler takes a
user id from the browser.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from app.document import Doc, Editor, sample
from app.identity import Account, resolve_user_id
from app.session import SessionState
from personalization.engine.personalizer import get_personalizer


class WorkspaceState(rx.State):
    ready: bool = False
    doc: Doc = sample()
    control_group: bool = False
    handled: int = 0  # commands applied (tests and the latency benchmark wait for it)
    noops: int = 0
    _undo: list[Doc] = []
    _redo: list[Doc] = []
    _owner: str = ""  # whose document this tab holds

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

    @rx.event
    async def load(self):
        account = await self._account()
        if account is None:
            return rx.redirect("/login")
        if account.user_id != self._owner:  # a tab survives sign-out: start someone new fresh
            self._owner = account.user_id
            self.doc, self._undo, self._redo = sample(), [], []
        engine = get_personalizer()
        self.control_group = await asyncio.to_thread(engine.in_control_group, account.user_id)
        self.ready = True
        return None

    @rx.event
    async def run(self, command: str):
        """Apply a command the widgets have just recorded to the document.

        Editing needs only to know someone is signed in (the same check the widgets make),
        not their role: the role lookup is a database query per click, and the pages that
        depend on the role re-read it in their own handlers."""
        if await resolve_user_id(self) is None:
            return rx.redirect("/login")
        editor = Editor(self.doc, undo=self._undo, redo=self._redo)
        try:
            self.doc = editor.run(command)
        except KeyError:
            return rx.toast.error(f"{command!r} does nothing in this editor.")
        self.handled += 1
        return None

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
