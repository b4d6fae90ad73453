"""A database or Redis that cannot be reached makes the API answer 503 ``unavailable`` with
``Retry-After``, never a 500, and the SDK's retries deliver a batch exactly once when the
service is back.

Every outage here is real: a SQLite file whose directory is gone, the session's PostgreSQL
or Redis server stopped mid-test (and started again before the test ends, so later tests
find it running), a Redis URL on a port nobody listens on.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
import sqlalchemy
from sqlalchemy import exc as sa_exc

from personalization.api import ApiSettings, create_api
from personalization.api.unavailable import short_reason, unavailable_dependency
from personalization.client import Client, RetryPolicy
from personalization.engine.connections import REDIS_ENV
from personalization.engine.personalizer import Personalizer
from tests.api.conftest import ALL, local_api
from tests.api.server import ApiServer, create_key
from tests.support.reflex_server import free_port
from tests.support.servers import PostgresServer, RedisServer

EVENTS = "/api/v1/apps/shop/events"
LAYOUT = "/api/v1/apps/shop/users/alice/layout/toolbar"


def _batch(prefix: str, count: int = 1) -> dict[str, Any]:
    return {
        "events": [
            {
                "client_event_id": f"{prefix}-{i}",
                "user_id": "alice",
                "command": "save",
                "region": "toolbar",
            }
            for i in range(count)
        ]
    }


def _call(app: Any, method: str, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
    """One request through the app in this process. App exceptions are not re-raised, so a
    500 shows up as a status the test can assert on, like a real client would see it."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.request(method, path, headers=headers, **kw)

    return asyncio.run(go())


def _assert_unavailable(response: httpx.Response, dependency: str, retry_after: str = "2") -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == retry_after
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert error["field"] is None
    assert dependency in error["message"], error["message"]


# -- SQLite, in process ----------------------------------------------------------------------


def _sqlite_gone(tmp_path: Path, settings: ApiSettings | None = None) -> tuple[Any, str]:
    """An app whose SQLite file was working and then vanished with its directory. The pool
    is disposed so the next request must open the file again, as after a restart."""
    folder = tmp_path / "data"
    folder.mkdir()
    api = local_api(folder, settings)
    assert _call(api.app, "POST", EVENTS, api.key, json=_batch("before")).status_code == 200
    shutil.rmtree(folder)
    api.engine.engine.dispose()
    return api.app, api.key


def test_sqlite_unreachable_answers_503_on_ingest_and_layout(tmp_path: Path) -> None:
    app, key = _sqlite_gone(tmp_path)
    _assert_unavailable(_call(app, "POST", EVENTS, key, json=_batch("after")), "database")
    _assert_unavailable(_call(app, "GET", LAYOUT, key), "database")
    _assert_unavailable(_call(app, "GET", "/api/v1/me", key), "database")


def test_sqlite_unreachable_makes_ready_503(tmp_path: Path) -> None:
    app, _key = _sqlite_gone(tmp_path)
    response = _call(app, "GET", "/api/v1/ready")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unreachable: unable to open database file"
    assert body["checks"]["redis"] == "not configured"


def test_retry_after_comes_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADAPTIVE_API_RETRY_AFTER_S", "7")
    monkeypatch.delenv(REDIS_ENV, raising=False)
    monkeypatch.setenv("ADAPTIVE_API_RATE_LIMIT", "100000/minute")
    settings = ApiSettings.from_env()
    assert settings.retry_after_s == 7
    app, key = _sqlite_gone(tmp_path, settings)
    _assert_unavailable(_call(app, "POST", EVENTS, key, json=_batch("x")), "database", "7")
    assert _call(app, "GET", "/api/v1/ready").headers["Retry-After"] == "7"


