"""Connections between the app and the other parts: the HTTP API and the widget library.

Once ``personalization/api`` exists its FastAPI app is mounted in the same backend (one port,
one process, one engine). While that package is being built and cannot be imported, the app
still serves its pages and says on stderr why the API is missing.

The workspace is drawn by the same widgets other teams embed (``components``); here they learn
who is acting from the sign-in session, so the browser never names a user.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import components as adaptive
from app.identity import resolve_user_id
from personalization.service import get_personalizer


def api_transformer() -> Any:
    """``create_api(get_personalizer())`` when the HTTP API package is importable, else None."""
    if importlib.util.find_spec("personalization.api") is None:
        return None
    try:
        from personalization.api import create_api
    except ImportError as exc:
        print(f"warning: HTTP API not mounted: {exc}", file=sys.stderr)
        return None
    return create_api(get_personalizer())


def configure_widgets() -> None:
    """The widgets act for the signed-in account and use the app's process-wide engine."""
    adaptive.configure(user_resolver=resolve_user_id)
