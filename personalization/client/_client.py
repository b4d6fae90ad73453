"""``Client`` (blocking) and ``AsyncClient`` (asyncio): the SDK's two entry points.

Both keep events in one bounded buffer and describe every API operation as a ``_Call``
(in ``_Base``, shared), so they differ only in how they wait: sending and retrying is in
``_transport``. A batch leaves the buffer only once the server acknowledged it, and each
event's id is minted once when it is recorded, so a resend after a lost answer is reported
as a duplicate, never stored twice.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

import httpx

from personalization.client._exceptions import BufferFullError
from personalization.client._models import (
    IngestResult,
    Layout,
    Panel,
    Prediction,
    Profile,
    UserToken,
)
from personalization.client._transport import (
    API,
    RetryPolicy,
    _Call,
    call_with_retries,
    call_with_retries_async,
)
from personalization.types import Context

_ID = re.compile(r"^[A-Za-z0-9_.:/-]+$")
_LIMITS = {
    "user_id": 63,
    "command": 128,
    "client_event_id": 64,
    "component": 128,
    "region": 64,
    "route": 256,
    "session_id": 64,
    "task_id": 64,
}
# The engine's field list, not a copy of it: when ``Context`` gains a field, ``record``
# fails on every call (a KeyError in ``_event``) until it takes that field too.
_CONTEXT = tuple(f.name for f in fields(Context))


def _check_id(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value or len(value) > _LIMITS[name]:
        raise ValueError(f"{name}: must be a string of 1-{_LIMITS[name]} characters")
    if not _ID.match(value):
        raise ValueError(
            f"{name}: must be an identifier (letters, digits, _ . : / -), got {value!r}"
        )


class _Base:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        application: str = "default",
        batch_size: int = 100,
        max_buffer: int = 10_000,
        on_overflow: Callable[[dict[str, Any]], None] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = 10.0,
    ) -> None:
        if not 1 <= batch_size <= 1000:
            raise ValueError("batch_size: must be within 1..1000 (the server's batch limit)")
        if max_buffer < batch_size:
            raise ValueError("max_buffer: must be at least batch_size")
        self.base_url = base_url.rstrip("/")
        self.application = application
        self.batch_size = batch_size
        self.max_buffer = max_buffer
        self.on_overflow = on_overflow
        self.retry = retry or RetryPolicy()
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._timeout = timeout
        self._buffer: deque[dict[str, Any]] = deque()
        self._buffer_lock = threading.Lock()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def _event(
        self,
        user_id: str,
        command: str,
        kind: str,
        client_event_id: str | None,
        client_time: float | datetime | None,
        context: Mapping[str, str | None],
    ) -> dict[str, Any]:
        """The event as sent; ``context`` maps every ``_CONTEXT`` field to its value."""
        event: dict[str, Any] = {
            "client_event_id": client_event_id or uuid.uuid4().hex,
            "user_id": user_id,
            "command": command,
            "kind": kind,
        }
        when = time.time() if client_time is None else client_time
        event["client_time"] = when.isoformat() if isinstance(when, datetime) else when
        for name in _CONTEXT:
            if (value := context[name]) is not None:
                event[name] = value
        for name, value in event.items():
            if name in _LIMITS:
                _check_id(name, value)
        return event

    def _enqueue(self, event: dict[str, Any]) -> bool:
        """Buffer ``event``; True when a full batch is waiting."""
        with self._buffer_lock:
            if len(self._buffer) >= self.max_buffer:
                if self.on_overflow is None:
                    raise BufferFullError(
                        f"{self.max_buffer} events are waiting to be sent; flush() first"
                    )
                overflow = True
            else:
                self._buffer.append(event)
                overflow = False
            full = len(self._buffer) >= self.batch_size
        if overflow:  # dropped: hand it over, and leave sending to the next flush
            assert self.on_overflow is not None
            self.on_overflow(event)
            return False
        return full

    def _peek(self) -> list[dict[str, Any]]:
        with self._buffer_lock:
            return [self._buffer[i] for i in range(min(self.batch_size, len(self._buffer)))]

    def _drop(self, count: int) -> None:
        with self._buffer_lock:
            for _ in range(count):
                self._buffer.popleft()

    def _user(self, user_id: str) -> str:
        _check_id("user_id", user_id)
        return f"{API}/apps/{self.application}/users/{user_id}"

    # Request specs: one per API operation, shared by both clients.

    def _ingest_call(self, events: list[dict[str, Any]], offset: int) -> _Call:
        return _Call(
            "POST",
            f"{API}/apps/{self.application}/events",
            lambda d: IngestResult.from_dict(d, offset),
            json={"events": events},
        )

    def _layout_call(self, user_id: str, region: str, interacting: bool, commit: bool) -> _Call:
        params = {"interacting": interacting, "commit": commit}
        return _Call("GET", f"{self._user(user_id)}/layout/{region}", Layout.from_dict, params)

    def _predictions_call(self, user_id: str, k: int) -> _Call:
        return _Call(
            "GET",
            f"{self._user(user_id)}/predictions",
            lambda d: [Prediction(**p) for p in d["predictions"]],
            {"k": k},
        )

    def _panels_call(self, user_id: str, session_id: str) -> _Call:
        return _Call("GET", f"{self._user(user_id)}/panels", _panels, {"session_id": session_id})

    def _panel_action_call(self, user_id: str, task_id: str, action: str, session_id: str) -> _Call:
        return _Call(
            "POST",
            f"{self._user(user_id)}/panels/{task_id}",
            _panels,
            json={"action": action, "session_id": session_id},
            idempotent=False,
        )

    def _profile_call(self, user_id: str, changes: dict[str, Any] | None = None) -> _Call:
        if changes is None:
            return _Call("GET", f"{self._user(user_id)}/profile", _profile)
        return _Call("PATCH", f"{self._user(user_id)}/profile", _profile, json=changes)

    def _control_call(self, user_id: str, action: str, region: str, command: str) -> _Call:
        body = {"action": action, "region": region, "command": command}
        return _Call("POST", f"{self._user(user_id)}/controls", _profile, json=body)

    def _token_call(self, user_id: str, ttl_seconds: int, scopes: Iterable[str]) -> _Call:
        return _Call(
            "POST",
            f"{self._user(user_id)}/tokens",
            lambda d: UserToken(d["token"], d["user_id"], tuple(d["scopes"]), d["expires_at"]),
            json={"ttl_seconds": ttl_seconds, "scopes": list(scopes)},
        )

    def _export_call(self, user_id: str) -> _Call:
        return _Call("GET", f"{self._user(user_id)}/export", dict)

    def _erase_call(self, user_id: str) -> _Call:
        return _Call("DELETE", self._user(user_id), lambda d: dict(d["deleted"]))

    def _batches(self, events: list[dict[str, Any]]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """``send``'s batches with the index of their first event."""
        for start in range(0, len(events), self.batch_size):
            yield start, events[start : start + self.batch_size]


