"""What makes a registry sound beyond its types: known command ids, slots that fit, sane rates.

:func:`validate` checks an already-typed :class:`~personalization.registry.model.Registry`
and returns *every* problem as ``path: problem`` (``regions[2].policy.max_moves: must be
>= 0``), so a designer fixes a file in one pass; the parser and the registry store raise
:class:`RegistryError` with that list. Imports only the registry's model and
``personalization.errors``.
"""

from __future__ import annotations

from personalization.errors import RegistryError as RegistryError  # re-exported
from personalization.registry.model import RegionPolicy, Registry, Task


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