def test_a_broken_query_is_still_a_500_not_a_503(tmp_path: Path) -> None:
    """SQLite reports a missing table as OperationalError too; that is a bug to fix, and a
    503 would only make clients retry it forever."""
    api = local_api(tmp_path)
    with sqlite3.connect(tmp_path / "local.db") as conn:
        conn.execute("DROP TABLE usage_event")
    response = _call(api.app, "POST", EVENTS, api.key, json=_batch("x"))
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    api.engine.engine.dispose()


def _raised(make: Any) -> BaseException:
    try:
        make()
    except BaseException as exc:  # noqa: BLE001 - the test wants the exception object
        return exc
    raise AssertionError("nothing was raised")


def test_wrapped_driver_errors_are_recognised_through_the_chain(tmp_path: Path) -> None:
    def wrapped_redis() -> None:
        client = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
        try:
            client.ping()
        except redis.ConnectionError as exc:
            raise RuntimeError("engine could not publish") from exc

    def load_model() -> None:
        raise ValueError("while loading a model")

    def implicit_psycopg() -> None:  # raised while handling: only __context__ links them
        try:
            psycopg.connect(f"postgresql://u:hunter2@127.0.0.1:{free_port()}/x", connect_timeout=2)
        except psycopg.OperationalError:
            load_model()

    def sqlite_gone() -> None:
        engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
        with engine.connect():
            pass

    def sqlite_bug() -> None:
        engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/ok.db")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT * FROM no_such_table"))

    assert unavailable_dependency(_raised(wrapped_redis)) == "redis"
    assert short_reason(_raised(wrapped_redis)) == "connection refused"
    psycopg_error = _raised(implicit_psycopg)
    assert isinstance(psycopg_error.__context__, psycopg.OperationalError)
    assert unavailable_dependency(psycopg_error) == "database"
    assert "hunter2" not in short_reason(psycopg_error)
    assert unavailable_dependency(_raised(sqlite_gone)) == "database"
    assert isinstance(_raised(sqlite_bug), sa_exc.OperationalError)
    assert unavailable_dependency(_raised(sqlite_bug)) is None
    assert unavailable_dependency(_raised(lambda: 1 / 0)) is None


# -- Redis that is not there -----------------------------------------------------------------


def test_a_deadlock_abort_is_a_retryable_conflict_not_an_outage() -> None:
    """PostgreSQL aborts one of two deadlocked transactions; the request is safe to retry
    (ingest is idempotent), so it is a 503 with Retry-After, and says what happened."""
    for error in (psycopg.errors.DeadlockDetected("x"), psycopg.errors.SerializationFailure("y")):
        wrapped = sa_exc.OperationalError("INSERT ...", {}, error)
        assert unavailable_dependency(wrapped) == "conflict"
    assert unavailable_dependency(psycopg.errors.UniqueViolation("z")) is None


