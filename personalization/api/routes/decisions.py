"""What a host renders: a region's layout, the ranked predictions and the task panels.

Items carry their label and icon from the registry, so a host that is not Reflex can draw a
region from this one response without fetching the registry too.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query

from personalization.api.errors import error_responses
from personalization.api.limits import MAX_ID, MAX_PREDICTIONS
from personalization.api.routes.deps import UserCall, engine_errors, user_call
from personalization.api.schemas import (
    LayoutItemOut,
    LayoutOut,
    PanelActionIn,
    PanelOut,
    PanelsOut,
    PredictionOut,
    PredictionsOut,
    RegionPath,
    StepOut,
    TaskPath,
)
from personalization.engine.views import PanelView
from personalization.store.events import ID_PATTERN

router = APIRouter(prefix="/apps/{application}/users/{user_id}", tags=["layout"])
_layout = user_call("layout")


# Path ids after the person's, as dependencies: FastAPI lists a route's own parameters before
# its dependencies', and the documented order is application, user, then region or task.
def _region(region: RegionPath) -> str:
    return region


def _task(task_id: TaskPath) -> str:
    return task_id


SessionQuery = Query(
    "default", description="The browser session (tab)", max_length=MAX_ID, pattern=ID_PATTERN
)


@router.get(
    "/layout/{region}",
    summary="The region as this person should see it now",
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
def layout(
    interacting: bool = Query(False, description="The person is using the region: no change."),
    commit: bool = Query(True, description="Keep it as the layout the next decision starts from"),
    moment: Literal["page_load", "task_complete", "idle", "every_event"] = "page_load",
    call: UserCall = Depends(_layout),  # noqa: B008
    region: str = Depends(_region),  # noqa: B008
) -> LayoutOut:
    """Items with their position, visibility, reason code and a sentence saying why."""
    with engine_errors():
        decided = call.engine.layout(
            call.user, region, interacting=interacting, commit=commit, moment=moment
        )
    registry = call.engine.registry
    items = []
    for item in decided.items:
        command = registry.command(item.command)
        items.append(
            LayoutItemOut(
                command=item.command,
                label=command.label if command is not None else item.command,
                icon=command.icon if command is not None else "",
                position=item.position,
                visible=item.visible,
                zone=item.zone,  # type: ignore[arg-type]
                reason=str(item.reason),
                probability=item.probability,
                sentence=item.sentence,
            )
        )
    adapted = decided.level != "off" and not call.engine.in_control_group(call.user)
    return LayoutOut(
        region=decided.region,
        items=items,
        overflow=list(decided.overflow),
        slots=decided.slots,
        moves=decided.moves,
        level=str(decided.level),  # type: ignore[arg-type]
        registry_version=decided.registry_version,
        adapted=adapted,
    )


@router.get(
    "/predictions",
    summary="The commands this person most likely runs next",
    responses=error_responses(401, 403, 413, 422, 429),
)
def predictions(
    k: int = Query(10, ge=1, le=MAX_PREDICTIONS),
    call: UserCall = Depends(_layout),  # noqa: B008
) -> PredictionsOut:
    registry = call.engine.registry
    return PredictionsOut(
        predictions=[
            PredictionOut(
                command=p.command,
                label=registry.label(p.command),
                probability=p.probability,
                reason=p.reason,
            )
            for p in call.engine.predictions(call.user, k=k)
        ]
    )


def _panels(views: list[PanelView]) -> PanelsOut:
    return PanelsOut(
        panels=[
            PanelOut(
                task_id=v.task_id,
                title=v.title,
                state=v.state,
                steps=[
                    StepOut(ref=s.ref, kind=s.kind, label=s.label, done=s.done) for s in v.steps
                ],
                progress=v.progress,
                pinned=v.pinned,
                reason=v.reason,
            )
            for v in views
        ]
    )


@router.get(
    "/panels",
    summary="Task panels that should be on screen (idle timeouts applied)",
    responses=error_responses(401, 403, 413, 422, 429),
)
def panels(
    session_id: str = SessionQuery,
    call: UserCall = Depends(_layout),  # noqa: B008
) -> PanelsOut:
    return _panels(call.engine.tick(call.user, session_id=session_id))


@router.post(
    "/panels/{task_id}",
    summary="Act on a task panel (open, close, dismiss, pin, unpin, reopen, interact, dissolve)",
    responses=error_responses(401, 403, 404, 409, 413, 422, 429),
)
def panel_action(
    body: PanelActionIn,
    call: UserCall = Depends(_layout),  # noqa: B008
    task_id: str = Depends(_task),  # noqa: B008
) -> PanelsOut:
    """Dismissals count as feedback: a task dismissed often is offered less."""
    with engine_errors():
        views = call.engine.panel_action(
            call.user, task_id, body.action, session_id=body.session_id
        )
    return _panels(views)
