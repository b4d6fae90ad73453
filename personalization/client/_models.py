"""The API's answers as frozen dataclasses, so callers get attributes and types rather than
JSON dicts whose keys they would have to know. Parsing only: no I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EventResult:
    index: int
    status: str  # "accepted" | "duplicate" | "rejected"
    client_event_id: str | None = None
    field: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Per-event outcome of one or more batches (indexes count across the batches)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    results: tuple[EventResult, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], offset: int = 0) -> IngestResult:
        results = tuple(
            EventResult(**{**r, "index": int(r["index"]) + offset}) for r in data["results"]
        )
        return cls(
            accepted=int(data["accepted"]),
            duplicates=int(data["duplicates"]),
            rejected=int(data["rejected"]),
            results=results,
        )

    def __add__(self, other: IngestResult) -> IngestResult:
        return IngestResult(
            self.accepted + other.accepted,
            self.duplicates + other.duplicates,
            self.rejected + other.rejected,
            self.results + other.results,
        )

    @property
    def rejections(self) -> list[EventResult]:
        return [r for r in self.results if r.status == "rejected"]


@dataclass(frozen=True, slots=True)
class LayoutItem:
    command: str
    label: str
    icon: str
    position: int
    visible: bool
    zone: str
    reason: str
    probability: float | None
    sentence: str


@dataclass(frozen=True, slots=True)
class Layout:
    region: str
    items: tuple[LayoutItem, ...]
    overflow: tuple[str, ...]
    slots: int
    moves: int
    level: str
    registry_version: int
    adapted: bool

    @property
    def visible(self) -> list[LayoutItem]:
        """Visible items in slot order: what to draw."""
        return sorted((i for i in self.items if i.visible), key=lambda i: i.position)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Layout:
        return cls(
            region=data["region"],
            items=tuple(LayoutItem(**i) for i in data["items"]),
            overflow=tuple(data["overflow"]),
            slots=int(data["slots"]),
            moves=int(data["moves"]),
            level=data["level"],
            registry_version=int(data["registry_version"]),
            adapted=bool(data["adapted"]),
        )


@dataclass(frozen=True, slots=True)
class Prediction:
    command: str
    label: str
    probability: float
    reason: str


@dataclass(frozen=True, slots=True)
class PanelStep:
    ref: str
    kind: str
    label: str
    done: bool


@dataclass(frozen=True, slots=True)
class Panel:
    task_id: str
    title: str
    state: str
    steps: tuple[PanelStep, ...]
    progress: float
    pinned: bool
    reason: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Panel:
        return cls(**{**data, "steps": tuple(PanelStep(**s) for s in data["steps"])})


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: str
    level: str
    recording: bool
    retention_days: int
    pins: dict[str, list[str]]
    hidden: dict[str, list[str]]
    control_group: bool


@dataclass(frozen=True, slots=True)
class UserToken:
    token: str
    user_id: str
    scopes: tuple[str, ...]
    expires_at: float
