"""Dependencies every router shares: the engine, the caller cleared for one person, and
engine errors as API errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Depends, Request

from personalization.api.auth import Access, for_application
from personalization.api.errors import ApiError
from personalization.api.schemas import ApplicationPath, UserPath
from personalization.engine.personalizer import Personalizer
from personalization.errors import ControlError, PanelTransitionError, UnknownRegion, UnknownTask


def personalizer(request: Request) -> Personalizer:
    """The engine behind this API (resolved per request, so an app created before the
    process-wide engine exists still finds it)."""
    return request.app.state.personalizer()


@dataclass(frozen=True, slots=True)
class UserCall:
    """What every ``/apps/{application}/users/{user_id}/...`` route starts from: the caller
    cleared for that person, and the engine."""

    access: Access
    engine: Personalizer

    @property
    def user(self) -> str:
        """The person's engine user id (``application:user_id``)."""
        return self.access.engine_user


def user_call(scope: str, *, tokens: bool = True) -> Callable[..., UserCall]:
    """A dependency for per-user routes: declares (and validates) the ``application`` and
    ``user_id`` path parameters, authorises the caller for ``scope`` first, so a refused
    caller learns nothing about the ids, and hands over the engine."""
    access_for = for_application(scope, tokens=tokens)

    def dependency(
        application: ApplicationPath,
        user_id: UserPath,
        access: Access = Depends(access_for),  # noqa: B008
        engine: Personalizer = Depends(personalizer),  # noqa: B008
    ) -> UserCall:
        return UserCall(access=access, engine=engine)

    return dependency


@contextmanager
def engine_errors() -> Iterator[None]:
    """Engine refusals as the API's stable error codes (never a 500). Matched by type, so
    rewording a message cannot change a code; any other error is a bug and propagates."""
    try:
        yield
    except PanelTransitionError as exc:
        raise ApiError("invalid_transition", str(exc)) from None
    except ControlError as exc:
        raise ApiError("control_refused", str(exc)) from None
    except UnknownRegion as exc:
        raise ApiError("unknown_region", str(exc)) from None
    except UnknownTask as exc:
        raise ApiError("unknown_task", str(exc)) from None
