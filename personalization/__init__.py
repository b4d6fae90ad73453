"""The engine's public names: ``from personalization import Personalizer, Registry, ...``.

Names load on first use (PEP 562), not on ``import personalization``: every module of the
package, the light SDK (``personalization.client``) among them, imports this file first,
and an eager import here would make a service that only sends events load the engine,
scikit-learn and SQLModel.

Errors: every refusal the engine raises on purpose derives from ``PersonalizationError``
(``personalization.errors``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# plain classes, no imports: loading them here costs nothing and keeps one list of errors
from personalization import errors

if TYPE_CHECKING:
    from personalization.engine.personalizer import Personalizer
    from personalization.errors import (
        ApiKeyError,
        ControlError,
        InvalidKey,
        LogFormatError,
        ModelFormatError,
        PanelTransitionError,
        PersonalizationError,
        RegistryError,
        RevokedKey,
        SchemaNotMigrated,
        UnknownKey,
        UnknownRegion,
        UnknownTask,
        UserDataTableError,
    )
    from personalization.profile import Level
    from personalization.registry import Registry
    from personalization.types import Context, Event, Prediction

_HOMES = {
    "Context": "personalization.types",
    "Event": "personalization.types",
    "Level": "personalization.profile",
    "Personalizer": "personalization.engine.personalizer",
    "Prediction": "personalization.types",
    "Registry": "personalization.registry",
    **dict.fromkeys(errors.__all__, "personalization.errors"),
}

__all__ = [
    "ApiKeyError",
    "Context",
    "ControlError",
    "Event",
    "InvalidKey",
    "Level",
    "LogFormatError",
    "ModelFormatError",
    "PanelTransitionError",
    "PersonalizationError",
    "Personalizer",
    "Prediction",
    "Registry",
    "RegistryError",
    "RevokedKey",
    "SchemaNotMigrated",
    "UnknownKey",
    "UnknownRegion",
    "UnknownTask",
    "UserDataTableError",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:  # also how ``from personalization import profile`` finds submodules
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
