"""What a product designer declares: commands, regions with their policies, and tasks.

``Registry`` is the whole declaration, versioned in the database by ``store.registries``.
Imports nothing of the engine but ``personalization.types``.
"""

from personalization.registry.core import (
    FORMAT,
    ApplyOn,
    Command,
    Region,
    RegionKind,
    RegionPolicy,
    Registry,
    RegistryError,
    Task,
    TaskStep,
    TaskTrigger,
    example_registry,
    validate,
)

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
    "example_registry",
    "validate",
]
