"""Who is calling, for which application and user, and whether they may.

Two kinds of credential, both sent as ``Authorization: Bearer <credential>``:

* **API key** (``ark_...``, see :mod:`personalization.api.keys`): belongs to one application and
  carries scopes. It may act for any user *of its application* and no other: routes name the
  application in the path (``/apps/{application}/...``) and a key of another application is
  refused with 403 before anything is read. Inside the engine the user is
  ``f"{application}:{user_id}"``, so two applications' users can never meet.
* **User token** (``aut_...``): minted by a ``user-data`` key for one user of its application
  (``POST /apps/{a}/users/{u}/tokens``) and handed to that person's browser. It is accepted
  only on that user's own routes, carries at most the ``user-data`` and ``layout`` scopes,
  and expires (15 minutes by default, at most a day). It is an HMAC over
  ``(application, user, scopes, expiry)`` keyed by the minting key's stored hash, a secret
  that never leaves the server, so the server keeps no token table, and revoking the key
  voids every token it minted.

Refusals say what is wrong (missing, unknown, revoked, expired, wrong scope, application or
user) but never reveal anything about other keys, applications or users.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from personalization.api import keys
from personalization.api.errors import ApiError
from personalization.api.limits import RateLimiter

TOKEN_PREFIX = "aut"
TOKEN_SCOPES = frozenset({"user-data", "layout"})

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (`ark_...`) or a per-user token (`aut_...`).",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``user`` is set for user tokens: the only user they serve."""

    kind: Literal["key", "user-token"]
    key_id: str
    application: str
    scopes: frozenset[str]
    user: str | None = None
    expires_at: float | None = None

    @property
    def bucket(self) -> str:
        """Rate-limit bucket: per key, and per user for tokens (one busy browser must not
        use up the budget of the backend that minted its token)."""
        return self.key_id if self.user is None else f"{self.key_id}/{self.user}"


def engine_user_id(application: str, user_id: str) -> str:
    """The engine's user id for an application's user (documented in docs/api.md)."""
    return f"{application}:{user_id}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, message: str) -> str:
    return _b64(hmac.new(secret, message.encode(), hashlib.sha256).digest())


def mint_token(
    *, session: Session, key: Principal, user: str, scopes: frozenset[str], ttl: int, now: float
) -> tuple[str, float]:
    """A token for ``user`` signed with ``key``'s server-side secret; returns it and its
    expiry (epoch seconds)."""
    _info, secret = keys.signing_secret(session=session, key_id=key.key_id)
    expires = float(int(now) + ttl)
    payload = {"a": key.application, "u": user, "s": sorted(scopes), "e": expires}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    head = f"{TOKEN_PREFIX}_{key.key_id}.{body}"
    return f"{head}.{_sign(secret, head)}", expires


@contextmanager
def _key_refusals(*, revoked: str, unknown: str) -> Iterator[None]:
    """The key store's refusals as 401s, each worded for the credential being checked."""
    try:
        yield
    except keys.RevokedKey:
        raise ApiError("revoked_credentials", revoked) from None
    except keys.InvalidKey:
        raise ApiError("invalid_credentials", unknown) from None


def _verify_token(session: Session, token: str, now: float) -> Principal:
    try:
        head, signature = token.rsplit(".", 1)
        prefix_key, body = head.split(".", 1)
        prefix, key_id = prefix_key.split("_", 1)
        if prefix != TOKEN_PREFIX:
            raise ValueError(prefix)
    except ValueError:
        raise ApiError("invalid_credentials", "malformed user token") from None
    with _key_refusals(
        revoked="the key that issued this token was revoked", unknown="unknown user token"
    ):
        info, secret = keys.signing_secret(session=session, key_id=key_id)
    if not hmac.compare_digest(signature, _sign(secret, head)):
        raise ApiError("invalid_credentials", "unknown user token")
    try:
        payload: dict[str, Any] = json.loads(_unb64(body))
        application, user = str(payload["a"]), str(payload["u"])
        scopes, expires = frozenset(payload["s"]), float(payload["e"])
    except (ValueError, KeyError, TypeError):
        raise ApiError("invalid_credentials", "malformed user token") from None
    if expires <= now:
        raise ApiError("expired_token", "this user token expired; ask the app for a new one")
    if application != info.application:
        raise ApiError("invalid_credentials", "unknown user token")
    return Principal(
        kind="user-token",
        key_id=key_id,
        application=application,
        scopes=scopes & info.scopes & TOKEN_SCOPES,
        user=user,
        expires_at=expires,
    )


def authenticate(request: Request, credential: str) -> Principal:
    engine = request.app.state.personalizer().engine
    with Session(engine) as session:
        if credential.startswith(f"{TOKEN_PREFIX}_"):
            return _verify_token(session, credential, time.time())
        with _key_refusals(
            revoked="this API key was revoked; create a new one",
            unknown="unknown or malformed API key",
        ):
            info = keys.verify_key(session=session, key=credential)
    return Principal(
        kind="key", key_id=info.key_id, application=info.application, scopes=info.scopes
    )


def caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
) -> Principal:
    """Authenticate, then count the request against the caller's rate limit."""
    if credentials is None or not credentials.credentials:
        raise ApiError(
            "missing_credentials",
            "send an API key or user token as 'Authorization: Bearer <credential>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(request, credentials.credentials)
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.hit(principal.bucket)
    if wait is not None:
        raise ApiError(
            "rate_limited",
            f"too many requests for this key (limit {limiter.item}); retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    return principal


def _require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise ApiError(
            "missing_scope",
            f"this credential lacks the '{scope}' scope; create a key with --scope {scope}",
        )


def scoped(scope: str, *, tokens: bool = False) -> Callable[..., Principal]:
    """A dependency for routes outside any user: the scope, and keys only unless
    ``tokens``."""

    def dependency(principal: Principal = Depends(caller)) -> Principal:  # noqa: B008
        if principal.kind == "user-token" and not tokens:
            raise ApiError("token_not_allowed", "user tokens cannot use this route; use a key")
        _require_scope(principal, scope)
        return principal

    return dependency


@dataclass(frozen=True, slots=True)
class Access:
    """A caller cleared for one application (and one user on user routes)."""

    principal: Principal
    application: str
    user: str | None

    @property
    def engine_user(self) -> str:
        assert self.user is not None
        return engine_user_id(self.application, self.user)


def for_application(
    scope: str, *, tokens: bool = True, user_route: bool = True
) -> Callable[..., Access]:
    """A dependency for ``/apps/{application}/...`` routes.

    Reads the path parameters raw (before their own validation) so an unauthenticated or
    unauthorised caller learns nothing, not even which ids are well formed.
    """

    def dependency(request: Request, principal: Principal = Depends(caller)) -> Access:  # noqa: B008
        application = str(request.path_params.get("application", ""))
        user = request.path_params.get("user_id") if user_route else None
        if principal.kind == "user-token" and not tokens:
            raise ApiError("token_not_allowed", "user tokens cannot use this route; use a key")
        if application != principal.application:
            raise ApiError(
                "wrong_application",
                "this credential belongs to another application; use that application's "
                "id in the path",
            )
        if principal.user is not None and user != principal.user:
            raise ApiError("wrong_user", "a user token may only act for its own user")
        _require_scope(principal, scope)
        return Access(principal=principal, application=application, user=user)

    return dependency
