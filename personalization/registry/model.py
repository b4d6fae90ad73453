"""The registry's data model: what designers declare, as frozen dataclasses and enums.

The registry is plain data so it can be versioned in the database, diffed, exported as JSON
and edited without touching code. Constructors store values as given (like scikit-learn's
``__init__``): checking is :mod:`~personalization.registry.validation`'s job and reading
JSON :mod:`~personalization.registry.parsing`'s, so a designer's file gets every problem
reported at once instead of failing on the first constructor that objects.

Imports nothing of the engine but ``personalization.types`` and ``personalization.errors``.
The ``from_dict``/``from_json`` class methods are kept for callers' convenience and import
the parser when called (the parser builds these classes, so it cannot be imported here at
module level).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from personalization.errors import UnknownRegion, UnknownTask
from personalization.types import CommandMeta

FORMAT = "adaptive-registry/1"


class RegionKind(StrEnum):
    TOOLBAR = "toolbar"
    MENU = "menu"
    PALETTE = "palette"
    SIDEBAR = "sidebar"
    CONTAINER = "container"


class ApplyOn(StrEnum):
    """Moments at which a region may change. Never while the user interacts with it: that
    rule is not configurable (``decide_layout(interacting=True)`` returns the old layout)."""

    PAGE_LOAD = "page_load"
    TASK_COMPLETE = "task_complete"
    IDLE = "idle"
    EVERY_EVENT = "every_event"


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    label: str
    icon: str = ""
    group: str = ""
    keywords: tuple[str, ...] = ()

    def meta(self) -> CommandMeta:
        return CommandMeta(id=self.id, label=self.label, group=self.group, keywords=self.keywords)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "icon": self.icon,
            "group": self.group,
            "keywords": list(self.keywords),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Command:
        from personalization.registry import parsing

        return parsing.command_from_dict(data)


def _float_or_none(value: float | None) -> float | None:
    """Numbers go out as floats so ``30`` and ``30.0`` give one checksum (one version)."""
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class RegionPolicy:
    """How one region may adapt.

    Slots ``0..visible-1`` are shown; designer pins keep their index in ``default_order``
    forever. The last ``suggested_slots`` free visible slots (the first ones with
    ``suggested_first``) form the adaptive "suggested" zone, as in split menus; with no
    confident prediction they show the designer order, so a new user sees exactly the
    designer default. ``hysteresis`` is the probability margin a challenger needs to
    displace a suggestion already on screen (it stops flicker between two near-equal
    guesses); at the ``full`` level it is also the relative margin of use counts a frequent
    item needs to take a static slot. Replacing one item costs two moves (one in, one out),
    so ``max_moves`` below 2 freezes the region after first paint.
    """

    default_order: tuple[str, ...]
    pinned: tuple[str, ...] = ()
    visible: int = 8
    suggested_slots: int = 2
    min_confidence: float = 0.3
    hysteresis: float = 0.1
    hide_unused_after_days: float | None = None
    hide_below_probability: float | None = None
    never_hide: tuple[str, ...] = ()
    max_moves: int = 2
    exploration_rate: float = 0.0
    apply_on: tuple[ApplyOn, ...] = (ApplyOn.PAGE_LOAD, ApplyOn.TASK_COMPLETE)
    suggested_first: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "default_order": list(self.default_order),
            "pinned": list(self.pinned),
            "visible": self.visible,
            "suggested_slots": self.suggested_slots,
            "min_confidence": float(self.min_confidence),
            "hysteresis": float(self.hysteresis),
            "hide_unused_after_days": _float_or_none(self.hide_unused_after_days),
            "hide_below_probability": _float_or_none(self.hide_below_probability),
            "never_hide": list(self.never_hide),
            "max_moves": self.max_moves,
            "exploration_rate": float(self.exploration_rate),
            "apply_on": [str(a) for a in self.apply_on],
            "suggested_first": self.suggested_first,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegionPolicy:
        from personalization.registry import parsing

        return parsing.policy_from_dict(data)


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    kind: RegionKind
    slots: int
    policy: RegionPolicy
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": str(self.kind),
            "slots": self.slots,
            "label": self.label,
            "policy": self.policy.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Region:
        from personalization.registry import parsing

        return parsing.region_from_dict(data)


@dataclass(frozen=True, slots=True)
class TaskStep:
    """One step of a task panel: a command to run or a component to show."""

    kind: str  # "command" | "component"
    ref: str
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "label": self.label}


@dataclass(frozen=True, slots=True)
class TaskTrigger:
    """Suggest the panel when ``command`` runs, or when the model's probability that the
    task is starting reaches ``probability`` (either or both)."""

    command: str | None = None
    probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "probability": _float_or_none(self.probability)}


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    title: str
    trigger: TaskTrigger
    steps: tuple[TaskStep, ...]
    completion: tuple[str, ...]  # commands that must all run for the task to be done
    idle_timeout_s: float = 300.0
    cooldown_s: float = 600.0
    max_per_day: int = 3
    suppress_after_dismissals: int = 3

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "trigger": self.trigger.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "completion": list(self.completion),
            "idle_timeout_s": float(self.idle_timeout_s),
            "cooldown_s": float(self.cooldown_s),
            "max_per_day": self.max_per_day,
            "suppress_after_dismissals": self.suppress_after_dismissals,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Task:
        from personalization.registry import parsing

        return parsing.task_from_dict(data)


@dataclass(frozen=True, slots=True)
class Registry:
    """Everything a designer declares. ``version`` is set by the registry store (0 = unsaved)
    and is not part of the content checksum."""

    name: str
    commands: tuple[Command, ...]
    regions: tuple[Region, ...]
    tasks: tuple[Task, ...] = ()
    version: int = 0
    _index: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def command(self, command_id: str) -> Command | None:
        if "commands" not in self._index:
            self._index["commands"] = {c.id: c for c in self.commands}
        return self._index["commands"].get(command_id)

    def label(self, command_id: str) -> str:
        cmd = self.command(command_id)
        return cmd.label if cmd is not None else command_id

    def region(self, region_id: str) -> Region:
        for region in self.regions:
            if region.id == region_id:
                return region
        raise UnknownRegion(region_id, [r.id for r in self.regions])

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise UnknownTask(task_id, [t.id for t in self.tasks])

    def command_meta(self) -> list[CommandMeta]:
        """What predictors need to rank commands nobody has used yet."""
        return [c.meta() for c in self.commands]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "version": self.version,
            "commands": [c.to_dict() for c in self.commands],
            "regions": [r.to_dict() for r in self.regions],
            "tasks": [t.to_dict() for t in self.tasks],
        }

    def content_dict(self) -> dict[str, Any]:
        """The designer's content without the store-assigned version (for checksums)."""
        data = self.to_dict()
        data.pop("version")
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: Any) -> Registry:
        """Parse and validate; raises :class:`RegistryError` listing every bad field."""
        from personalization.registry import parsing

        return parsing.registry_from_dict(data)

    @classmethod
    def from_json(cls, text: str) -> Registry:
        from personalization.registry import parsing

        return parsing.registry_from_json(text)
