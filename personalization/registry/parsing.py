"""Reading a registry from a dict or JSON text into the model, with every error at once.

Each problem names the path of the bad field (``regions[0].policy.visible: must be an
integer, got str '8'``; ``tasks[1].trigger: unknown field``) and parsing goes on past it, so a
designer editing a file by hand sees all of them in one error. A registry that parses is then
checked by :func:`~personalization.registry.validation.validate`. Imports only the registry's
model and validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

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


def registry_from_dict(data: Any) -> Registry:
    """Parse and validate; raises :class:`RegistryError` listing every bad field."""
    errors: list[str] = []
    registry = _parse_registry(data, "", errors)
    if not errors and registry is not None:
        errors.extend(validate(registry))
    if errors or registry is None:
        raise RegistryError(errors)
    return registry


def registry_from_json(text: str) -> Registry:
    """``registry_from_dict`` of JSON text; a syntax error is reported with its position."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError([f"(json) line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from exc
    return registry_from_dict(data)


def command_from_dict(data: Any) -> Command:
    return _parse_or_raise(data, _parse_command)


def policy_from_dict(data: Any) -> RegionPolicy:
    return _parse_or_raise(data, _parse_policy)


def region_from_dict(data: Any) -> Region:
    return _parse_or_raise(data, _parse_region)


def task_from_dict(data: Any) -> Task:
    return _parse_or_raise(data, _parse_task)


class _Obj:
    """Reads typed fields from one JSON object, recording ``path: problem`` errors."""

    def __init__(self, data: Any, path: str, errors: list[str], allowed: Iterable[str]) -> None:
        self.path, self.errors = path, errors
        self.ok = isinstance(data, Mapping)
        self.data: Mapping[str, Any] = data if self.ok else {}
        if not self.ok:
            errors.append(f"{path or '(root)'}: must be an object, got {type(data).__name__}")
            return
        allowed = set(allowed)
        for key in self.data:
            if key not in allowed:
                errors.append(f"{self._p(key)}: unknown field")

    def _p(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, kind: str, default: Any = ..., *, nullable: bool = False) -> Any:
        if key not in self.data:
            if default is ...:
                if self.ok:
                    self.errors.append(f"{self._p(key)}: is required")
                return None
            return default
        value = self.data[key]
        if value is None and nullable:
            return None
        checks: dict[str, Callable[[Any], bool]] = {
            "str": lambda v: isinstance(v, str),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "list": lambda v: isinstance(v, list),
            "obj": lambda v: isinstance(v, Mapping),
            "bool": lambda v: isinstance(v, bool),
        }
        names = {
            "str": "a string",
            "int": "an integer",
            "float": "a number",
            "list": "a list",
            "bool": "true or false",
        }
        if not checks[kind](value):
            self.errors.append(
                f"{self._p(key)}: must be {names.get(kind, 'an object')}, got {_describe(value)}"
            )
            return None
        return float(value) if kind == "float" else value

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...] | None:
        items = self.get(key, "list", default)
        if items is None:
            return None
        out: list[str] = []
        for j, item in enumerate(items):
            if not isinstance(item, str):
                self.errors.append(f"{self._p(key)}[{j}]: must be a string, got {_describe(item)}")
            else:
                out.append(item)
        return tuple(out)

    def enum(self, key: str, enum: type[StrEnum], default: Any = ...) -> Any:
        value = self.get(key, "str", default)
        if value is None or isinstance(value, enum):
            return value
        try:
            return enum(value)
        except ValueError:
            choices = ", ".join(e.value for e in enum)
            self.errors.append(f"{self._p(key)}: must be one of {choices}, got {value!r}")
            return None


def _describe(value: Any) -> str:
    return "null" if value is None else f"{type(value).__name__} {value!r}"[:60]


def _parse_or_raise(data: Any, parser: Callable[[Any, str, list[str]], Any]) -> Any:
    errors: list[str] = []
    result = parser(data, "", errors)
    if errors or result is None:
        raise RegistryError(errors)
    return result


def _parse_command(data: Any, path: str, errors: list[str]) -> Command | None:
    o = _Obj(data, path, errors, ("id", "label", "icon", "group", "keywords"))
    values = (
        o.get("id", "str"),
        o.get("label", "str"),
        o.get("icon", "str", ""),
        o.get("group", "str", ""),
        o.strings("keywords", []),
    )
    if not o.ok or any(v is None for v in values):
        return None
    return Command(*values)


_POLICY_FIELDS = (
    "default_order",
    "pinned",
    "visible",
    "suggested_slots",
    "min_confidence",
    "hysteresis",
    "hide_unused_after_days",
    "hide_below_probability",
    "never_hide",
    "max_moves",
    "exploration_rate",
    "apply_on",
    "suggested_first",
)


