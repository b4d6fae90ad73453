"""Value types shared by every part of the engine.

They live in one small module so the store, the predictors, the layout policy, the task
panels and the HTTP API agree on one vocabulary without importing each other. Everything
here is immutable and cheap to hash: predictors keep millions of these in memory.

Personal data rule: an event names a command id and its context, never arguments or free
text. Nothing in these types can carry a user's typed content.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum


class EventKind(StrEnum):
    """What happened. Only ``INVOKE`` teaches the next-command model directly; the others
    are feedback for layout and task panels."""

    INVOKE = "invoke"
    DISMISS = "dismiss"
    PANEL_SUGGESTED = "panel_suggested"
    PANEL_OPENED = "panel_opened"
    PANEL_COMPLETED = "panel_completed"
    PANEL_DISMISSED = "panel_dismissed"
    PANEL_EXPIRED = "panel_expired"
    PIN = "pin"
    UNPIN = "unpin"
    HIDE = "hide"
    UNHIDE = "unhide"


@dataclass(frozen=True, slots=True)
class Context:
    """Where a command ran. All optional: imported logs often carry none of it."""

    route: str | None = None
    device: str | None = None
    session_id: str | None = None
    task_id: str | None = None
    region: str | None = None
    component: str | None = None


EMPTY_CONTEXT = Context()
CONTEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Context))
"""The context's field names, read from ``Context`` itself so the log format, the store's
columns and the models' keys cannot drift from it when a field is added."""


@dataclass(frozen=True, slots=True)
class Event:
    """One usage event in memory (the store's rows convert to and from this).

    ``timestamp`` is seconds since the epoch, or ``None`` when a log has only an order.
    """

    user_id: str
    command: str
    timestamp: float | None = None
    context: Context = EMPTY_CONTEXT
    kind: EventKind = EventKind.INVOKE


@dataclass(frozen=True, slots=True)
class Prediction:
    """One ranked command: its probability of being next and why the model thinks so.

    ``reason`` is a short code (``SEQUENCE``, ``FREQUENT``, ``RECENT``, ``POPULAR``,
    ``SIMILAR``, ``CONTEXT``) that the layout turns into a sentence for people.
    """

    command: str
    probability: float
    reason: str = "FREQUENT"


@dataclass(frozen=True, slots=True)
class CommandMeta:
    """What a designer says about a command; lets a model rank commands nobody used yet."""

    id: str
    label: str = ""
    group: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)
