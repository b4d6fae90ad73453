"""The engine's HTTP API. ``create_api(personalizer)`` returns the FastAPI app.

``keys`` (API keys and their table) lives here too; the package's names load lazily, so
that the schema's table list can import ``personalization.api.keys`` without building the
app (which imports the facade).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personalization.api.app import create_api
    from personalization.api.limits import ApiSettings

__all__ = ["ApiSettings", "create_api"]


def __getattr__(name: str) -> Any:
    if name == "create_api":
        from personalization.api.app import create_api

        return create_api
    if name == "ApiSettings":
        from personalization.api.limits import ApiSettings

        return ApiSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