def _parse_policy(data: Any, path: str, errors: list[str]) -> RegionPolicy | None:
    o = _Obj(data, path, errors, _POLICY_FIELDS)
    before = len(errors)
    d = RegionPolicy(default_order=())
    apply_raw = o.strings("apply_on", [str(a) for a in d.apply_on])
    apply_on: list[ApplyOn] = []
    for j, raw in enumerate(apply_raw or ()):
        try:
            apply_on.append(ApplyOn(raw))
        except ValueError:
            choices = ", ".join(a.value for a in ApplyOn)
            errors.append(f"{o._p('apply_on')}[{j}]: must be one of {choices}, got {raw!r}")
    policy = RegionPolicy(
        default_order=o.strings("default_order") or (),
        pinned=o.strings("pinned", []) or (),
        visible=o.get("visible", "int", d.visible) or 0,
        suggested_slots=o.get("suggested_slots", "int", d.suggested_slots) or 0,
        min_confidence=_or(o.get("min_confidence", "float", d.min_confidence), 0.0),
        hysteresis=_or(o.get("hysteresis", "float", d.hysteresis), 0.0),
        hide_unused_after_days=o.get("hide_unused_after_days", "float", None, nullable=True),
        hide_below_probability=o.get("hide_below_probability", "float", None, nullable=True),
        never_hide=o.strings("never_hide", []) or (),
        max_moves=_or(o.get("max_moves", "int", d.max_moves), 0),
        exploration_rate=_or(o.get("exploration_rate", "float", d.exploration_rate), 0.0),
        apply_on=tuple(apply_on),
        suggested_first=_or(o.get("suggested_first", "bool", d.suggested_first), False),
    )
    return policy if o.ok and len(errors) == before else None


def _or(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


def _parse_region(data: Any, path: str, errors: list[str]) -> Region | None:
    o = _Obj(data, path, errors, ("id", "kind", "slots", "label", "policy"))
    before = len(errors)
    rid = o.get("id", "str")
    kind = o.enum("kind", RegionKind)
    slots = o.get("slots", "int")
    label = o.get("label", "str", "")
    raw_policy = o.get("policy", "obj")
    policy = None
    if raw_policy is not None:
        policy = _parse_policy(raw_policy, o._p("policy"), errors)
    if not o.ok or len(errors) != before or policy is None:
        return None
    return Region(id=rid, kind=kind, slots=slots, policy=policy, label=label)


def _parse_task(data: Any, path: str, errors: list[str]) -> Task | None:
    fields = (
        "id",
        "title",
        "trigger",
        "steps",
        "completion",
        "idle_timeout_s",
        "cooldown_s",
        "max_per_day",
        "suppress_after_dismissals",
    )
    o = _Obj(data, path, errors, fields)
    before = len(errors)
    d = Task(id="", title="", trigger=TaskTrigger(), steps=(), completion=())
    trigger = None
    raw_trigger = o.get("trigger", "obj")
    if raw_trigger is not None:
        t = _Obj(raw_trigger, o._p("trigger"), errors, ("command", "probability"))
        trigger = TaskTrigger(
            command=t.get("command", "str", None, nullable=True),
            probability=t.get("probability", "float", None, nullable=True),
        )
    steps: list[TaskStep] = []
    for j, raw in enumerate(o.get("steps", "list") or []):
        s = _Obj(raw, f"{o._p('steps')}[{j}]", errors, ("kind", "ref", "label"))
        kind, ref, label = s.get("kind", "str"), s.get("ref", "str"), s.get("label", "str", "")
        if s.ok and kind is not None and ref is not None and label is not None:
            steps.append(TaskStep(kind=kind, ref=ref, label=label))
    task = Task(
        id=o.get("id", "str") or "",
        title=o.get("title", "str") or "",
        trigger=trigger or TaskTrigger(),
        steps=tuple(steps),
        completion=o.strings("completion") or (),
        idle_timeout_s=_or(o.get("idle_timeout_s", "float", d.idle_timeout_s), 0.0),
        cooldown_s=_or(o.get("cooldown_s", "float", d.cooldown_s), 0.0),
        max_per_day=_or(o.get("max_per_day", "int", d.max_per_day), 0),
        suppress_after_dismissals=_or(
            o.get("suppress_after_dismissals", "int", d.suppress_after_dismissals), 0
        ),
    )
    return task if o.ok and len(errors) == before else None


def _parse_registry(data: Any, path: str, errors: list[str]) -> Registry | None:
    o = _Obj(data, path, errors, ("format", "name", "version", "commands", "regions", "tasks"))
    fmt = o.get("format", "str", FORMAT)
    if fmt is not None and fmt != FORMAT:
        errors.append(f"format: unsupported format {fmt!r}, expected {FORMAT!r}")
    name = o.get("name", "str")
    version = o.get("version", "int", 0)
    commands = [
        _parse_command(raw, f"commands[{i}]", errors)
        for i, raw in enumerate(o.get("commands", "list") or [])
    ]
    regions = [
        _parse_region(raw, f"regions[{i}]", errors)
        for i, raw in enumerate(o.get("regions", "list") or [])
    ]
    tasks = [
        _parse_task(raw, f"tasks[{i}]", errors) for i, raw in enumerate(o.get("tasks", "list", []))
    ]
    if not o.ok or errors:
        return None
    return Registry(
        name=name,
        commands=tuple(c for c in commands if c is not None),
        regions=tuple(r for r in regions if r is not None),
        tasks=tuple(t for t in tasks if t is not None),
        version=version or 0,
    )