def _registry_save_call(registry: Mapping[str, Any], note: str) -> _Call:
    return _Call(
        "PUT", f"{API}/registry", lambda d: int(d["version"]), {"note": note}, json=dict(registry)
    )


def _panels(data: Mapping[str, Any]) -> list[Panel]:
    return [Panel.from_dict(p) for p in data["panels"]]


def _profile(data: Mapping[str, Any]) -> Profile:
    return Profile(**data)


def _changes(recording: bool | None, level: str | None, retention: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if recording is not None:
        out["recording"] = recording
    if level is not None:
        out["level"] = level
    if retention is not None:
        out["retention_days"] = retention
    return out


def _registry_save_call(registry: Mapping[str, Any], note: str) -> _Call:
    return _Call(
        "PUT", f"{API}/registry", lambda d: int(d["version"]), {"note": note}, json=dict(registry)
    )


def _panels(data: Mapping[str, Any]) -> list[Panel]:
    return [Panel.from_dict(p) for p in data["panels"]]


def _profile(data: Mapping[str, Any]) -> Profile:
    return Profile(**data)


def _changes(recording: bool | None, level: str | None, retention: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if recording is not None:
        out["recording"] = recording
    if level is not None:
        out["level"] = level
    if retention is not None:
        out["retention_days"] = retention
    return out


# -- sync ------------------------------------------------------------------------------------


class Client(_Base):
    """Blocking client. Thread-safe: ``record`` from any thread; one flush at a time."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, api_key, **options)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=self._headers,
            timeout=self._timeout,
            transport=transport,
        )
        self._flush_lock = threading.Lock()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush what is buffered, then close the connection pool."""
        try:
            if self._buffer:
                self.flush()
        finally:
            self._http.close()

    def _call(self, call: _Call) -> Any:
        return call_with_retries(self._http, call, self.retry)

    # events

    def record(
        self,
        user_id: str,
        command: str,
        *,
        kind: str = "invoke",
        client_event_id: str | None = None,
        client_time: float | datetime | None = None,
        region: str | None = None,
        component: str | None = None,
        route: str | None = None,
        device: str | None = None,
        session_id: str | None = None,
        task_id: str | None = None,
    ) -> str:
        """Buffer one event (sent when a batch is full); returns its client event id."""
        context = {
            "region": region,
            "component": component,
            "route": route,
            "device": device,
            "session_id": session_id,
            "task_id": task_id,
        }
        event = self._event(user_id, command, kind, client_event_id, client_time, context)
        if self._enqueue(event):
            self.flush()
        return event["client_event_id"]

    def flush(self) -> IngestResult:
        """Send everything buffered, batch by batch; a batch leaves the buffer once the
        server acknowledged it."""
        total = IngestResult()
        with self._flush_lock:
            while batch := self._peek():
                total = total + self._call(self._ingest_call(batch, len(total.results)))
                self._drop(len(batch))
        return total

    def send(self, events: list[dict[str, Any]]) -> IngestResult:
        """Send prepared events now (no buffer), in batches of ``batch_size``; each event
        needs ``client_event_id``, ``user_id`` and ``command``."""
        total = IngestResult()
        for start, part in self._batches(events):
            total = total + self._call(self._ingest_call(part, start))
        return total

    # decisions

    def layout(
        self, user_id: str, region: str, *, interacting: bool = False, commit: bool = True
    ) -> Layout:
        return self._call(self._layout_call(user_id, region, interacting, commit))

    def predictions(self, user_id: str, *, k: int = 10) -> list[Prediction]:
        return self._call(self._predictions_call(user_id, k))

    def panels(self, user_id: str, *, session_id: str = "default") -> list[Panel]:
        return self._call(self._panels_call(user_id, session_id))

    def panel_action(
        self, user_id: str, task_id: str, action: str, *, session_id: str = "default"
    ) -> list[Panel]:
        return self._call(self._panel_action_call(user_id, task_id, action, session_id))

    # user data

    def profile(self, user_id: str) -> Profile:
        return self._call(self._profile_call(user_id))

    def update_profile(
        self,
        user_id: str,
        *,
        recording: bool | None = None,
        level: str | None = None,
        retention_days: int | None = None,
    ) -> Profile:
        changes = _changes(recording, level, retention_days)
        return self._call(self._profile_call(user_id, changes))

    def control(self, user_id: str, action: str, *, region: str, command: str) -> Profile:
        """``action``: pin, unpin, hide or unhide."""
        return self._call(self._control_call(user_id, action, region, command))

    def export_user(self, user_id: str) -> dict[str, Any]:
        return self._call(self._export_call(user_id))

    def erase_user(self, user_id: str) -> dict[str, int]:
        return self._call(self._erase_call(user_id))

    def user_token(
        self, user_id: str, *, ttl_seconds: int = 900, scopes: Iterable[str] = ("user-data",)
    ) -> UserToken:
        return self._call(self._token_call(user_id, ttl_seconds, scopes))

    # registry and identity

    def registry(self) -> dict[str, Any]:
        return self._call(_Call("GET", f"{API}/registry", dict))

    def save_registry(self, registry: Mapping[str, Any], *, note: str = "") -> int:
        return self._call(_registry_save_call(registry, note))

    def me(self) -> dict[str, Any]:
        return self._call(_Call("GET", f"{API}/me", dict))


# -- async -----------------------------------------------------------------------------------


class AsyncClient(_Base):
    """The same API for asyncio code; ``record`` is a coroutine because a full buffer
    flushes before it returns."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, api_key, **options)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers,
            timeout=self._timeout,
            transport=transport,
        )
        self._flush_lock = asyncio.Lock()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        try:
            if self._buffer:
                await self.flush()
        finally:
            await self._http.aclose()

    async def _call(self, call: _Call) -> Any:
        return await call_with_retries_async(self._http, call, self.retry)

    async def record(
        self,
        user_id: str,
        command: str,
        *,
        kind: str = "invoke",
        client_event_id: str | None = None,
        client_time: float | datetime | None = None,
        region: str | None = None,
        component: str | None = None,
        route: str | None = None,
        device: str | None = None,
        session_id: str | None = None,
        task_id: str | None = None,
    ) -> str:
        context = {
            "region": region,
            "component": component,
            "route": route,
            "device": device,
            "session_id": session_id,
            "task_id": task_id,
        }
        event = self._event(user_id, command, kind, client_event_id, client_time, context)
        if self._enqueue(event):
            await self.flush()
        return event["client_event_id"]

    async def flush(self) -> IngestResult:
        total = IngestResult()
        async with self._flush_lock:
            while batch := self._peek():
                total = total + await self._call(self._ingest_call(batch, len(total.results)))
                self._drop(len(batch))
        return total

    async def send(self, events: list[dict[str, Any]]) -> IngestResult:
        total = IngestResult()
        for start, part in self._batches(events):
            total = total + await self._call(self._ingest_call(part, start))
        return total

    async def layout(
        self, user_id: str, region: str, *, interacting: bool = False, commit: bool = True
    ) -> Layout:
        return await self._call(self._layout_call(user_id, region, interacting, commit))

    async def predictions(self, user_id: str, *, k: int = 10) -> list[Prediction]:
        return await self._call(self._predictions_call(user_id, k))

    async def panels(self, user_id: str, *, session_id: str = "default") -> list[Panel]:
        return await self._call(self._panels_call(user_id, session_id))

    async def panel_action(
        self, user_id: str, task_id: str, action: str, *, session_id: str = "default"
    ) -> list[Panel]:
        return await self._call(self._panel_action_call(user_id, task_id, action, session_id))

    async def profile(self, user_id: str) -> Profile:
        return await self._call(self._profile_call(user_id))

    async def update_profile(
        self,
        user_id: str,
        *,
        recording: bool | None = None,
        level: str | None = None,
        retention_days: int | None = None,
    ) -> Profile:
        changes = _changes(recording, level, retention_days)
        return await self._call(self._profile_call(user_id, changes))

    async def control(self, user_id: str, action: str, *, region: str, command: str) -> Profile:
        return await self._call(self._control_call(user_id, action, region, command))

    async def export_user(self, user_id: str) -> dict[str, Any]:
        return await self._call(self._export_call(user_id))

    async def erase_user(self, user_id: str) -> dict[str, int]:
        return await self._call(self._erase_call(user_id))

    async def user_token(
        self, user_id: str, *, ttl_seconds: int = 900, scopes: Iterable[str] = ("user-data",)
    ) -> UserToken:
        return await self._call(self._token_call(user_id, ttl_seconds, scopes))

    async def registry(self) -> dict[str, Any]:
        return await self._call(_Call("GET", f"{API}/registry", dict))

    async def save_registry(self, registry: Mapping[str, Any], *, note: str = "") -> int:
        return await self._call(_registry_save_call(registry, note))

    async def me(self) -> dict[str, Any]:
        return await self._call(_Call("GET", f"{API}/me", dict))
