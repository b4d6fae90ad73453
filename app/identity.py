"""Who is asking, decided on the server from the sign-in session, never from the browser.

Every page state calls :func:`current_account` inside its event handlers. The browser only
holds an opaque session token (reflex-local-auth's ``auth_token``); a user id or role sent
by a client is never read, so user A cannot reach B's data by editing a request.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx
from reflex_local_auth import LocalAuthState

from app.accounts import engine_user_id, role_of
from app.models import Role


@dataclass(frozen=True, slots=True)
class Account:
    account_id: int
    username: str
    role: Role

    @property
    def user_id(self) -> str:
        return engine_user_id(self.account_id)

    @property
    def is_designer(self) -> bool:
        return self.role is Role.DESIGNER


async def current_account(state: rx.State) -> Account | None:
    """The signed-in account behind ``state``'s browser session, or ``None``."""
    auth = await state.get_state(LocalAuthState)
    user = auth.authenticated_user
    if user.id is None or user.id < 0:
        return None
    with rx.session() as session:
        role = role_of(session=session, account_id=user.id)
    return Account(account_id=user.id, username=user.username, role=role)


async def resolve_user_id(state: rx.State) -> str | None:
    """The resolver handed to the widget library (``reflex_adaptive.configure``).

    It runs on every widget event, so it skips the role lookup: the widgets only need to
    know whose layout to draw and whose use to record."""
    user = (await state.get_state(LocalAuthState)).authenticated_user
    if user.id is None or user.id < 0:
        return None
    return engine_user_id(user.id)
