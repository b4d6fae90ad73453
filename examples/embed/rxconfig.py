"""A separate, small Reflex app that embeds the adaptive widgets (see embed_app/)."""

import os

import reflex as rx

config = rx.Config(
    app_name="embed_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
    frontend_port=int(os.environ.get("PORT", "3001")),
    backend_port=int(os.environ.get("PORT", "3001")),
)
