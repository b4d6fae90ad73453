"""Sending one API call with retries, for both clients.

What an attempt comes to (an answer, a wait before the next attempt, or the error to raise)
is decided once, in :func:`_settle`, without I/O; :func:`call_with_retries` and its async
twin only do their own request and sleep around it, so the sync and async clients cannot
drift apart on which failures they retry. Network errors, 429 and 502/503/504 are retried
with exponential backoff and full jitter, honouring ``Retry-After``; a call that is not
idempotent is not resent after a network error, since the server may have acted on it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from personalization.client._exceptions import ApiError, DeliveryError

API = "/api/v1"
RETRY_STATUS = frozenset({429, 502, 503, 504})


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


@dataclass(slots=True)
class _Call:
    """One API operation as data, so both clients share its path, body and parsing."""

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


def _wait_before_retry(
    retry: RetryPolicy,
    attempt: int,
    response: httpx.Response | None,
    error: Exception | None,
    call: _Call,
) -> float | None:
    """Seconds to wait before the next attempt, or ``None`` to stop retrying."""
    if attempt + 1 >= retry.attempts:
        return None
    if response is not None:
        if response.status_code not in RETRY_STATUS:
            return None
        return retry.delay(attempt, _retry_after(response))
    if error is not None and not call.idempotent:
        return None
    return retry.delay(attempt, None)


def _settle(
    call: _Call,
    retry: RetryPolicy,
    attempt: int,
    response: httpx.Response | None,
    error: httpx.TransportError | None = None,
) -> Any:
    """What one attempt comes to: the parsed answer, a ``_Wait`` before the next attempt,
    or the error to raise."""
    if response is not None and response.status_code < 400:
        return call.parse(response.json())
    wait = _wait_before_retry(retry, attempt, response, error, call)
    if wait is not None:
        return _Wait(wait)
    if response is not None:
        raise _api_error(response)
    raise DeliveryError(
        f"{call.method} {call.path}: no answer after {attempt + 1} attempt(s): {error!r}"
    ) from error


def call_with_retries(http: httpx.Client, call: _Call, retry: RetryPolicy) -> Any:
    """``call``'s parsed answer, retrying as ``retry`` allows (blocking)."""
    attempt = 0
    while True:
        try:
            response = http.request(call.method, call.path, params=call.params, json=call.json)
        except httpx.TransportError as exc:
            outcome = _settle(call, retry, attempt, None, exc)
        else:
            outcome = _settle(call, retry, attempt, response)
        if not isinstance(outcome, _Wait):
            return outcome
        time.sleep(outcome.seconds)
        attempt += 1


async def call_with_retries_async(http: httpx.AsyncClient, call: _Call, retry: RetryPolicy) -> Any:
    """:func:`call_with_retries` for asyncio: the same retries, sleeping without blocking
    the event loop."""
    attempt = 0
    while True:
        try:
            response = await http.request(
                call.method, call.path, params=call.params, json=call.json
            )
        except httpx.TransportError as exc:
            outcome = _settle(call, retry, attempt, None, exc)
        else:
            outcome = _settle(call, retry, attempt, response)
        if not isinstance(outcome, _Wait):
            return outcome
        await asyncio.sleep(outcome.seconds)
        attempt += 1
