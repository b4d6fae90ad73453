"""What hosts render: small, JSON-able views built from engine state.

The widgets, the host app and the HTTP API all show the same things (a palette entry, a task
panel with its steps), so the shapes live here once instead of three times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PaletteEntry:
    command: str
    label: str
    group: str
    icon: str
    probability: float
    hidden: bool  # not visible in any region right now: the palette is how to reach it
    reason: str
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class StepView:
    ref: str
    kind: str
    label: str
    done: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PanelView:
    task_id: str
    title: str
    state: str
    steps: tuple[StepView, ...]
    progress: float  # 0..1, share of steps done
    pinned: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["steps"] = [s.to_dict() for s in self.steps]
        return out
