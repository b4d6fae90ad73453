"""Python SDK for the engine's HTTP API, on httpx: ``Client`` (sync) and ``AsyncClient``.

    with Client("https://app.example", api_key, application="shop") as client:
        client.record("u42", "save", region="toolbar")      # buffered
        layout = client.layout("u42", "toolbar")            # flushes nothing, reads now
    # leaving the block flushes what is still buffered

Delivery: ``record`` buffers events, each with a client event id minted once, and sends them
in batches (``batch_size``) when the buffer fills, on ``flush()`` and on ``close()``. A batch
leaves the buffer only when the server acknowledged it. Network errors, 429 and 502/503/504
are retried with exponential backoff and jitter (honouring ``Retry-After``); a retry resends
the same ids, so the server reports already-stored events as duplicates and nothing is ever
stored twice. If retries run out, ``DeliveryError`` is raised and the events stay buffered
for the next flush. The buffer is bounded (``max_buffer``): when full, ``record`` raises
``BufferFullError``, or hands the event to ``on_overflow`` and drops it if you gave one.

Errors::

    ClientError
    ├── ApiError            the server refused (status, code, message, field, retry_after)
    ├── DeliveryError       no answer after every retry (the cause is chained)
    └── BufferFullError     the event buffer is full

Tests swap the network for ``httpx.MockTransport`` (or ``httpx.ASGITransport`` for the async
client) through ``transport=``. Only httpx and the standard library are used here.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

__all__ = [
    "ApiError",
    "AsyncClient",
    "BufferFullError",
    "Client",
    "ClientError",
    "DeliveryError",
    "EventResult",
    "IngestResult",
    "Layout",
    "LayoutItem",
    "Panel",
    "PanelStep",
    "Prediction",
    "Profile",
    "RetryPolicy",
    "UserToken",
]

T = TypeVar("T")
API = "/api/v1"
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
_CONTEXT = ("region", "component", "route", "device", "session_id", "task_id")
_RETRY_STATUS = frozenset({429, 502, 503, 504})


# -- errors ----------------------------------------------------------------------------------


class ClientError(Exception):
    """Base of every error this SDK raises."""


class ApiError(ClientError):
    """The server answered with an error body; ``code`` is stable (see docs/api.md)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.field, self.retry_after = field, retry_after


class DeliveryError(ClientError):
    """No answer after every retry. Buffered events were kept for the next flush."""


class BufferFullError(ClientError):
    """``max_buffer`` events are waiting; flush (or check the network) before recording."""


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventResult:
    index: int
    status: str  # "accepted" | "duplicate" | "rejected"
    client_event_id: str | None = None
    field: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Per-event outcome of one or more batches (indexes count across the batches)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    results: tuple[EventResult, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], offset: int = 0) -> IngestResult:
        results = tuple(
            EventResult(**{**r, "index": int(r["index"]) + offset}) for r in data["results"]
        )
        return cls(
            accepted=int(data["accepted"]),
            duplicates=int(data["duplicates"]),
            rejected=int(data["rejected"]),
            results=results,
        )

    def __add__(self, other: IngestResult) -> IngestResult:
        return IngestResult(
            self.accepted + other.accepted,
            self.duplicates + other.duplicates,
            self.rejected + other.rejected,
            self.results + other.results,
        )

    @property
    def rejections(self) -> list[EventResult]:
        return [r for r in self.results if r.status == "rejected"]


@dataclass(frozen=True, slots=True)
class LayoutItem:
    command: str
    label: str
    icon: str
    position: int
    visible: bool
    zone: str
    reason: str
    probability: float | None
    sentence: str


@dataclass(frozen=True, slots=True)
class Layout:
    region: str
    items: tuple[LayoutItem, ...]
    overflow: tuple[str, ...]
    slots: int
    moves: int
    level: str
    registry_version: int
    adapted: bool

    @property
    def visible(self) -> list[LayoutItem]:
        """Visible items in slot order: what to draw."""
        return sorted((i for i in self.items if i.visible), key=lambda i: i.position)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Layout:
        return cls(
            region=data["region"],
            items=tuple(LayoutItem(**i) for i in data["items"]),
            overflow=tuple(data["overflow"]),
            slots=int(data["slots"]),
            moves=int(data["moves"]),
            level=data["level"],
            registry_version=int(data["registry_version"]),
            adapted=bool(data["adapted"]),
        )


@dataclass(frozen=True, slots=True)
class Prediction:
    command: str
    label: str
    probability: float
    reason: str


