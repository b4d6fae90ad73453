"""The pure half of recording a batch: who may be recorded, and one answer per input event.

The engine stores only the events it may keep (the signed-in person's own, and only while
their recording is on) but answers for every event of the batch in input order, so a host
can match each answer to what it sent. Keeping that bookkeeping here leaves the facade with
the parts that touch the store and the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from personalization.events import EventRejected, to_epoch
from personalization.store import AppendResult
from personalization.types import Context, Event, EventKind


def refusals(
    batch: Sequence[Mapping[str, Any]], *, user_id: str, recording: bool
) -> dict[int, EventRejected]:
    """Events refused before the store sees them, by batch index: all of them when the
    person turned recording off, else those naming another user."""
    if not recording:
        return {i: EventRejected(i, "user_id", "recording is off") for i in range(len(batch))}
    reason = "events may only be recorded for the signed-in user"
    return {
        i: EventRejected(i, "user_id", reason)
        for i, e in enumerate(batch)
        if e["user_id"] != user_id
    }


def merge(
    batch: Sequence[Mapping[str, Any]],
    *,
    own: Sequence[int],
    refused: Mapping[int, EventRejected],
    stored: AppendResult | None,
) -> AppendResult:
    """One answer per event of ``batch``: the store's answer for the ``own`` events it was
    given (``stored``, indexed by position in ``own``), and ``refused`` for the rest."""
    codes: list[Any] = ["rejected"] * len(batch)
    ids = [e.get("client_event_id") for e in batch]
    rejections = list(refused.values())
    if stored is not None:
        for pos, index in enumerate(own):
            codes[index] = stored.codes[pos]
            ids[index] = stored.client_event_ids[pos]
        rejections += [replace(r, index=own[r.index]) for r in stored.rejections]
    rejections.sort(key=lambda r: r.index)
    return AppendResult(codes=codes, client_event_ids=ids, rejections=rejections)


def epoch(value: Any, *, default: float) -> float:
    """An accepted event's client time as epoch seconds (the store already validated it)."""
    if value is None:
        return default
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return to_epoch(value)
    seconds = float(value)
    return seconds / 1000.0 if seconds > 2e10 else seconds  # JavaScript milliseconds


def accepted_event(user_id: str, raw: Mapping[str, Any], *, now: float) -> Event:
    """The engine's view of a raw event the store accepted (``now`` if it had no time)."""
    return Event(
        user_id=user_id,
        command=raw["command"],
        timestamp=epoch(raw.get("client_time"), default=now),
        context=Context(
            route=raw.get("route"),
            device=raw.get("device"),
            session_id=raw.get("session_id"),
            task_id=raw.get("task_id"),
            region=raw.get("region"),
            component=raw.get("component"),
        ),
        kind=EventKind(raw.get("kind", EventKind.INVOKE)),
    )
