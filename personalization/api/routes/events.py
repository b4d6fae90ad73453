"""``POST /apps/{application}/events``: batched, idempotent ingest with a result per event.

A server-side sender batches events of many users. The batch is grouped by user and goes to
``Personalizer.record_many`` whole (one append, each person's consent checked and model
updated once), and the answers are put back in input order. The response is sent only
after the append committed: a client that saw it can forget the batch; one that did not
retries it whole with the same client event ids, and what was already stored comes back
as ``duplicate``.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import TypeAdapter, ValidationError

from personalization.api.auth import Access, engine_user_id, for_application
from personalization.api.errors import error_responses
from personalization.api.limits import MAX_USER_ID
from personalization.api.routes.deps import personalizer
from personalization.api.schemas import (
    ApplicationPath,
    EventResult,
    IngestRequest,
    IngestResponse,
)
from personalization.engine.personalizer import Personalizer
from personalization.store.events import ID_PATTERN, ClientTime

router = APIRouter(tags=["events"])
_ID = re.compile(ID_PATTERN)
_TIME: TypeAdapter[float] = TypeAdapter(ClientTime)
_EMPTY_RESULT = dict.fromkeys(EventResult.model_fields)


def _with_time(raw: dict[str, Any], user: str) -> dict[str, Any]:
    """The event for the engine: its user id, and an ISO ``client_time`` turned into epoch
    seconds here. ``Personalizer.record`` learns from the raw input after storing it and
    reads times only as numbers or datetimes; an invalid string is left for the store to
    reject with its reason."""
    event = {**raw, "user_id": user}
    value = event.get("client_time")
    if isinstance(value, str):
        with suppress(ValidationError):
            event["client_time"] = _TIME.validate_python(value)
    return event


def _user_problem(value: Any) -> str | None:
    if value is None:
        return "Field required"
    if not isinstance(value, str):
        return "Input should be a valid string"
    if not 1 <= len(value) <= MAX_USER_ID:
        return f"must be 1-{MAX_USER_ID} characters"
    if not _ID.match(value):
        return "must be an identifier (letters, digits and _ . : / -), not free text"
    return None


@router.post(
    "/apps/{application}/events",
    summary="Record a batch of usage events",
    response_model=IngestResponse,
    responses=error_responses(401, 403, 413, 422, 429),
)
def ingest(
    application: ApplicationPath,
    body: IngestRequest,
    access: Access = Depends(for_application("ingest", tokens=False, user_route=False)),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> Response:
    """Store up to 1,000 events; each gets ``accepted``, ``duplicate`` (its client event id
    was seen before for that user) or ``rejected`` with the field and reason. A bad event
    never stops the others. Events of a person who turned recording off are rejected."""
    events = body.events
    results: list[dict[str, Any]] = [{"index": i, "status": "rejected"} for i in range(len(events))]
    groups: dict[str, list[int]] = {}
    for index, raw in enumerate(events):
        if not isinstance(raw, dict):
            results[index].update(field="(event)", reason="must be a JSON object")
            continue
        cid = raw.get("client_event_id")
        if isinstance(cid, str) and len(cid) <= 64:
            results[index]["client_event_id"] = cid
        problem = _user_problem(raw.get("user_id"))
        if problem is not None:
            results[index].update(field="user_id", reason=problem)
            continue
        groups.setdefault(raw["user_id"], []).append(index)
    # one append and one learning pass for the whole batch, whoever's events it holds
    batches = {
        engine_user_id(access.application, user): [
            _with_time(events[i], engine_user_id(access.application, user))  # type: ignore[arg-type]
            for i in indexes
        ]
        for user, indexes in groups.items()
    }
    answers = engine.record_many(batches)
    for user, indexes in groups.items():
        part = answers[engine_user_id(access.application, user)]
        why = {r.index: r for r in part.rejections}
        for pos, index in enumerate(indexes):
            results[index]["status"] = part.codes[pos]
            if part.client_event_ids[pos] is not None:
                results[index]["client_event_id"] = part.client_event_ids[pos]
            rejection = why.get(pos)
            if rejection is not None:
                results[index].update(field=rejection.field, reason=rejection.reason)
    statuses = [r["status"] for r in results]
    body = {
        "accepted": statuses.count("accepted"),
        "duplicates": statuses.count("duplicate"),
        "rejected": statuses.count("rejected"),
        "results": [{**_EMPTY_RESULT, **r} for r in results],
    }
    # Built here, in the documented shape, rather than as 1,000 ``EventResult`` models that
    # FastAPI would validate again: that was a fifth of the route's time at batches of 100.
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")
