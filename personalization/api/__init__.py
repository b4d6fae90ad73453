"""The engine's HTTP API. ``create_api(personalizer)`` returns the FastAPI app."""

from personalization.api.app import create_api
from personalization.api.limits import ApiSettings

__all__ = ["ApiSettings", "create_api"]
