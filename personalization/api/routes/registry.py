"""The designer registry: read the current version, list versions, save a new one.

The registry is one per deployment (every application served by this engine shares it), so
these routes take no application and accept only keys, never per-user tokens. Saving
validates the whole document and reports every problem at once; saving unchanged content
returns the existing version instead of adding one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from personalization.api.auth import Principal, scoped
from personalization.api.errors import ApiError, error_responses
from personalization.api.routes.deps import personalizer
from personalization.api.schemas import RegistrySaved, RegistryVersionOut
from personalization.engine.personalizer import Personalizer
from personalization.registry import RegistryError

router = APIRouter(prefix="/registry", tags=["registry"])
_registry = scoped("registry")
_COMMON = (401, 403, 413, 422, 429)


@router.get(
    "",
    summary="The current registry (format adaptive-registry/1)",
    responses=error_responses(*_COMMON),
)
def current(
    _caller: Principal = Depends(_registry),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> dict[str, Any]:
    return engine.registry.to_dict()


@router.get(
    "/versions",
    summary="Every saved version, oldest first",
    responses=error_responses(*_COMMON),
)
def versions(
    _caller: Principal = Depends(_registry),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> list[RegistryVersionOut]:
    return [RegistryVersionOut(**v.to_dict()) for v in engine.registry_history()]


@router.put(
    "",
    summary="Validate and save a new registry version",
    responses=error_responses(*_COMMON),
)
def save(
    registry: dict[str, Any] = Body(  # noqa: B008
        description="A registry document: format, name, commands, regions, tasks."
    ),
    note: str = Query("", max_length=500, description="Why it changed (kept with the version)"),
    _caller: Principal = Depends(_registry),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> RegistrySaved:
    """Invalid documents get 422 ``invalid_registry`` with ``errors`` listing every
    ``path: problem``."""
    registry.pop("version", None)  # assigned by the store, not by the designer
    try:
        version = engine.save_registry(registry, note=note)
    except RegistryError as exc:
        first = exc.errors[0] if exc.errors else "invalid registry"
        raise ApiError(
            "invalid_registry",
            f"the registry has {len(exc.errors)} problem(s), first: {first}",
            field=first.split(":", 1)[0] or None,
            errors=exc.errors,
        ) from None
    return RegistrySaved(version=version)
