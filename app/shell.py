"""The frame every page shares: navigation bar and content width."""

from __future__ import annotations

import reflex as rx

from app.session import SessionState


def _link(label: str, href: str, test_id: str) -> rx.Component:
    return rx.link(label, href=href, data_testid=test_id, size="3", weight="medium")


def navbar() -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.hstack(rx.icon("sparkles", size=18), rx.text("Adaptive workspace", weight="bold")),
            href="/",
            underline="none",
        ),
        rx.spacer(),
        rx.cond(
            SessionState.signed_in,
            rx.hstack(
                _link("Workspace", "/workspace", "nav-workspace"),
                _link("Privacy", "/privacy", "nav-privacy"),
                rx.cond(
                    SessionState.is_designer,
                    rx.hstack(
                        _link("Designer", "/designer", "nav-designer"),
                        _link("Insights", "/insights", "nav-insights"),
                        spacing="4",
                    ),
                ),
                rx.badge(SessionState.username, data_testid="nav-username", variant="soft"),
                rx.button(
                    "Sign out",
                    on_click=SessionState.logout,
                    variant="ghost",
                    size="1",
                    data_testid="sign-out",
                ),
                spacing="4",
                align="center",
            ),
            rx.hstack(
                _link("Sign in", "/login", "nav-login"),
                _link("Sign up", "/signup", "nav-signup"),
                spacing="4",
            ),
        ),
        padding_x="1.5em",
        padding_y="0.75em",
        border_bottom="1px solid var(--gray-a5)",
        align="center",
        width="100%",
    )


def frame(*children: rx.Component, max_width: str = "1200px") -> rx.Component:
    return rx.box(
        navbar(),
        rx.box(*children, max_width=max_width, margin_x="auto", padding="1.5em"),
        width="100%",
    )


def guarded(ready: rx.Var, denied: rx.Var, content: rx.Component, message: str) -> rx.Component:
    """Content only after the server said yes; a clear message when it said no."""
    return rx.cond(
        ready,
        content,
        rx.cond(
            denied,
            rx.callout(message, icon="shield-alert", color_scheme="red", data_testid="denied"),
            rx.center(rx.spinner(size="3"), padding="3em"),
        ),
    )
