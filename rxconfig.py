"""Reflex configuration. Every setting comes from the environment with an embedded default,
so `make run` needs no other server: SQLite for data, Reflex's on-disk state manager."""

import os

import reflex as rx

from personalization.store.db import database_url

config = rx.Config(
    app_name="app",
    db_url=database_url(),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
    frontend_port=int(os.environ.get("PORT", "3000")),
    backend_port=int(os.environ.get("PORT", "3000")),
)
