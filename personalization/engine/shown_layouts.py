"""The layout each person last saw per region: where the next layout decision starts from.

Starting from what was on screen keeps items from jumping on reload, and storing it makes
the first paint after a restart already right. Read from the database (``profile_store``)
on every decision, with no per-process copy, so every worker starts from the same layout;
written only when the placement changed, since most decisions differ from the previous one
in wording at most.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from personalization.layout.decide import Layout, LayoutItem
from personalization.store import profiles as profile_store


class ShownLayouts:
    """Previously shown layouts by ``(user, region)``, cached over ``profile_store``."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    def previous(self, user_id: str, region: str) -> Layout | None:
        with Session(self._engine) as session:
            return profile_store.load_layout(session=session, user_id=user_id, region=region)

    def remember(self, user_id: str, layout: Layout, *, previous: Layout | None) -> bool:
        """``previous`` is what the decision started from; the database write is skipped
        (and False returned) when only the explanations changed."""
        if previous is None or _placement(layout) != _placement(previous):
            with Session(self._engine) as session:
                profile_store.save_layout(session=session, user_id=user_id, layout=layout)
            return True
        return False

    def hidden_everywhere(self, user_id: str, regions: Iterable[str]) -> dict[str, LayoutItem]:
        """Commands placed in some region but visible in none, with the item that says why:
        a command visible in another region is not hidden from the person."""
        layouts = [lay for r in regions if (lay := self.previous(user_id, r)) is not None]
        shown = {c for lay in layouts for c in lay.visible}
        return {
            item.command: item
            for lay in layouts
            for item in lay.items
            if not item.visible and item.command not in shown
        }

    def delete_stored(self, user_id: str) -> None:
        """A reset starts the person from the designer's layout again, also after a restart."""
        with Session(self._engine) as session:
            for lay in profile_store.load_layouts(session=session, user_id=user_id).values():
                session.delete(session.get(profile_store.UserLayoutRow, (user_id, lay.region)))
            session.commit()


def _placement(layout: Layout) -> tuple[tuple[str, int, bool, str], ...]:
    """Where things are, without the sentences: the part worth a database write."""
    return tuple((i.command, i.position, i.visible, i.zone) for i in layout.items)
