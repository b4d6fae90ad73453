"""Sign in with a username and password checked against the bcrypt hash."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_local_auth.user import LocalUser
from sqlmodel import select

from app.pages.auth_form import account_form
from app.session import start_session
from app.shell import frame


class LoginState(rx.State):
    error: str = ""

    @rx.event
    async def submit(self, form: dict[str, Any]):
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        with rx.session() as session:
            user = session.exec(select(LocalUser).where(LocalUser.username == username)).first()
        if user is None or user.id is None or not user.enabled or not user.verify(password):
            # One message for both cases: do not reveal which usernames exist.
            self.error = "Wrong username or password."
            return rx.set_value("password", "")
        self.error = ""
        return await start_session(self, user.id)


def page() -> rx.Component:
    return frame(
        account_form(
            title="Sign in",
            submit="Sign in",
            on_submit=LoginState.submit,
            error=LoginState.error,
            footer=rx.text("No account yet? ", rx.link("Sign up", href="/signup"), size="2"),
        )
    )