@dataclass(frozen=True, slots=True)
class PanelStep:
    ref: str
    kind: str
    label: str
    done: bool


@dataclass(frozen=True, slots=True)
class Panel:
    task_id: str
    title: str
    state: str
    steps: tuple[PanelStep, ...]
    progress: float
    pinned: bool
    reason: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Panel:
        return cls(**{**data, "steps": tuple(PanelStep(**s) for s in data["steps"])})


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: str
    level: str
    recording: bool
    retention_days: int
    pins: dict[str, list[str]]
    hidden: dict[str, list[str]]
    control_group: bool


@dataclass(frozen=True, slots=True)
class UserToken:
    token: str
    user_id: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` counts the first try. Waits grow ``backoff * 2**n`` up to
    ``max_backoff`` with full jitter; a server's ``Retry-After`` wins, up to
    ``max_retry_after``."""

    attempts: int = 5
    backoff: float = 0.2
    max_backoff: float = 5.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))


# -- shared, I/O-free core -------------------------------------------------------------------


@dataclass(slots=True)
class _Call:
    method: str
    path: str
    parse: Callable[[Any], Any]
    params: dict[str, Any] | None = None
    json: Any = None
    idempotent: bool = True  # safe to resend after a network error


@dataclass(frozen=True, slots=True)
class _Wait:
    """Retry after ``seconds``."""

    seconds: float


def _check_id(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value or len(value) > _LIMITS[name]:
        raise ValueError(f"{name}: must be a string of 1-{_LIMITS[name]} characters")
    if not _ID.match(value):
        raise ValueError(
            f"{name}: must be an identifier (letters, digits, _ . : / -), got {value!r}"
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _api_error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()["error"]
        code, message, fld = str(body["code"]), str(body["message"]), body.get("field")
    except (ValueError, KeyError, TypeError):
        code, message, fld = "http_error", response.text[:200] or response.reason_phrase, None
    return ApiError(
        response.status_code, code, message, field=fld, retry_after=_retry_after(response)
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
        context: tuple[str | None, ...],
    ) -> dict[str, Any]:
        """The event as sent; ``context`` holds the ``_CONTEXT`` fields in that order."""
        event: dict[str, Any] = {
            "client_event_id": client_event_id or uuid.uuid4().hex,
            "user_id": user_id,
            "command": command,
            "kind": kind,
        }
        when = time.time() if client_time is None else client_time
        event["client_time"] = when.isoformat() if isinstance(when, datetime) else when
        for name, value in zip(_CONTEXT, context, strict=True):
            if value is not None:
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

    def _retry_after_error(
        self, attempt: int, response: httpx.Response | None, exc: Exception | None, call: _Call
    ) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to stop retrying."""
        if attempt + 1 >= self.retry.attempts:
            return None
        if response is not None:
            if response.status_code not in _RETRY_STATUS:
                return None
            return self.retry.delay(attempt, _retry_after(response))
        if exc is not None and not call.idempotent:
            return None
        return self.retry.delay(attempt, None)

    def _settle(
        self,
        call: _Call,
        attempt: int,
        response: httpx.Response | None,
        error: httpx.TransportError | None = None,
    ) -> Any:
        """What one attempt comes to: the parsed answer, a ``_Wait`` before the next attempt,
        or the error to raise. Both clients share it and only do their own I/O and sleep."""
        if response is not None and response.status_code < 400:
            return call.parse(response.json())
        wait = self._retry_after_error(attempt, response, error, call)
        if wait is not None:
            return _Wait(wait)
        if response is not None:
            raise _api_error(response)
        raise DeliveryError(
            f"{call.method} {call.path}: no answer after {attempt + 1} attempt(s): {error!r}"
        ) from error

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
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method, call.path, params=call.params, json=call.json
                )
            except httpx.TransportError as exc:
                outcome = self._settle(call, attempt, None, exc)
            else:
                outcome = self._settle(call, attempt, response)
            if not isinstance(outcome, _Wait):
                return outcome
            time.sleep(outcome.seconds)
            attempt += 1

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
        context = (region, component, route, device, session_id, task_id)
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
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method, call.path, params=call.params, json=call.json
                )
            except httpx.TransportError as exc:
                outcome = self._settle(call, attempt, None, exc)
            else:
                outcome = self._settle(call, attempt, response)
            if not isinstance(outcome, _Wait):
                return outcome
            await asyncio.sleep(outcome.seconds)
            attempt += 1

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
        context = (region, component, route, device, session_id, task_id)
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
