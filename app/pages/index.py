"""Landing page: what the product is, where to go, and the demo accounts to try."""

import reflex as rx

from app.seed import DEMO_ACCOUNTS
from app.session import SessionState
from app.shell import frame


def _account_row(username: str, password: str, role: str) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(username)),
        rx.table.cell(rx.code(password)),
        rx.table.cell(role),
    )


def page() -> rx.Component:
    return frame(
        rx.vstack(
            rx.heading("Adaptive workspace", size="8", data_testid="app-title"),
            rx.text(
                "A workspace that learns which command you need next and keeps the rest where "
                "you left it.",
                size="4",
            ),
            rx.text(
                "Suggestions appear only in marked slots, each says why it is there, and you "
                "can pin, hide, reset or switch adaptation off. Task panels open when you start "
                "a task and dissolve when it is done.",
                color_scheme="gray",
            ),
            rx.cond(
                SessionState.signed_in,
                rx.link(rx.button("Open your workspace", size="3"), href="/workspace"),
                rx.hstack(
                    rx.link(rx.button("Sign up", size="3"), href="/signup"),
                    rx.link(rx.button("Sign in", size="3", variant="outline"), href="/login"),
                ),
            ),
            rx.heading("Demo accounts", size="4", margin_top="1em"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Username"),
                        rx.table.column_header_cell("Password"),
                        rx.table.column_header_cell("Role"),
                    )
                ),
                rx.table.body(
                    *[
                        _account_row(
                            a.username,
                            a.password,
                            "designer" if a.role.value == "designer" else f"end user ({a.persona})",
                        )
                        for a in DEMO_ACCOUNTS
                    ]
                ),
                size="1",
                data_testid="demo-accounts",
            ),
            spacing="4",
            padding_y="1em",
        )
    )
