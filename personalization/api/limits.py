"""Every limit the API enforces, in one place, so the docs and the code cannot disagree.

Limits protect the shared engine from one careless or hostile client: a request too big is
refused with 413 before it is parsed; a batch too long, or a field too long, gets 422 naming
the field; a key that sends too fast gets 429 with ``Retry-After``. None of these may ever
become a 500.

Rate limiting uses the maintained ``limits`` package (the engine under ``slowapi``), applied
after authentication so the bucket is the *key*, not an IP address that many clients share.
Buckets live in Redis when ``ADAPTIVE_REDIS_URL`` is set (several workers must share one
budget per key, or each would grant the full limit), else in process memory;
``ADAPTIVE_API_RATE_LIMIT_STORAGE`` overrides either.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from personalization.engine.connections import redis_url

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 2_097_152  # 2 MiB: a full batch of 1,000 maximal events (~1.05 MB) fits
MAX_BATCH = 1000  # events per ingest request
MAX_USER_ID = 63  # external user id; 64 (application) + 1 (":") + 63 = the store's 128
MAX_ID = 64  # region, task, session ids in paths and queries
MAX_PREDICTIONS = 100
DEFAULT_RATE_LIMIT = "1200/minute"
DEFAULT_TOKEN_TTL = 900  # seconds
MAX_TOKEN_TTL = 86_400
DEFAULT_RETRY_AFTER_S = 2  # what a 503 asks clients to wait: a database restart takes seconds
DEFAULT_READY_TIMEOUT_S = 2.0  # per readiness check, so a probe never hangs on a dead host
_REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")
_REDIS_TIMEOUTS = {"socket_connect_timeout": 2.0, "socket_timeout": 2.0}


def default_rate_limit_storage() -> str:
    """Redis when the deployment has one (shared buckets), else this process's memory."""
    return redis_url() or "memory://"


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Knobs a deployment may turn; ``from_env`` reads the ``ADAPTIVE_API_*`` variables."""

    rate_limit: str = DEFAULT_RATE_LIMIT
    rate_limit_storage: str = "memory://"
    max_body_bytes: int = MAX_BODY_BYTES
    max_batch: int = MAX_BATCH
    retry_after_s: int = DEFAULT_RETRY_AFTER_S
    ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S

    @classmethod
    def from_env(cls) -> ApiSettings:
        env = os.environ
        return cls(
            rate_limit=env.get("ADAPTIVE_API_RATE_LIMIT", DEFAULT_RATE_LIMIT),
            rate_limit_storage=env.get("ADAPTIVE_API_RATE_LIMIT_STORAGE", "").strip()
            or default_rate_limit_storage(),
            max_body_bytes=int(env.get("ADAPTIVE_API_MAX_BODY_BYTES", str(MAX_BODY_BYTES))),
            max_batch=int(env.get("ADAPTIVE_API_MAX_BATCH", str(MAX_BATCH))),
            retry_after_s=int(env.get("ADAPTIVE_API_RETRY_AFTER_S", str(DEFAULT_RETRY_AFTER_S))),
            ready_timeout_s=float(
                env.get("ADAPTIVE_API_READY_TIMEOUT_S", str(DEFAULT_READY_TIMEOUT_S))
            ),
        )


class RateLimiter:
    """A moving-window limit per bucket (a key id, or key id + user for per-user tokens)."""

    def __init__(self, limit: str, storage: str = "memory://") -> None:
        self.item: RateLimitItem = parse(limit)
        # Without timeouts a Redis that stopped answering would hang every request; with
        # them it fails fast and the request becomes a 503.
        options = _REDIS_TIMEOUTS if storage.startswith(_REDIS_SCHEMES) else {}
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage, **options))

    def hit(self, bucket: str) -> int | None:
        """Count one request; ``None`` if allowed, else seconds until a retry can pass."""
        if self._limiter.hit(self.item, bucket):
            return None
        stats = self._limiter.get_window_stats(self.item, bucket)
        return max(1, math.ceil(stats.reset_time - time.time()))


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413 before anything parses them.

    Checks ``Content-Length`` first, then counts the bytes actually received (a chunked
    upload has no length). Only paths under ``prefix`` are limited: when Reflex mounts its
    own app inside ours, its upload routes keep their own rules.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, prefix: str = API_PREFIX) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        payload = {
            "error": {
                "code": "body_too_large",
                "message": f"request body is over the limit of {self.max_bytes} bytes; "
                "send fewer events per request",
                "field": None,
            }
        }
        data = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
