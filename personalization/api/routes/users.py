"""A person's own data and controls: profile, consent and level, pins and hides, reset,
export, erasure, and the short-lived token that lets their own browser do all of this."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends
from sqlmodel import Session

from personalization.api.auth import mint_token
from personalization.api.errors import ApiError, error_responses
from personalization.api.routes.deps import UserCall, engine_errors, user_call
from personalization.api.schemas import (
    ControlIn,
    EraseOut,
    ProfileOut,
    ProfilePatch,
    TokenIn,
    TokenOut,
)
from personalization.profile import UserProfile

router = APIRouter(prefix="/apps/{application}/users/{user_id}", tags=["user data"])
_user_data = user_call("user-data")
_keys_only = user_call("user-data", tokens=False)
_COMMON = (401, 403, 413, 422, 429)


def _profile(call: UserCall, profile: UserProfile) -> ProfileOut:
    return ProfileOut(
        user_id=call.access.user or "",
        level=str(profile.level),  # type: ignore[arg-type]
        recording=profile.recording,
        retention_days=profile.retention_days,
        pins={k: list(v) for k, v in profile.pins.items()},
        hidden={k: list(v) for k, v in profile.hidden.items()},
        control_group=call.engine.in_control_group(call.user),
    )


@router.get(
    "/profile",
    summary="Consent, level, retention, pins and hides",
    responses=error_responses(*_COMMON),
)
def get_profile(call: UserCall = Depends(_user_data)) -> ProfileOut:  # noqa: B008
    return _profile(call, call.engine.profile(call.user))


@router.patch(
    "/profile",
    summary="Change consent (recording), personalization level or retention",
    responses=error_responses(*_COMMON),
)
def patch_profile(body: ProfilePatch, call: UserCall = Depends(_user_data)) -> ProfileOut:  # noqa: B008
    engine, uid = call.engine, call.user
    if body.recording is not None:
        engine.set_recording(uid, body.recording)
    if body.level is not None:
        engine.set_level(uid, body.level)
    if body.retention_days is not None:
        engine.set_retention(uid, body.retention_days)
    return _profile(call, engine.profile(uid))


@router.post(
    "/controls",
    summary="Pin, unpin, hide or unhide a command in a region",
    responses=error_responses(401, 403, 404, 409, 413, 422, 429),
)
def control(body: ControlIn, call: UserCall = Depends(_user_data)) -> ProfileOut:  # noqa: B008
    """User controls always beat the model; hiding a command the designer protects is
    refused with 409."""
    change = getattr(call.engine, body.action)
    with engine_errors():
        profile = change(call.user, region=body.region, command=body.command)
    return _profile(call, profile)


@router.post(
    "/reset",
    summary="Forget the learned ranking, pins and hides (history is kept)",
    responses=error_responses(*_COMMON),
)
def reset(call: UserCall = Depends(_user_data)) -> ProfileOut:  # noqa: B008
    return _profile(call, call.engine.reset(call.user))


@router.get(
    "/export",
    summary="Everything held about this person, as JSON",
    responses=error_responses(*_COMMON),
)
def export(call: UserCall = Depends(_user_data)) -> dict[str, Any]:  # noqa: B008
    """Every row of every table holding personal data (events, profile, layouts, learned
    state), plus the current profile and predictions. User ids appear in their engine form
    ``application:user_id``."""
    return call.engine.export_user(call.user)


@router.delete(
    "",
    summary="Erase this person: events and everything learned from them",
    responses=error_responses(*_COMMON),
)
def erase(call: UserCall = Depends(_user_data)) -> EraseOut:  # noqa: B008
    """Afterwards the person gets the designer default layout, as a new user would."""
    return EraseOut(deleted=call.engine.erase_user(call.user))


@router.post(
    "/tokens",
    summary="Mint a short-lived token for this person's own browser",
    responses=error_responses(*_COMMON),
)
def mint(body: TokenIn, call: UserCall = Depends(_keys_only)) -> TokenOut:  # noqa: B008
    """Needs a key with ``user-data`` (a token cannot mint tokens). The token works only on
    this user's routes, with the requested scopes (``user-data``, ``layout``) that the key
    also holds."""
    principal, user_id = call.access.principal, call.access.user or ""
    scopes = frozenset(body.scopes)
    missing = sorted(scopes - principal.scopes)
    if missing:
        raise ApiError("missing_scope", f"the key cannot grant scope(s) {missing} it does not hold")
    with Session(call.engine.engine) as session:
        token, expires = mint_token(
            session=session,
            key=principal,
            user=user_id,
            scopes=scopes,
            ttl=body.ttl_seconds,
            now=time.time(),
        )
    return TokenOut(token=token, user_id=user_id, scopes=sorted(scopes), expires_at=expires)
