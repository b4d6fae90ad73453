"""Where shared state lives: the database URL (``ADAPTIVE_DB_URL``) and the optional Redis
URL (``ADAPTIVE_REDIS_URL``).

Redis is optional by design: with no URL the engine runs embedded in one process (SQLite,
per-process panel sessions and rate limits), as ``make run`` does. With several backend
processes a Redis URL is required for what must be shared but need not be durable (task
panel sessions, rate-limit buckets, cache invalidation messages); everything durable lives in
the database either way.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

REDIS_ENV = "ADAPTIVE_REDIS_URL"

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def redis_url() -> str | None:
    """The configured Redis URL, or None when the engine runs without Redis."""
    url = os.environ.get(REDIS_ENV, "").strip()
    return url or None


def redis_client(url: str | None = None) -> Any | None:
    """One shared ``redis.Redis`` per URL and process (its connection pool is thread-safe),
    or None without a URL. Commands fail fast (2 s) so an unreachable Redis becomes a clear
    error instead of a hung request."""
    url = url or redis_url()
    if url is None:
        return None
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import redis  # imported lazily: embedded use never needs it

            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=2.0,
                socket_timeout=2.0,
                health_check_interval=30,
                decode_responses=True,
            )
            _clients[url] = client
        return client


def reset_clients() -> None:
    """Forget cached clients (after a fork, or in tests that restart Redis on a new port)."""
    with _clients_lock:
        for client in _clients.values():
            with contextlib.suppress(Exception):  # closing a dead connection must not raise
                client.close()
        _clients.clear()
