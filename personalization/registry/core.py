"""What designers declare: commands, regions with their adaptation policy, and task panels.

The registry is plain data so it can be versioned in the database, diffed, exported as JSON
and edited without touching code. Dataclass constructors store values as given (like
scikit-learn's ``__init__``); :func:`validate` and :meth:`Registry.from_dict` do the checking
and report *every* problem at once, each prefixed with the path of the bad field
(``regions[2].policy.max_moves: must be >= 0``) so a designer can fix a file in one pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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


class RegistryError(ValueError):
    """A registry (or its JSON) is invalid. ``errors`` lists every ``path: problem``."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid registry:\n  " + "\n  ".join(self.errors))


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
        return _parse_or_raise(data, _parse_command)


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
        return _parse_or_raise(data, _parse_policy)


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
        return _parse_or_raise(data, _parse_region)


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
        return _parse_or_raise(data, _parse_task)


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
        raise KeyError(f"unknown region {region_id!r}; known: {[r.id for r in self.regions]}")

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(f"unknown task {task_id!r}; known: {[t.id for t in self.tasks]}")

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
        errors: list[str] = []
        registry = _parse_registry(data, "", errors)
        if not errors and registry is not None:
            errors.extend(validate(registry))
        if errors or registry is None:
            raise RegistryError(errors)
        return registry

    @classmethod
    def from_json(cls, text: str) -> Registry:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegistryError(
                [f"(json) line {exc.lineno}, column {exc.colno}: {exc.msg}"]
            ) from exc
        return cls.from_dict(data)


# --------------------------------------------------------------------------- validation


def validate(registry: Registry) -> list[str]:
    """Semantic checks on an already-typed registry; returns ``path: problem`` strings."""
    errors: list[str] = []
    known: set[str] = set()
    if not registry.name:
        errors.append("name: must not be empty")
    for i, cmd in enumerate(registry.commands):
        p = f"commands[{i}]"
        if not cmd.id:
            errors.append(f"{p}.id: must not be empty")
        elif cmd.id in known:
            errors.append(f"{p}.id: duplicate command id {cmd.id!r}")
        known.add(cmd.id)
        if not cmd.label:
            errors.append(f"{p}.label: must not be empty")
    region_ids: set[str] = set()
    for i, region in enumerate(registry.regions):
        p = f"regions[{i}]"
        if not region.id:
            errors.append(f"{p}.id: must not be empty")
        elif region.id in region_ids:
            errors.append(f"{p}.id: duplicate region id {region.id!r}")
        region_ids.add(region.id)
        if region.slots < 1:
            errors.append(f"{p}.slots: must be >= 1")
        errors.extend(_validate_policy(region.policy, region.slots, known, f"{p}.policy"))
    task_ids: set[str] = set()
    for i, task in enumerate(registry.tasks):
        p = f"tasks[{i}]"
        if not task.id:
            errors.append(f"{p}.id: must not be empty")
        elif task.id in task_ids:
            errors.append(f"{p}.id: duplicate task id {task.id!r}")
        task_ids.add(task.id)
        errors.extend(_validate_task(task, known, p))
    return errors


def _validate_policy(pol: RegionPolicy, slots: int, known: set[str], p: str) -> list[str]:
    errors: list[str] = []
    if not 1 <= pol.visible <= slots:
        errors.append(f"{p}.visible: must be between 1 and the region's slots ({slots})")
    if not 0 <= pol.suggested_slots <= max(pol.visible, 0):
        errors.append(f"{p}.suggested_slots: must be between 0 and visible ({pol.visible})")
    if pol.max_moves < 0:
        errors.append(f"{p}.max_moves: must be >= 0")
    for name in ("min_confidence", "hysteresis", "exploration_rate"):
        value = getattr(pol, name)
        if not 0.0 <= value <= 1.0:
            errors.append(f"{p}.{name}: must be between 0 and 1")
    if pol.hide_unused_after_days is not None and pol.hide_unused_after_days <= 0:
        errors.append(f"{p}.hide_unused_after_days: must be > 0 (or null to never hide)")
    if pol.hide_below_probability is not None and not 0.0 <= pol.hide_below_probability <= 1.0:
        errors.append(f"{p}.hide_below_probability: must be between 0 and 1 (or null)")
    if not pol.apply_on:
        errors.append(f"{p}.apply_on: must list at least one moment")
    if not pol.default_order:
        errors.append(f"{p}.default_order: must list at least one command")
    seen: set[str] = set()
    for j, cid in enumerate(pol.default_order):
        if cid not in known:
            errors.append(f"{p}.default_order[{j}]: unknown command {cid!r}")
        if cid in seen:
            errors.append(f"{p}.default_order[{j}]: duplicate command {cid!r}")
        seen.add(cid)
    order = {c: j for j, c in enumerate(pol.default_order)}
    for j, cid in enumerate(pol.pinned):
        if cid not in order:
            errors.append(f"{p}.pinned[{j}]: {cid!r} is not in default_order")
        elif order[cid] >= pol.visible:
            errors.append(
                f"{p}.pinned[{j}]: {cid!r} is at position {order[cid]} of default_order, "
                f"outside the {pol.visible} visible slots"
            )
    for j, cid in enumerate(pol.never_hide):
        if cid not in order:
            errors.append(f"{p}.never_hide[{j}]: {cid!r} is not in default_order")
    return errors


