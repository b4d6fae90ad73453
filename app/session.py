"""The one shared state: who is signed in, for the navigation bar and page guards.

Pages call :meth:`SessionState.sync` from their own handlers; it re-reads the account on the
server each time, so a role change or a sign-out takes effect on the next event.
"""

from __future__ import annotations

import reflex as rx
from reflex_local_auth import LocalAuthState

from app.identity import Account, current_account


class SessionState(rx.State):
    username: str = ""
    role: str = ""
    engine_id: str = ""

    @rx.var
    def signed_in(self) -> bool:
        return self.username != ""

    @rx.var
    def is_designer(self) -> bool:
        return self.role == "designer"

    async def sync(self) -> Account | None:
        account = await current_account(self)
        self.username = account.username if account else ""
        self.role = account.role.value if account else ""
        self.engine_id = account.user_id if account else ""
        return account

    @rx.event
    async def load(self):
        """on_load of public pages: show the right navigation, redirect nobody."""
        await self.sync()

    @rx.event
    async def logout(self):
        auth = await self.get_state(LocalAuthState)
        auth.do_logout()
        self.username = self.role = self.engine_id = ""
        return rx.redirect("/login")


async def start_session(state: rx.State, account_id: int) -> rx.event.EventSpec:
    """Sign ``account_id`` in for this browser and open the workspace (login and sign-up
    end the same way)."""
    auth = await state.get_state(LocalAuthState)
    auth._login(account_id)
    await (await state.get_state(SessionState)).sync()
    return rx.redirect("/workspace")
