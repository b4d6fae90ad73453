"""One error shape for every failure, with a stable machine code and a sentence for people.

Every error body is ``{"error": {"code": ..., "message": ..., "field": ...}}``. Clients
branch on ``code`` (stable, listed in ``CODES`` and in docs/api.md); ``message`` says what to
change; ``field`` names the offending input when there is one (``body.events.3.command``).
Framework errors (FastAPI validation, Starlette 404/405) and engine errors are all turned
into this shape here, so no route has to remember to, and an unexpected exception becomes a
logged 500 with a generic message that leaks nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from personalization.api.limits import API_PREFIX

log = logging.getLogger("personalization.api")

CODES: dict[str, int] = {
    "missing_credentials": 401,
    "invalid_credentials": 401,
    "revoked_credentials": 401,
    "expired_token": 401,
    "missing_scope": 403,
    "wrong_application": 403,
    "wrong_user": 403,
    "token_not_allowed": 403,
    "not_found": 404,
    "unknown_region": 404,
    "unknown_task": 404,
    "method_not_allowed": 405,
    "invalid_transition": 409,
    "control_refused": 409,
    "body_too_large": 413,
    "validation_error": 422,
    "invalid_json": 422,
    "batch_too_long": 422,
    "invalid_registry": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "unavailable": 503,
}
"""Every code the API returns, with its HTTP status. Codes are never renamed."""


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    errors: list[str] | None = None  # every problem, when there are several (registries)


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """Raise from any route or dependency; the handler renders it with its status."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if code not in CODES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
        self.errors = errors
        self.status = CODES[code]
        self.headers = headers


RETRY_AFTER_HEADER: dict[str, Any] = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries, so the document lists every status a route returns.

    503 is always listed: every route that uses this authenticates against the database
    (and counts against a rate limit that may live in Redis), so every one can meet an
    outage."""
    described = {
        401: "No valid credentials: missing, unknown, revoked or expired.",
        403: "Credentials valid but not allowed here (scope, application or user).",
        404: "The region, task or route does not exist.",
        409: "The action does not fit the current state.",
        413: "Request body too large.",
        422: "Invalid input; `field` names it.",
        429: "Too many requests for this key; see `Retry-After`.",
        503: "The database or Redis is unreachable; retry after `Retry-After` seconds.",
    }
    out: dict[int | str, dict[str, Any]] = {}
    for status in (*statuses, 503):
        entry: dict[str, Any] = {"model": ErrorResponse, "description": described[status]}
        if status in (429, 503):
            entry["headers"] = RETRY_AFTER_HEADER
        out[status] = entry
    return out


def _body(
    code: str, message: str, field: str | None = None, errors: list[str] | None = None
) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": code, "message": message, "field": field}
    if errors is not None:
        detail["errors"] = errors
    return {"error": detail}


def _loc(loc: Any) -> str:
    return ".".join(str(part) for part in loc)


def _validation_error(exc: RequestValidationError) -> tuple[str, str, str | None]:
    errors = list(exc.errors())
    if not errors:
        return "validation_error", "invalid request", None
    first = errors[0]
    field = _loc(first.get("loc", ())) or None
    if first.get("type") == "json_invalid":
        return "invalid_json", f"request body is not valid JSON: {first.get('msg')}", "body"
    if first.get("type") == "too_long" and tuple(first.get("loc", ()))[-1:] == ("events",):
        return "batch_too_long", f"events: {first.get('msg')}; split the batch", field
    message = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem(s))"
    return "validation_error", message, field


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into an ``ErrorResponse``."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            _body(exc.code, exc.message, exc.field, exc.errors),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message, field = _validation_error(exc)
        return JSONResponse(_body(code, message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 400:  # FastAPI's "error parsing the body" (bytes that are not JSON)
            status, code, message = 422, "invalid_json", f"request body is not JSON: {exc.detail}"
        elif status == 404:
            code, message = "not_found", "no such route; see /api/v1/openapi.json"
        elif status == 405:
            code, message = "method_not_allowed", "this route does not accept that method"
        else:
            code, message = "validation_error", str(exc.detail)
        return JSONResponse(_body(code, message), status_code=status, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if not request.url.path.startswith(API_PREFIX):  # a mounted app (Reflex): its shape
            return PlainTextResponse("Internal Server Error", status_code=500)
        return JSONResponse(
            _body("internal_error", "the server failed; the error was logged"), status_code=500
        )
