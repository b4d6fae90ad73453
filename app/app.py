"""The host app: ``rx.App`` with the HTTP API mounted and the pages of ``app.routes``."""

import reflex as rx

from app.routes import add_routes
from app.wiring import api_transformer, configure_widgets

configure_widgets()

app = rx.App(api_transformer=api_transformer())
add_routes(app)
