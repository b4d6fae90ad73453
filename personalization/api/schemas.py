"""Request and response bodies of the HTTP API (the shapes the OpenAPI document shows).

Ingest is the one place where the schema is documentation rather than a gate: the events of
a batch are declared as ``EventIn`` so clients and schema tools see every field and limit,
but they arrive unvalidated (``SkipValidation``) and the event store validates each one on
its own. That is what lets a batch answer "accepted, duplicate, or rejected with the field
and reason" per event instead of one 422 for the lot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, SkipValidation, StringConstraints

from personalization.api.keys import APPLICATION_PATTERN
from personalization.api.limits import MAX_BATCH, MAX_ID, MAX_TOKEN_TTL, MAX_USER_ID
from personalization.store.events import ID_PATTERN, ClientTime, Device
from personalization.types import EventKind


def _id(max_length: int) -> Any:
    return Annotated[
        str, StringConstraints(min_length=1, max_length=max_length, pattern=ID_PATTERN)
    ]


ExternalUserId = _id(MAX_USER_ID)
Identifier = _id(MAX_ID)
CommandId = _id(128)

ApplicationPath = Annotated[
    str,
    Path(
        description="The application the credential belongs to.",
        min_length=1,
        max_length=64,
        pattern=APPLICATION_PATTERN.pattern,
    ),
]
UserPath = Annotated[
    str,
    Path(
        description="The application's own id for the person (no personal data: use an "
        "opaque id, not an e-mail address). The engine stores it as 'application:user_id'.",
        min_length=1,
        max_length=MAX_USER_ID,
        pattern=ID_PATTERN,
    ),
]
RegionPath = Annotated[
    str, Path(description="A region id from the registry.", max_length=MAX_ID, pattern=ID_PATTERN)
]
TaskPath = Annotated[
    str, Path(description="A task id from the registry.", max_length=MAX_ID, pattern=ID_PATTERN)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- ingest ----------------------------------------------------------------------------------


class EventIn(_Strict):
    """One usage event: a command id and where it ran. Never arguments or free text: every
    text field is an identifier (letters, digits and ``_ . : / -``)."""

    client_event_id: Annotated[
        str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)
    ] = Field(description="Unique per user; a retry with the same id is a duplicate.")
    user_id: ExternalUserId
    command: CommandId
    kind: EventKind = EventKind.INVOKE
    client_time: ClientTime | None = Field(  # type: ignore[valid-type]
        default=None, description="Epoch seconds or ISO-8601 (naive means UTC)."
    )
    component: CommandId | None = None
    region: Identifier | None = None
    route: _id(256) | None = None  # type: ignore[valid-type]
    device: Device | None = None
    session_id: Identifier | None = None
    task_id: Identifier | None = None


class IngestRequest(_Strict):
    events: Annotated[list[SkipValidation[EventIn]], Field(max_length=MAX_BATCH)]


class EventResult(BaseModel):
    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    client_event_id: str | None = None
    field: str | None = None
    reason: str | None = None


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[EventResult]


# -- decisions -------------------------------------------------------------------------------


class LayoutItemOut(BaseModel):
    command: str
    label: str
    icon: str
    position: int
    visible: bool
    zone: Literal["pinned", "suggested", "static", "overflow"]
    reason: str
    probability: float | None
    sentence: str


class LayoutOut(BaseModel):
    region: str
    items: list[LayoutItemOut] = Field(description="Visible slots first, then overflow.")
    overflow: list[str]
    slots: int
    moves: int
    level: Literal["off", "subtle", "full"]
    registry_version: int
    adapted: bool = Field(description="False for the control group and level 'off'.")


class PredictionOut(BaseModel):
    command: str
    label: str
    probability: float
    reason: str


class PredictionsOut(BaseModel):
    predictions: list[PredictionOut]


class StepOut(BaseModel):
    ref: str
    kind: str
    label: str
    done: bool


class PanelOut(BaseModel):
    task_id: str
    title: str
    state: str
    steps: list[StepOut]
    progress: float
    pinned: bool
    reason: str


class PanelsOut(BaseModel):
    panels: list[PanelOut]


PanelAction = Literal["open", "close", "dismiss", "pin", "unpin", "reopen", "interact", "dissolve"]


class PanelActionIn(_Strict):
    action: PanelAction
    session_id: Identifier = "default"


# -- user data -------------------------------------------------------------------------------


class ProfileOut(BaseModel):
    user_id: str
    level: Literal["off", "subtle", "full"]
    recording: bool
    retention_days: int
    pins: dict[str, list[str]]
    hidden: dict[str, list[str]]
    control_group: bool


class ProfilePatch(_Strict):
    """Only the fields sent change. ``recording`` is consent: false stops all recording."""

    recording: bool | None = None
    level: Literal["off", "subtle", "full"] | None = None
    retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class ControlIn(_Strict):
    action: Literal["pin", "unpin", "hide", "unhide"]
    region: Identifier
    command: CommandId


class TokenIn(_Strict):
    ttl_seconds: Annotated[int, Field(ge=60, le=MAX_TOKEN_TTL)] = 900
    scopes: Annotated[list[Literal["user-data", "layout"]], Field(min_length=1, max_length=2)] = [
        "user-data"
    ]


class TokenOut(BaseModel):
    token: str
    user_id: str
    scopes: list[str]
    expires_at: float = Field(description="Epoch seconds.")


class EraseOut(BaseModel):
    deleted: dict[str, int] = Field(description="Rows deleted per table.")


# -- registry and identity -------------------------------------------------------------------


class RegistrySaved(BaseModel):
    version: int


class RegistryVersionOut(BaseModel):
    version: int
    name: str
    checksum: str
    created_at: datetime
    note: str


class MeOut(BaseModel):
    kind: Literal["key", "user-token"]
    key_id: str
    application: str
    scopes: list[str]
    user_id: str | None = None
    expires_at: float | None = None


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyChecks(BaseModel):
    database: str = Field(description='"ok", or "unreachable: <short reason>"')
    redis: str = Field(description='"ok", "not configured", or "unreachable: <short reason>"')


class ReadyOut(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: ReadyChecks
