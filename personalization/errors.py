"""Every error the engine raises on purpose, in one place.

A host catches :class:`PersonalizationError` to handle every refusal of the engine without
catching its bugs, or one class to handle one refusal. Each class keeps the builtin base it
had before it moved here (``RegistryError`` is still a ``ValueError``, ``UnknownRegion``
still a ``KeyError``), so code written against those bases keeps working; the modules that
raise them re-export them (``from personalization.registry import RegistryError``).

Imports nothing of the engine at run time: the SDK, the API's error mapping and the
package's public names can all load it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from personalization.panels.machine import PanelState

__all__ = [
    "ApiKeyError",
    "ControlError",
    "InvalidKey",
    "LogFormatError",
    "ModelFormatError",
    "PanelTransitionError",
    "PersonalizationError",
    "RegistryError",
    "RevokedKey",
    "SchemaNotMigrated",
    "UnknownKey",
    "UnknownRegion",
    "UnknownTask",
    "UserDataTableError",
]


class PersonalizationError(Exception):
    """Base of every error below."""


# -- what designers and hosts declare --------------------------------------------------------


class RegistryError(PersonalizationError, ValueError):
    """A registry (or its JSON) is invalid. ``errors`` lists every ``path: problem``."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid registry:\n  " + "\n  ".join(self.errors))


class _UnknownName(PersonalizationError, KeyError):
    """A look-up by id in the registry found nothing. ``KeyError`` quotes its message
    (``"'unknown region ...'"``); these print it as written, since people read it."""

    kind = "name"

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name, self.known = name, tuple(known)
        super().__init__(f"unknown {self.kind} {name!r}; known: {list(self.known)}")

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownRegion(_UnknownName):
    """No region has that id in the registry being served."""

    kind = "region"


class UnknownTask(_UnknownName):
    """No task has that id in the registry being served."""

    kind = "task"


# -- what people ask for ---------------------------------------------------------------------


class ControlError(PersonalizationError, ValueError):
    """A user control was refused (e.g. hiding something the designer protects)."""


class PanelTransitionError(PersonalizationError, RuntimeError):
    """An action that the panel's current state does not allow."""

    def __init__(
        self, task_id: str, state: PanelState | None, action: str, detail: str = ""
    ) -> None:
        self.task_id, self.state, self.action = task_id, state, action
        where = "it was never offered" if state is None else f"it is {state.value}"
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"cannot {action} panel {task_id!r}: {where}{suffix}")


# -- what was stored or read -----------------------------------------------------------------


class ModelFormatError(PersonalizationError, ValueError):
    """Stored model content that is unknown, malformed or was modified after writing."""


class SchemaNotMigrated(PersonalizationError, RuntimeError):
    """The database's engine tables are missing or older than this code."""


class UserDataTableError(PersonalizationError, RuntimeError):
    """A model claims to hold user data but has no ``user_id`` column to find it by."""


class LogFormatError(PersonalizationError, ValueError):
    """A log line we cannot read; the message names the file, line and field."""


# -- API keys --------------------------------------------------------------------------------


class ApiKeyError(PersonalizationError, ValueError):
    """Base of the problems API keys report (bad input, unknown key)."""


class InvalidKey(ApiKeyError):
    """The presented key is malformed, unknown, or its secret does not match."""


class RevokedKey(ApiKeyError):
    """The key existed and was revoked; its holder should ask for a new one."""


class UnknownKey(ApiKeyError):
    """No key has that ``key_id`` (revocation, look-ups by id)."""
