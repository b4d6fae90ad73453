"""Landing page: says what the product is and where to go."""

import reflex as rx


def page() -> rx.Component:
    return rx.container(
        rx.heading("Adaptive workspace", size="8", data_testid="app-title"),
        rx.text(
            "A workspace that learns which command you need next and keeps the rest where you "
            "left it.",
        ),
        padding_y="2em",
    )