def test_redis_url_nobody_listens_on_gives_503_naming_redis_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``ADAPTIVE_REDIS_URL`` set, rate-limit buckets live in Redis, so an authenticated
    request needs it; the URL's password must appear in no answer."""
    engine = Personalizer(url=f"sqlite:///{tmp_path / 'r.db'}", control_percent=0)
    monkeypatch.setenv(REDIS_ENV, f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0")
    monkeypatch.delenv("ADAPTIVE_API_RATE_LIMIT_STORAGE", raising=False)
    app = create_api(engine, settings=ApiSettings.from_env())
    key = create_key(f"sqlite:///{tmp_path / 'r.db'}", scopes=ALL)
    for response in (
        _call(app, "GET", "/api/v1/me", key),
        _call(app, "POST", EVENTS, key, json=_batch("r")),
    ):
        _assert_unavailable(response, "Redis")
        assert "s3cret" not in response.text
    ready = _call(app, "GET", "/api/v1/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "redis": "unreachable: connection refused"}
    assert "s3cret" not in ready.text
    engine.engine.dispose()


def test_stopped_redis_makes_ready_503_naming_redis_and_ready_again_after_restart(
    redis_server: RedisServer, redis_url: str, tmp_path: Path
) -> None:
    server = ApiServer(tmp_path / "api.db", tmp_path / "server.log", env={REDIS_ENV: redis_url})
    key = create_key(server.db_url, scopes=ALL)
    try:
        server.start()
        ready = httpx.get(f"{server.url}/api/v1/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}

        redis_server.stop()
        ready = httpx.get(f"{server.url}/api/v1/ready", timeout=10)
        assert ready.status_code == 503, ready.text
        assert ready.headers["Retry-After"] == "2"
        body = ready.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["redis"].startswith("unreachable: ")
        me = httpx.get(
            f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        _assert_unavailable(me, "Redis")

        redis_server.start()
        ready = httpx.get(f"{server.url}/api/v1/ready", timeout=10)
        assert ready.status_code == 200, ready.text
    finally:
        server.stop()
        redis_server.start()  # no-op when running; later tests share this server
    assert "Traceback" not in server.log_path.read_text()


# -- PostgreSQL stopped and started again ----------------------------------------------------


def _stored(url: str) -> list[tuple[str, str]]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            query = "SELECT user_id, client_event_id FROM usage_event WHERE kind = 'invoke'"
            return [(row[0], row[1]) for row in connection.execute(sqlalchemy.text(query))]
    finally:
        engine.dispose()


def _prepared(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {"client_event_id": f"{prefix}{i}", "user_id": f"user{i % 4}", "command": "open"}
        for i in range(count)
    ]


def _acknowledged(result: Any) -> list[str]:
    assert result.rejected == 0, result.rejections
    return [r.client_event_id for r in result.results if r.status in ("accepted", "duplicate")]


def test_postgres_outage_answers_503_and_the_sdk_delivers_each_event_once(
    postgres_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    """The pg_url fixture starts the server again after the test if an assertion left it
    stopped."""
    url = pg_url
    key = create_key(url, scopes=ALL)
    server = ApiServer(None, tmp_path / "server.log", db_url=url).start()
    headers = {"Authorization": f"Bearer {key}"}
    retry = RetryPolicy(attempts=60, backoff=0.1, max_backoff=1.0)
    acknowledged: list[str] = []
    try:
        with Client(server.url, key, application="shop", batch_size=50, retry=retry) as client:
            for i in range(40):
                client.record(f"user{i % 4}", "save", region="toolbar", client_event_id=f"a{i}")
            acknowledged += _acknowledged(client.flush())

        postgres_server.stop()
        during = httpx.post(f"{server.url}{EVENTS}", json=_batch("down"), headers=headers)
        _assert_unavailable(during, "database")
        assert "postgres@" not in during.text and str(postgres_server.port) not in during.text
        layout = httpx.get(f"{server.url}{LAYOUT}", headers=headers, timeout=10)
        _assert_unavailable(layout, "database")
        ready = httpx.get(f"{server.url}/api/v1/ready", timeout=10)
        assert ready.status_code == 503, ready.text
        assert ready.headers["Retry-After"] == "2"
        assert ready.json()["checks"]["database"].startswith("unreachable: ")

        def come_back() -> None:
            time.sleep(2)
            postgres_server.start()

        restarter = threading.Thread(target=come_back)
        restarter.start()
        try:
            with Client(server.url, key, application="shop", batch_size=50, retry=retry) as sdk:
                acknowledged += _acknowledged(sdk.send(_prepared("b", 160)))
        finally:
            restarter.join()

        ready = httpx.get(f"{server.url}/api/v1/ready", timeout=10)
        assert ready.status_code == 200, ready.text
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "database unreachable on POST /api/v1/apps/shop/events" in log  # retried a 503
    assert "Traceback" not in log, log[-3000:]
    assert len(acknowledged) == 200
    stored = _stored(url)
    ids = sorted(cid for _user, cid in stored)
    assert ids == sorted(acknowledged)  # every acknowledged event, each exactly once
    assert len(set(stored)) == len(stored)
