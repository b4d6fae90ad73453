"""The host app: builds ``rx.App`` and adds pages; each page lives in its own module."""

import reflex as rx

from app.pages import index

app = rx.App()
app.add_page(index.page, route="/", title="Adaptive workspace")
