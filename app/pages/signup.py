"""Create an account (bcrypt via reflex-local-auth) and sign straight in."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.accounts import AccountError, create_account
from app.pages.auth_form import account_form
from app.session import start_session
from app.shell import frame


class SignupState(rx.State):
    error: str = ""

    @rx.event
    async def submit(self, form: dict[str, Any]):
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        try:
            with rx.session() as session:
                user = create_account(session=session, username=username, password=password)
        except AccountError as exc:
            self.error = f"{exc.field.capitalize()}: {str(exc).split(': ', 1)[1]}"
            return rx.set_focus(exc.field)
        self.error = ""
        assert user.id is not None
        return await start_session(self, user.id)


def page() -> rx.Component:
    return frame(
        account_form(
            title="Create your account",
            submit="Sign up",
            on_submit=SignupState.submit,
            error=SignupState.error,
            footer=rx.text("Already registered? ", rx.link("Sign in", href="/login"), size="2"),
        )
    )
