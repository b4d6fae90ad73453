"""What hosts render: small, JSON-able views built from engine state.

The widgets, the host app and the HTTP API all show the same things (a palette entry, a task
panel with its steps), so the shapes live here once instead of three times. ``to_dict()`` is
their JSON: an edge (the API's response schema, the widgets' state) adapts it rather than
restating the fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class _View:
    """``to_dict`` for the views: plain JSON types, nested views included (``asdict`` keeps
    tuples, which JSON and the API's schemas spell as lists)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


@dataclass(frozen=True, slots=True)
class PaletteEntry(_View):
    command: str
    label: str
    group: str
    icon: str
    probability: float
    hidden: bool  # not visible in any region right now: the palette is how to reach it
    reason: str
    sentence: str


@dataclass(frozen=True, slots=True)
class StepView(_View):
    ref: str
    kind: str
    label: str
    done: bool


@dataclass(frozen=True, slots=True)
class PanelView(_View):
    task_id: str
    title: str
    state: str
    steps: tuple[StepView, ...]
    progress: float  # 0..1, share of steps done
    pinned: bool
    reason: str
