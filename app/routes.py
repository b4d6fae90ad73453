"""Every page of the host app in one table: where it lives, its title, what loads it.

One place to look for "which module draws /privacy?" and to add a page; ``app.app`` turns
the table into ``rx.App`` pages, so nothing else needs to know the routes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from app.pages import designer, index, insights, login, privacy, signup, workspace
from app.pages.designer_state import DesignerState
from app.pages.insights import InsightsState
from app.pages.privacy import PrivacyState
from app.pages.workspace_state import WorkspaceState
from app.session import SessionState


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    page: Callable[[], rx.Component]
    title: str
    on_load: Any  # the event handler that loads the page's state


ROUTES: tuple[Route, ...] = (
    Route("/", index.page, "Adaptive workspace", SessionState.load),
    Route("/signup", signup.page, "Sign up", SessionState.load),
    Route("/login", login.page, "Sign in", SessionState.load),
    Route("/workspace", workspace.page, "Workspace", WorkspaceState.load),
    Route("/privacy", privacy.page, "Privacy center", PrivacyState.load),
    Route("/designer", designer.page, "Designer console", DesignerState.load),
    Route("/insights", insights.page, "Insights", InsightsState.load),
)


def add_routes(app: rx.App) -> None:
    """Add every page of :data:`ROUTES` to ``app``."""
    for route in ROUTES:
        app.add_page(route.page, route=route.path, title=route.title, on_load=route.on_load)