def _validate_task(task: Task, known: set[str], p: str) -> list[str]:
    errors: list[str] = []
    if not task.title:
        errors.append(f"{p}.title: must not be empty")
    trig = task.trigger
    if trig.command is None and trig.probability is None:
        errors.append(f"{p}.trigger: needs a command or a probability")
    if trig.command is not None and trig.command not in known:
        errors.append(f"{p}.trigger.command: unknown command {trig.command!r}")
    if trig.probability is not None and not 0.0 < trig.probability <= 1.0:
        errors.append(f"{p}.trigger.probability: must be > 0 and <= 1")
    if not task.steps:
        errors.append(f"{p}.steps: must list at least one step")
    for j, step in enumerate(task.steps):
        if step.kind not in ("command", "component"):
            errors.append(f"{p}.steps[{j}].kind: must be 'command' or 'component'")
        if not step.ref:
            errors.append(f"{p}.steps[{j}].ref: must not be empty")
        elif step.kind == "command" and step.ref not in known:
            errors.append(f"{p}.steps[{j}].ref: unknown command {step.ref!r}")
    if not task.completion:
        errors.append(f"{p}.completion: must list at least one command")
    for j, cid in enumerate(task.completion):
        if cid not in known:
            errors.append(f"{p}.completion[{j}]: unknown command {cid!r}")
    if task.idle_timeout_s <= 0:
        errors.append(f"{p}.idle_timeout_s: must be > 0")
    if task.cooldown_s < 0:
        errors.append(f"{p}.cooldown_s: must be >= 0")
    if task.max_per_day < 1:
        errors.append(f"{p}.max_per_day: must be >= 1")
    if task.suppress_after_dismissals < 1:
        errors.append(f"{p}.suppress_after_dismissals: must be >= 1")
    return errors


# --------------------------------------------------------------------------- JSON parsing


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


# --------------------------------------------------------------------------- demo registry


