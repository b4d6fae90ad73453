"""Connections between the app and the other parts: the HTTP API and the widget library.

The HTTP API (``personalization.api``) is mounted in the same backend: one port, one process,
one engine, so `make run` serves the pages and ``/api/v1`` together.

The workspace is drawn by the same widgets other teams embed (``reflex_adaptive``); here they learn
who is acting from the sign-in session, so the browser never names a user.
"""

from __future__ import annotations

from fastapi import FastAPI

import reflex_adaptive as adaptive
from app.identity import resolve_user_id
from personalization.api import create_api


def api_transformer() -> FastAPI:
    """The HTTP API; it takes the process-wide engine on its first request."""
    return create_api()


def configure_widgets() -> None:
    """The widgets act for the signed-in account and use the app's process-wide engine."""
    adaptive.configure(user_resolver=resolve_user_id)
