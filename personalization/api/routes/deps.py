"""Dependencies every router shares: the engine, and engine errors as API errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request

from personalization.api.errors import ApiError
from personalization.panels import PanelTransitionError
from personalization.profile import ControlError
from personalization.service import Personalizer


def personalizer(request: Request) -> Personalizer:
    """The engine behind this API (resolved per request, so an app created before the
    process-wide engine exists still finds it)."""
    return request.app.state.personalizer()


@contextmanager
def engine_errors() -> Iterator[None]:
    """Engine refusals as the API's stable error codes (never a 500)."""
    try:
        yield
    except PanelTransitionError as exc:
        raise ApiError("invalid_transition", str(exc)) from None
    except ControlError as exc:
        raise ApiError("control_refused", str(exc)) from None
    except KeyError as exc:  # the registry's "unknown region/task"; anything else is a bug
        message = str(exc.args[0]) if exc.args else ""
        for code in ("unknown_region", "unknown_task"):
            if message.startswith(code.replace("_", " ")):
                raise ApiError(code, message) from None
        raise
