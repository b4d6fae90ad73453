"""The pure half of recording a batch: who may be recorded, and one answer per input event.

The engine stores only the events it may keep (the signed-in person's own, and only while
their recording is on) but answers for every event of the batch in input order, so a host
can match each answer to what it sent. Keeping that bookkeeping here leaves the facade with
the parts that touch the store and the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from personalization.store.event_store import AppendResult
from personalization.store.events import EventRejected


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
