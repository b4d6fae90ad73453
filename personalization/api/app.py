"""``create_api``: the engine over HTTP, as one FastAPI app with every route under /api/v1.

The same app runs on its own (``python -m personalization.api``) or inside the Reflex
backend (``rx.App(api_transformer=create_api(get_personalizer()))``), where Reflex mounts
its own routes beneath it; the body-size limit and the error shape apply only under
/api/v1, so Reflex's routes are untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from personalization.api import errors
from personalization.api.limits import API_PREFIX, ApiSettings, BodySizeLimit, RateLimiter
from personalization.api.routes import decisions, events, meta, registry, users
from personalization.api.unavailable import UnavailableMiddleware
from personalization.engine.heap import freeze_startup_heap
from personalization.engine.personalizer import Personalizer, get_personalizer
from personalization.store.db import database_url

DESCRIPTION = """\
Record usage events, read adaptive layouts, predictions and task panels, manage a person's
data, and edit the designer registry. Authenticate with `Authorization: Bearer <key>`; see
docs/api.md for scopes, per-user tokens, limits and error codes."""


def create_api(
    personalizer: Personalizer | None = None, *, settings: ApiSettings | None = None
) -> FastAPI:
    """The API over ``personalizer`` (default: the process-wide one, looked up on first
    request). ``settings`` default to the ``ADAPTIVE_API_*`` environment variables."""
    settings = settings or ApiSettings.from_env()
    app = FastAPI(
        title="Adaptive UI engine",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    provider: Callable[[], Personalizer] = (
        (lambda: personalizer) if personalizer is not None else get_personalizer
    )
    app.state.personalizer = provider
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings.rate_limit, settings.rate_limit_storage)
    errors.install(app)
    for module in (meta, events, decisions, users, registry):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, prefix=API_PREFIX)
    app.add_middleware(
        UnavailableMiddleware, retry_after_s=settings.retry_after_s, prefix=API_PREFIX
    )
    return app


def create_app_from_env() -> FastAPI:
    """The factory each uvicorn worker process calls (``--workers N``): workers do not share
    memory, so each builds its own ``Personalizer`` on ``ADAPTIVE_DB_URL`` and they meet
    only in the database (and Redis, when ``ADAPTIVE_REDIS_URL`` is set)."""
    app = create_api(Personalizer(url=database_url()))
    freeze_startup_heap()
    return app
