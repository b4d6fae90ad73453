"""Where each live session's task panels are kept between requests.

A session's panels must not depend on which backend worker takes a request, so with several
workers they live in Redis (``RedisPanelStore``); embedded in one process they live in a
bounded in-process map (``MemoryPanelStore``). Either way a session is one small JSON record::

    {"panels": TaskPanels.to_dict(), "steps": {task_id: [commands seen]}}

Both stores keep JSON text, never pickles: a record written by another process (or another
version) is data to validate, not code to run. A record that does not validate is discarded
with a warning on stderr and treated as absent, because losing a few on-screen helpers is
better than failing every request of that session.

``locked(user, session)`` serialises one session's read-modify-write: two tabs (or two
workers) advancing the same session must not overwrite each other's progress.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol
from urllib.parse import quote

from personalization.engine.connections import redis_client, redis_url
from personalization.panels.machine import PanelState

SESSIONS_MAX_ENV = "ADAPTIVE_PANEL_SESSIONS_MAX"
DEFAULT_SESSIONS_MAX = 10_000
LOCK_TIMEOUT_S = 5  # a crashed holder frees the session after this; requests are far shorter
LOCK_POLL_S = 0.02  # a second tab of the session waits about this long past the holder

_STATES = frozenset(s.value for s in PanelState)


class PanelStore(Protocol):
    """One session's panel record, shared however widely the store is shared."""

    def load(self, user_id: str, session_id: str) -> dict[str, Any] | None: ...

    def save(self, user_id: str, session_id: str, data: Mapping[str, Any]) -> None: ...

    def delete_user(self, user_id: str) -> int: ...

    def locked(self, user_id: str, session_id: str) -> AbstractContextManager[None]: ...


class MemoryPanelStore:
    """Per-process sessions, bounded: browser sessions are never closed explicitly, so an
    unbounded map would grow with every visitor. The least recently used session goes first;
    losing it only means that person's open panels start afresh."""

    def __init__(self, max_sessions: int = DEFAULT_SESSIONS_MAX) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be at least 1, got {max_sessions}")
        self.max_sessions = max_sessions
        self._records: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._by_user: dict[str, set[str]] = {}  # so erasing one person never scans everyone
        self._lock = threading.Lock()
        # Striped so the lock table never grows with the number of sessions, yet sessions
        # that hash apart do not wait for each other.
        self._session_locks = tuple(threading.RLock() for _ in range(64))

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def load(self, user_id: str, session_id: str) -> dict[str, Any] | None:
        key = (user_id, session_id)
        with self._lock:
            text = self._records.get(key)
            if text is None:
                return None
            self._records.move_to_end(key)
        data = _decode(text, user_id, session_id)
        if data is None:
            self._discard(key)
        return data

    def save(self, user_id: str, session_id: str, data: Mapping[str, Any]) -> None:
        text = _encode(data, user_id, session_id)
        key = (user_id, session_id)
        with self._lock:
            self._records[key] = text
            self._records.move_to_end(key)
            self._by_user.setdefault(user_id, set()).add(session_id)
            while len(self._records) > self.max_sessions:
                old_user, old_session = self._records.popitem(last=False)[0]
                self._unindex(old_user, old_session)

    def delete_user(self, user_id: str) -> int:
        with self._lock:
            sessions = self._by_user.pop(user_id, set())
            for session_id in sessions:
                del self._records[(user_id, session_id)]
            return len(sessions)

    @contextmanager
    def locked(self, user_id: str, session_id: str) -> Iterator[None]:
        with self._session_locks[hash((user_id, session_id)) % len(self._session_locks)]:
            yield

    def _discard(self, key: tuple[str, str]) -> None:
        with self._lock:
            if self._records.pop(key, None) is not None:
                self._unindex(*key)

    def _unindex(self, user_id: str, session_id: str) -> None:
        sessions = self._by_user.get(user_id)
        if sessions is not None:
            sessions.discard(session_id)
            if not sessions:
                del self._by_user[user_id]


