"""The form both account pages share: a username, a password and one submit button."""

from __future__ import annotations

import reflex as rx


def account_form(
    *, title: str, submit: str, on_submit: rx.EventHandler, error: rx.Var, footer: rx.Component
) -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading(title, size="6"),
                    rx.text("Username", size="2", weight="medium"),
                    rx.input(
                        name="username",
                        id="username",
                        placeholder="e.g. alice",
                        auto_complete="username",
                        width="100%",
                        required=True,
                    ),
                    rx.text("Password", size="2", weight="medium"),
                    rx.input(
                        name="password",
                        id="password",
                        type="password",
                        placeholder="at least 8 characters",
                        width="100%",
                        required=True,
                    ),
                    rx.cond(
                        error != "",
                        rx.callout(
                            error,
                            icon="triangle-alert",
                            color_scheme="red",
                            data_testid="form-error",
                        ),
                    ),
                    rx.button(submit, type="submit", width="100%", data_testid="submit"),
                    footer,
                    spacing="3",
                    width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
            width="360px",
            padding="1.5em",
        ),
        padding_top="4em",
    )
