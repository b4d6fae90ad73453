"""What a product designer declares: commands, regions with their policies, and tasks.

``Registry`` is the whole declaration, versioned in the database by ``store.registries``.
``model`` holds the dataclasses and enums, ``validation`` the semantic checks, ``parsing``
the reading of dicts and JSON (every error named by the path of its field). Import from
here; the package imports nothing of the engine but ``personalization.types`` and
``personalization.errors``. The demo app's registry is the app's own: ``app/registry.json``.
"""

from personalization.registry.model import (
    FORMAT,
    ApplyOn,
    Command,
    Region,
    RegionKind,
    RegionPolicy,
    Registry,
    Task,
    TaskStep,
    TaskTrigger,
)
from personalization.registry.validation import RegistryError, validate

__all__ = [
    "ApplyOn",
    "Command",
    "FORMAT",
    "Region",
    "RegionKind",
    "RegionPolicy",
    "Registry",
    "RegistryError",
    "Task",
    "TaskStep",
    "TaskTrigger",
    "validate",
]
