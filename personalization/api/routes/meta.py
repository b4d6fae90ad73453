"""Liveness, and "who am I" for a credential (lets an SDK find its application)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from personalization.api.auth import Principal, caller
from personalization.api.errors import error_responses
from personalization.api.schemas import HealthOut, MeOut

router = APIRouter(tags=["meta"])


@router.get("/health", summary="Liveness (no credential needed)")
def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get(
    "/me",
    summary="The calling credential: kind, application, scopes (never the secret)",
    responses=error_responses(401, 413, 429),
)
def me(principal: Principal = Depends(caller)) -> MeOut:  # noqa: B008
    return MeOut(
        kind=principal.kind,
        key_id=principal.key_id,
        application=principal.application,
        scopes=sorted(principal.scopes),
        user_id=principal.user,
        expires_at=principal.expires_at,
    )
