"""Readiness (``GET /api/v1/ready``) on healthy backends, and the deployment defaults that
come with running several workers: rate-limit buckets in Redis when there is one, and
``--workers N``.

The outage side of readiness (503 naming the dependency) is in test_unavailable.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from personalization.api import ApiSettings, create_api
from personalization.api.limits import RateLimiter
from personalization.client import Client
from personalization.engine.connections import REDIS_ENV
from personalization.engine.personalizer import Personalizer
from tests.api.conftest import ALL, LocalApi
from tests.api.server import ApiServer, create_key

READY = "/api/v1/ready"


def _get(app: Any, path: str, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(go())


def test_ready_on_healthy_sqlite_without_redis(
    api: LocalApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(REDIS_ENV, raising=False)
    response = api.call("GET", READY)  # no credential: probes carry none
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "not configured"},
    }
    assert "Retry-After" not in response.headers


def test_ready_with_real_redis(
    api: LocalApi, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REDIS_ENV, redis_url)
    response = api.call("GET", READY)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


def test_ready_is_in_the_openapi_document_without_security(api: LocalApi) -> None:
    document = api.call("GET", "/api/v1/openapi.json").json()
    operation = document["paths"][READY]["get"]
    assert "security" not in operation
    assert set(operation["responses"]) == {"200", "503"}
    assert "Retry-After" in operation["responses"]["503"]["headers"]
    ingest = document["paths"]["/api/v1/apps/{application}/events"]["post"]
    assert "Retry-After" in ingest["responses"]["503"]["headers"]


# -- rate-limit storage ----------------------------------------------------------------------


def test_rate_limit_storage_defaults_to_redis_when_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ADAPTIVE_API_RATE_LIMIT_STORAGE", raising=False)
    monkeypatch.delenv(REDIS_ENV, raising=False)
    assert ApiSettings.from_env().rate_limit_storage == "memory://"
    monkeypatch.setenv(REDIS_ENV, "redis://127.0.0.1:6390/2")
    assert ApiSettings.from_env().rate_limit_storage == "redis://127.0.0.1:6390/2"
    monkeypatch.setenv("ADAPTIVE_API_RATE_LIMIT_STORAGE", "memory://")
    assert ApiSettings.from_env().rate_limit_storage == "memory://"  # explicit wins


def test_apps_on_one_redis_share_a_key_budget(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two apps stand for two worker processes: with the default storage they draw on one
    bucket per key, so a key cannot get N times its limit from N workers."""
    engine = Personalizer(url=f"sqlite:///{tmp_path / 'shared.db'}", control_percent=0)
    monkeypatch.setenv(REDIS_ENV, redis_url)
    monkeypatch.delenv("ADAPTIVE_API_RATE_LIMIT_STORAGE", raising=False)
    monkeypatch.setenv("ADAPTIVE_API_RATE_LIMIT", "3/minute")
    first, second = create_api(engine), create_api(engine)
    assert isinstance(first.state.rate_limiter, RateLimiter)
    assert first.state.rate_limiter.storage == redis_url
    key = create_key(f"sqlite:///{tmp_path / 'shared.db'}", scopes=ALL)
    statuses = [_get(app, "/api/v1/me", key).status_code for app in (first, second) * 2]
    assert statuses == [200, 200, 200, 429]
    engine.engine.dispose()


# -- workers ---------------------------------------------------------------------------------


def _worker_processes(pid: int) -> list[int]:
    """uvicorn's spawned workers under the supervisor ``pid`` (not multiprocessing's
    resource tracker, which is a child too)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in cmdline:
            found.append(int(child))
    return found


def test_two_workers_serve_ready_and_ingest(tmp_path: Path) -> None:
    server = ApiServer(tmp_path / "workers.db", tmp_path / "server.log", workers=2)
    key = create_key(server.db_url, scopes=ALL)
    server.start()
    try:
        assert server.proc is not None
        assert len(_worker_processes(server.proc.pid)) == 2
        ready = httpx.get(f"{server.url}{READY}", timeout=10)
        assert ready.status_code == 200, ready.text
        with Client(server.url, key, application="shop", batch_size=10) as client:
            for i in range(30):
                client.record(f"u{i % 3}", "save", region="toolbar", client_event_id=f"w{i}")
            client.flush()
            assert client.layout("u0", "toolbar").items
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text()