class RedisPanelStore:
    """Sessions shared by every worker. Each record expires ``ttl_s`` after its last change
    (abandoned tabs clean themselves up); a per-user set of session ids, which never expires
    before its sessions, lets ``delete_user`` erase one person without a ``SCAN``."""

    def __init__(self, client: Any, *, ttl_s: int = 86_400, prefix: str = "adaptive:panels"):
        if ttl_s < 1:
            raise ValueError(f"ttl_s must be at least 1, got {ttl_s}")
        self.client = client
        self.ttl_s = ttl_s
        self.prefix = prefix

    def load(self, user_id: str, session_id: str) -> dict[str, Any] | None:
        text = self.client.get(self._key(user_id, session_id))
        if text is None:
            return None
        data = _decode(text, user_id, session_id)
        if data is None:
            pipe = self.client.pipeline(transaction=True)
            pipe.delete(self._key(user_id, session_id))
            pipe.srem(self._user_key(user_id), session_id)
            pipe.execute()
        return data

    def save(self, user_id: str, session_id: str, data: Mapping[str, Any]) -> None:
        text = _encode(data, user_id, session_id)
        user_key = self._user_key(user_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self._key(user_id, session_id), text, ex=self.ttl_s)
        pipe.sadd(user_key, session_id)
        pipe.expire(user_key, self.ttl_s)
        pipe.execute()

    def delete_user(self, user_id: str) -> int:
        user_key = self._user_key(user_id)
        keys: list[str] = []

        def erase(pipe: Any) -> None:
            # WATCHed: a session saved between reading the set and deleting would otherwise
            # survive the erasure, unlisted and unreachable by a later delete_user.
            keys[:] = [self._key(user_id, s) for s in pipe.smembers(user_key)]
            pipe.multi()
            if keys:
                pipe.delete(*keys)
            pipe.delete(user_key)

        result = self.client.transaction(erase, user_key)
        return int(result[0]) if keys else 0

    @contextmanager
    def locked(self, user_id: str, session_id: str) -> Iterator[None]:
        """Raises ``redis.exceptions.LockError`` when another worker holds the session for
        longer than ``LOCK_TIMEOUT_S``: a clear error beats a request that hangs. The lock
        expires after as long, so a worker that dies holding it blocks nobody for longer."""
        name = f"{self.prefix}:lock:{_part(user_id)}:{_part(session_id)}"
        lock = self.client.lock(
            name, timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_TIMEOUT_S, sleep=LOCK_POLL_S
        )
        with lock:
            yield

    def _key(self, user_id: str, session_id: str) -> str:
        return f"{self.prefix}:{_part(user_id)}:{_part(session_id)}"

    def _user_key(self, user_id: str) -> str:
        return f"{self.prefix}:user:{_part(user_id)}"


def panel_store_from_env(url: str | None = None) -> MemoryPanelStore | RedisPanelStore:
    """Redis when ``url`` or ``ADAPTIVE_REDIS_URL`` is set (several workers must see the
    same panels), otherwise a per-process store of at most ``ADAPTIVE_PANEL_SESSIONS_MAX``
    sessions."""
    url = url or redis_url()
    if url is not None:
        return RedisPanelStore(redis_client(url))
    raw = os.environ.get(SESSIONS_MAX_ENV, "").strip()
    if not raw:
        return MemoryPanelStore(DEFAULT_SESSIONS_MAX)
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(f"{SESSIONS_MAX_ENV} must be a whole number, got {raw!r}") from None
    if size < 1:
        raise ValueError(f"{SESSIONS_MAX_ENV} must be at least 1, got {size}")
    return MemoryPanelStore(size)


# ---------------------------------------------------------------------- records


def check_record(data: Any, user_id: str, session_id: str) -> None:
    """Raise ``ValueError`` naming the first thing wrong with a session record, so that
    ``TaskPanels.from_dict`` never meets a shape it would crash on (or a record filed under
    someone else's session)."""
    _require(isinstance(data, dict), "record is not a JSON object")
    panels, steps = data.get("panels"), data.get("steps")
    _require(isinstance(panels, dict), "'panels' is not an object")
    _require(panels.get("user_id") == user_id, "'panels.user_id' names another person")
    _require(panels.get("session_id") == session_id, "'panels.session_id' names another session")
    _require(_map_of(panels.get("dismissals", {}), _is_int), "bad 'panels.dismissals'")
    raw_panels = panels.get("panels", [])
    _require(isinstance(raw_panels, list), "'panels.panels' is not a list")
    for raw in raw_panels:
        _require(isinstance(raw, dict), "a panel is not an object")
        _require(isinstance(raw.get("task_id"), str), "a panel has no task_id")
        _require(raw.get("state") in _STATES, f"a panel has an unknown state {raw.get('state')!r}")
        _require(_is_number(raw.get("suggested_at")), "a panel has a bad suggested_at")
        _require(_is_number(raw.get("last_activity")), "a panel has a bad last_activity")
        _require(_list_of(raw.get("done", []), _is_str), "a panel has a bad done list")
        completed = raw.get("completed_at")
        _require(completed is None or _is_number(completed), "a panel has a bad completed_at")
    offers = panels.get("offers", {})
    _require(_map_of(offers, lambda v: _list_of(v, _is_number)), "bad 'panels.offers'")
    _require(_map_of(panels.get("ended_at", {}), _is_number), "bad 'panels.ended_at'")
    _require(_map_of(steps, lambda v: _list_of(v, _is_str)), "bad 'steps'")


def _encode(data: Mapping[str, Any], user_id: str, session_id: str) -> str:
    check_record(dict(data), user_id, session_id)  # a bad record is a bug here: raise
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def _decode(text: str | bytes, user_id: str, session_id: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
        check_record(data, user_id, session_id)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        print(
            f"warning: discarding malformed panel record of {user_id!r}/{session_id!r}: {exc}",
            file=sys.stderr,
        )
        return None
    return data


def _part(value: str) -> str:
    """A key segment that cannot contain ``:`` and is never the literal ``user``, so no id
    can make a session key collide with a per-user set or a lock."""
    part = quote(value, safe="")
    return "%75ser" if part == "user" else part


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _list_of(value: Any, ok: Any) -> bool:
    return isinstance(value, list) and all(ok(v) for v in value)


def _map_of(value: Any, ok: Any) -> bool:
    return isinstance(value, dict) and all(ok(v) for v in value.values())
