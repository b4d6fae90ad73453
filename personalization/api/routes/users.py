"""A person's own data and controls: profile, consent and level, pins and hides, reset,
export, erasure, and the short-lived token that lets their own browser do all of this."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends
from sqlmodel import Session

from personalization.api.auth import Access, for_application, mint_token
from personalization.api.errors import ApiError, error_responses
from personalization.api.routes.deps import engine_errors, personalizer
from personalization.api.schemas import (
    ApplicationPath,
    ControlIn,
    EraseOut,
    ProfileOut,
    ProfilePatch,
    TokenIn,
    TokenOut,
    UserPath,
)
from personalization.profile import UserProfile
from personalization.service import Personalizer

router = APIRouter(prefix="/apps/{application}/users/{user_id}", tags=["user data"])
_user_data = for_application("user-data")
_keys_only = for_application("user-data", tokens=False)
_COMMON = (401, 403, 413, 422, 429)


def _profile(access: Access, profile: UserProfile, engine: Personalizer) -> ProfileOut:
    return ProfileOut(
        user_id=access.user or "",
        level=str(profile.level),  # type: ignore[arg-type]
        recording=profile.recording,
        retention_days=profile.retention_days,
        pins={k: list(v) for k, v in profile.pins.items()},
        hidden={k: list(v) for k, v in profile.hidden.items()},
        control_group=engine.in_control_group(access.engine_user),
    )


@router.get(
    "/profile",
    response_model=ProfileOut,
    summary="Consent, level, retention, pins and hides",
    responses=error_responses(*_COMMON),
)
def get_profile(
    application: ApplicationPath,
    user_id: UserPath,
    access: Access = Depends(_user_data),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> ProfileOut:
    return _profile(access, engine.profile(access.engine_user), engine)


@router.patch(
    "/profile",
    response_model=ProfileOut,
    summary="Change consent (recording), personalization level or retention",
    responses=error_responses(*_COMMON),
)
def patch_profile(
    application: ApplicationPath,
    user_id: UserPath,
    body: ProfilePatch,
    access: Access = Depends(_user_data),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> ProfileOut:
    uid = access.engine_user
    if body.recording is not None:
        engine.set_recording(uid, body.recording)
    if body.level is not None:
        engine.set_level(uid, body.level)
    if body.retention_days is not None:
        engine.set_retention(uid, body.retention_days)
    return _profile(access, engine.profile(uid), engine)


@router.post(
    "/controls",
    response_model=ProfileOut,
    summary="Pin, unpin, hide or unhide a command in a region",
    responses=error_responses(401, 403, 404, 409, 413, 422, 429),
)
def control(
    application: ApplicationPath,
    user_id: UserPath,
    body: ControlIn,
    access: Access = Depends(_user_data),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> ProfileOut:
    """User controls always beat the model; hiding a command the designer protects is
    refused with 409."""
    change = getattr(engine, body.action)
    with engine_errors():
        profile = change(access.engine_user, region=body.region, command=body.command)
    return _profile(access, profile, engine)


@router.post(
    "/reset",
    response_model=ProfileOut,
    summary="Forget the learned ranking, pins and hides (history is kept)",
    responses=error_responses(*_COMMON),
)
def reset(
    application: ApplicationPath,
    user_id: UserPath,
    access: Access = Depends(_user_data),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> ProfileOut:
    return _profile(access, engine.reset(access.engine_user), engine)


@router.get(
    "/export",
    response_model=dict[str, Any],
    summary="Everything held about this person, as JSON",
    responses=error_responses(*_COMMON),
)
def export(
    application: ApplicationPath,
    user_id: UserPath,
    access: Access = Depends(_user_data),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> dict[str, Any]:
    """Every row of every table holding personal data (events, profile, layouts, learned
    state), plus the current profile and predictions. User ids appear in their engine form
    ``application:user_id``."""
    return engine.export_user(access.engine_user)


@router.delete(
    "",
    response_model=EraseOut,
    summary="Erase this person: events and everything learned from them",
    responses=error_responses(*_COMMON),
)
def erase(
    application: ApplicationPath,
    user_id: UserPath,
    access: Access = Depends(_user_data),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> EraseOut:
    """Afterwards the person gets the designer default layout, as a new user would."""
    return EraseOut(deleted=engine.erase_user(access.engine_user))


@router.post(
    "/tokens",
    response_model=TokenOut,
    summary="Mint a short-lived token for this person's own browser",
    responses=error_responses(*_COMMON),
)
def mint(
    application: ApplicationPath,
    user_id: UserPath,
    body: TokenIn,
    access: Access = Depends(_keys_only),  # noqa: B008
    engine: Personalizer = Depends(personalizer),  # noqa: B008
) -> TokenOut:
    """Needs a key with ``user-data`` (a token cannot mint tokens). The token works only on
    this user's routes, with the requested scopes (``user-data``, ``layout``) that the key
    also holds."""
    scopes = frozenset(body.scopes)
    missing = sorted(scopes - access.principal.scopes)
    if missing:
        raise ApiError("missing_scope", f"the key cannot grant scope(s) {missing} it does not hold")
    with Session(engine.engine) as session:
        token, expires = mint_token(
            session=session,
            key=access.principal,
            user=user_id,
            scopes=scopes,
            ttl=body.ttl_seconds,
            now=time.time(),
        )
    return TokenOut(token=token, user_id=user_id, scopes=sorted(scopes), expires_at=expires)
