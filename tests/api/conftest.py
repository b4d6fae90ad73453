"""Fixtures for the API tests: a real server over HTTP, and an in-process app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session

from app.registry import demo_registry
from personalization.api import ApiSettings, create_api, keys
from personalization.engine.personalizer import Personalizer
from tests.api.server import ApiServer, create_key

ALL = ("ingest", "layout", "registry", "user-data")


@dataclass
class LiveApi:
    server: ApiServer
    key: str  # every scope, application "shop"

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """One real server per test module (a temp database, every scope key for 'shop')."""
    root = tmp_path_factory.mktemp("api")
    server = ApiServer(root / "api.db", root / "server.log")
    key = create_key(server.db_url, scopes=ALL)
    server.start()
    try:
        yield LiveApi(server=server, key=key)
    finally:
        server.stop()


@dataclass
class LocalApi:
    """The app in this process, called through httpx's ASGI transport (no network)."""

    app: FastAPI
    engine: Personalizer
    key: str

    def make_key(self, scopes: tuple[str, ...], application: str = "shop") -> str:
        with Session(self.engine.engine) as session:
            return keys.create_key(
                session=session, name="t", scopes=scopes, application=application
            )[1]

    def call(self, method: str, path: str, *, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                return await client.request(method, path, headers=headers, **kw)

        return asyncio.run(go())


def local_api(
    tmp_path: Path,
    settings: ApiSettings | None = None,
    *,
    url: str | None = None,
    redis_url: str | None = None,
) -> LocalApi:
    engine = Personalizer(
        url=url or f"sqlite:///{tmp_path / 'local.db'}",
        redis_url=redis_url,
        registry=demo_registry(),
        control_percent=0,
    )
    app = create_api(engine, settings=settings or ApiSettings(rate_limit="100000/minute"))
    api = LocalApi(app=app, engine=engine, key="")
    api.key = api.make_key(ALL)
    return api


@pytest.fixture
def api(tmp_path: Path, backend) -> Iterator[LocalApi]:
    """The in-process app on embedded SQLite and on PostgreSQL + Redis."""
    made = local_api(tmp_path, url=backend.db_url, redis_url=backend.redis_url)
    yield made
    made.engine.close()
