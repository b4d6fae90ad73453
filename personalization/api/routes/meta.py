"""Liveness, readiness, and "who am I" for a credential (lets an SDK find its application).

Liveness (``/health``) says only that the process answers, so an orchestrator restarts a
hung server but not one whose database is down (a restart would not help). Readiness
(``/ready``) says whether the process can serve right now, so a load balancer sends traffic
elsewhere while the database or Redis is unreachable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from personalization.api.auth import Principal, caller
from personalization.api.errors import RETRY_AFTER_HEADER, error_responses
from personalization.api.limits import ApiSettings
from personalization.api.schemas import HealthOut, MeOut, ReadyChecks, ReadyOut
from personalization.api.unavailable import short_reason
from personalization.engine.connections import redis_client, redis_url

router = APIRouter(tags=["meta"])


@router.get("/health", summary="Liveness (no credential needed)")
def health() -> HealthOut:
    return HealthOut(status="ok")


async def _probe(check: Callable[[], object], timeout: float) -> str:
    """Run a blocking check in a thread, bounded by ``timeout``: a host that drops packets
    must make the probe say "unreachable", not hang it. A check that overruns is abandoned
    (its thread ends with the driver's own timeout)."""
    try:
        await asyncio.wait_for(asyncio.to_thread(check), timeout)
    except TimeoutError:
        return f"unreachable: timed out after {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with a reason
        return f"unreachable: {short_reason(exc)}"
    return "ok"


@router.get(
    "/ready",
    summary="Readiness: the database and Redis answer (no credential needed)",
    response_model=ReadyOut,
    responses={
        503: {
            "model": ReadyOut,
            "description": "A backing service is unreachable; `checks` says which.",
            "headers": RETRY_AFTER_HEADER,
        }
    },
)
async def ready(request: Request) -> JSONResponse:
    settings: ApiSettings = request.app.state.settings
    timeout = settings.ready_timeout_s

    def database() -> None:
        engine = request.app.state.personalizer().engine
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def redis() -> None:
        client = redis_client()
        assert client is not None
        client.ping()

    probes = [_probe(database, timeout)]
    if redis_url() is not None:
        probes.append(_probe(redis, timeout))
    results = await asyncio.gather(*probes)
    checks = ReadyChecks(
        database=results[0], redis=results[1] if len(results) > 1 else "not configured"
    )
    healthy = all(value in ("ok", "not configured") for value in (checks.database, checks.redis))
    out = ReadyOut(status="ready" if healthy else "unavailable", checks=checks)
    if healthy:
        return JSONResponse(out.model_dump(), status_code=200)
    return JSONResponse(
        out.model_dump(),
        status_code=503,
        headers={"Retry-After": str(settings.retry_after_s)},
    )


@router.get(
    "/me",
    summary="The calling credential: kind, application, scopes (never the secret)",
    responses=error_responses(401, 413, 429),
)
def me(principal: Principal = Depends(caller)) -> MeOut:  # noqa: B008
    return MeOut(
        kind=principal.kind,
        key_id=principal.key_id,
        application=principal.application,
        scopes=sorted(principal.scopes),
        user_id=principal.user,
        expires_at=principal.expires_at,
    )