def example_registry() -> Registry:
    """A seeded image/document editor workspace used by the demo app and the tests."""
    groups = {
        "file": [
            ("new", "New", "file-plus"),
            ("open", "Open", "folder-open"),
            ("save", "Save", "save"),
            ("save_as", "Save as", "save-all"),
            ("export_pdf", "Export PDF", "file-output"),
            ("export_png", "Export PNG", "image-down"),
            ("print", "Print", "printer"),
        ],
        "edit": [
            ("undo", "Undo", "undo"),
            ("redo", "Redo", "redo"),
            ("cut", "Cut", "scissors"),
            ("copy", "Copy", "copy"),
            ("paste", "Paste", "clipboard"),
            ("find", "Find", "search"),
            ("replace", "Replace", "replace"),
        ],
        "image": [
            ("crop", "Crop", "crop"),
            ("resize", "Resize", "scaling"),
            ("rotate", "Rotate", "rotate-cw"),
            ("flip", "Flip", "flip-horizontal"),
            ("brightness", "Brightness", "sun"),
            ("filter", "Filters", "sparkles"),
        ],
        "insert": [
            ("insert_table", "Insert table", "table"),
            ("table_rows", "Set table rows", "rows-3"),
            ("table_style", "Table style", "paintbrush"),
            ("insert_image", "Insert image", "image-plus"),
            ("insert_link", "Insert link", "link"),
            ("insert_comment", "Comment", "message-square"),
        ],
        "format": [
            ("bold", "Bold", "bold"),
            ("italic", "Italic", "italic"),
            ("heading", "Heading", "heading"),
            ("align", "Align", "align-left"),
        ],
        "share": [
            ("share", "Share", "share-2"),
            ("share_invite", "Invite people", "user-plus"),
            ("share_link", "Copy share link", "link-2"),
            ("share_permissions", "Set permissions", "lock"),
        ],
    }
    commands = tuple(
        Command(id=cid, label=label, icon=icon, group=group, keywords=(group,))
        for group, items in groups.items()
        for cid, label, icon in items
    )
    every = tuple(c.id for c in commands)
    toolbar_order = (
        "save", "undo", "redo", "crop", "resize", "bold", "insert_table", "share",
        "copy", "paste", "find", "insert_image", "export_pdf", "rotate", "filter",
        "italic", "heading", "insert_link",
    )  # fmt: skip
    regions = (
        Region(
            id="toolbar",
            kind=RegionKind.TOOLBAR,
            slots=10,
            label="Main toolbar",
            policy=RegionPolicy(
                default_order=toolbar_order,
                pinned=("save", "undo"),
                visible=8,
                suggested_slots=2,
                min_confidence=0.25,
                hysteresis=0.1,
                hide_unused_after_days=30,
                never_hide=("redo",),
                max_moves=2,
                exploration_rate=0.0,
            ),
        ),
        Region(
            id="menu",
            kind=RegionKind.MENU,
            slots=len(every),
            label="Edit menu",
            policy=RegionPolicy(
                default_order=every,
                visible=12,
                suggested_slots=3,
                min_confidence=0.15,
                hide_unused_after_days=60,
                never_hide=("save", "open", "print"),
                max_moves=4,
                exploration_rate=0.05,
            ),
        ),
        Region(
            id="palette",
            kind=RegionKind.PALETTE,
            slots=len(every),
            label="Command palette",
            policy=RegionPolicy(
                default_order=every,
                visible=8,
                suggested_slots=5,
                min_confidence=0.05,
                max_moves=8,
                apply_on=(ApplyOn.PAGE_LOAD, ApplyOn.TASK_COMPLETE, ApplyOn.EVERY_EVENT),
            ),
        ),
        Region(
            id="sidebar",
            kind=RegionKind.SIDEBAR,
            slots=6,
            label="Side panel",
            policy=RegionPolicy(
                default_order=("insert_image", "insert_comment", "brightness", "filter", "flip"),
                visible=4,
                suggested_slots=1,
                min_confidence=0.3,
                max_moves=1,
                apply_on=(ApplyOn.PAGE_LOAD,),
            ),
        ),
    )

    def step(ref: str, kind: str = "command") -> TaskStep:
        label = next((c.label for c in commands if c.id == ref), ref)
        return TaskStep(kind=kind, ref=ref, label=label)

    tasks = (
        Task(
            id="insert_table",
            title="Insert a table",
            trigger=TaskTrigger(command="insert_table"),
            steps=(step("insert_table"), step("table_rows"), step("table_style")),
            completion=("table_rows", "table_style"),
            idle_timeout_s=120,
        ),
        Task(
            id="share",
            title="Share this document",
            trigger=TaskTrigger(command="share", probability=0.6),
            steps=(step("share"), step("share_invite"), step("share_permissions")),
            completion=("share_invite", "share_permissions"),
        ),
        Task(
            id="export",
            title="Export",
            trigger=TaskTrigger(probability=0.5),
            steps=(
                step("export_preview", "component"),
                step("export_pdf"),
                step("export_png"),
            ),
            completion=("export_pdf",),
            cooldown_s=1800,
        ),
        Task(
            id="crop_resize",
            title="Crop & resize",
            trigger=TaskTrigger(command="crop"),
            steps=(step("crop"), step("resize"), step("save")),
            completion=("resize", "save"),
            max_per_day=5,
        ),
    )
    return Registry(name="editor-demo", commands=commands, regions=regions, tasks=tasks)
