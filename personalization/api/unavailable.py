"""A backing service that is down is the client's cue to wait, not a bug: answer 503.

With the engine on PostgreSQL and Redis, a database restart or a Redis failover is routine.
Left alone, the driver's exception would become a logged 500 ``internal_error``, which tells
a client that retrying is pointless. Instead every request under /api/v1 that fails because
the database or Redis cannot be reached gets ``503 unavailable`` with ``Retry-After``; the
SDK retries those with backoff and resends the same client event ids, so a batch caught by
the outage is stored exactly once when the service is back.

The classification walks ``__cause__``/``__context__``, because engine code may wrap a
driver error in its own exception. Messages name the dependency but never quote the
driver's text, which can hold host names, user names or a URL with its password.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Literal

from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from personalization.api.limits import API_PREFIX

log = logging.getLogger("personalization.api")

Dependency = Literal["database", "redis", "conflict"]

MESSAGES: dict[Dependency, str] = {
    "database": "the database is unreachable; retry later",
    "redis": "Redis is unreachable; retry later",
    # PostgreSQL aborted this transaction to resolve a deadlock or a serialization
    # conflict with another worker: retrying the same request is the documented remedy
    "conflict": "the database aborted a write that conflicted with another one; retry",
}
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization

# SQLite reports "no such table" and syntax errors as OperationalError too: those are bugs.
# Only these mean the file cannot be used right now.
_SQLITE_UNAVAILABLE = (
    "unable to open database",
    "database is locked",
    "disk i/o error",
    "readonly database",
)

# Words of a driver message that are safe to show and say why, in the order tried.
_REASONS = (
    ("connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("timeout", "timed out"),
    ("authentication failed", "authentication failed"),
    ("unable to open database", "unable to open database file"),
    ("database is locked", "database is locked"),
    ("disk i/o error", "disk I/O error"),
    ("readonly database", "read-only database"),
    ("shutting down", "server shutting down"),
    ("starting up", "server starting up"),
    ("terminating connection", "connection terminated by the server"),
    ("closed", "connection closed"),
    ("name or service not known", "unknown host"),
    ("nodename nor servname", "unknown host"),
)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it was raised from or during, without looping."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _sqlite_unavailable(error: BaseException) -> bool:
    text = str(error).lower()
    return any(marker in text for marker in _SQLITE_UNAVAILABLE)


def _database_down(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True  # TimeoutError: no pooled connection came free in time
    if isinstance(error, sa_exc.DBAPIError):
        if isinstance(error.orig, sqlite3.Error):  # SQLite's InterfaceError is a binding bug
            return _sqlite_unavailable(error.orig)
        if error.connection_invalidated:  # the dialect recognised a lost connection
            return True
        return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
    if isinstance(error, sqlite3.OperationalError):
        return _sqlite_unavailable(error)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite-only installs
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def _redis_down(error: BaseException) -> bool:
    try:
        from redis import exceptions as redis_exc
    except ImportError:  # pragma: no cover - without redis-py nothing can raise its errors
        return False
    return isinstance(error, redis_exc.ConnectionError | redis_exc.TimeoutError)


def _conflict(error: BaseException) -> bool:
    orig = getattr(error, "orig", error)
    return getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


def unavailable_dependency(exc: BaseException) -> Dependency | None:
    """Which backing service ``exc`` says is unreachable (or ``conflict``: a retryable
    abort), or None for any other failure."""
    for error in _chain(exc):
        if _conflict(error):
            return "conflict"
        if _redis_down(error):
            return "redis"
        if _database_down(error):
            return "database"
    return None


def short_reason(exc: BaseException) -> str:
    """A few safe words on why a service is unreachable (shown by the unauthenticated
    readiness route, so it is picked from a fixed list, never copied from the driver)."""
    chain = _chain(exc)
    text = " ".join(str(error) for error in chain).lower()
    for marker, reason in _REASONS:
        if marker in text:
            return reason
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(chain[-1]).__name__


def body(dependency: Dependency) -> dict[str, object]:
    return {"error": {"code": "unavailable", "message": MESSAGES[dependency], "field": None}}


class UnavailableMiddleware:
    """Turn an unreachable-service exception from any route or dependency into 503.

    Sits inside Starlette's server-error middleware, which would otherwise render it as a
    500 and re-raise it. Paths outside ``prefix`` (Reflex's own routes when it mounts
    inside this app) keep their behaviour, as for every other error of this API.
    """

    def __init__(self, app: ASGIApp, *, retry_after_s: int, prefix: str = API_PREFIX) -> None:
        self.app = app
        self.retry_after_s = retry_after_s
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            dependency = unavailable_dependency(exc)
            if dependency is None or started:
                raise
            log.warning(
                "%s unreachable on %s %s: %s",
                dependency,
                scope.get("method", "?"),
                scope["path"],
                short_reason(exc),
            )
            await self._answer(send, dependency)

    async def _answer(self, send: Send, dependency: Dependency) -> None:
        data = json.dumps(body(dependency)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                    (b"retry-after", str(self.retry_after_s).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
