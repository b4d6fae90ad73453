"""Fixtures shared by every test: artifact folder, a real headless Chromium, and real
PostgreSQL and Redis servers (started once per session, only by tests that ask for them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.servers import PostgresServer, RedisServer

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh browser context; the test fails if the page logged a JavaScript error."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    pg.on(
        "console",
        lambda msg: (
            errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    pg.on(
        "response",
        lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    yield pg
    context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)


# -- real database servers ---------------------------------------------------------------------
# A server that cannot start makes the test error with the reason (missing binary, log tail),
# never skip: a green run must mean the PostgreSQL + Redis paths were exercised.


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path_factory.mktemp("postgres"))
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
        yield server
    finally:
        server.close()


def _migrated(url: str) -> str:
    from personalization.store.migrate import upgrade

    upgrade(url)
    return url


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database per test at the newest schema: one server, no state shared between
    tests, and far cheaper than a cluster each."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    postgres_server.start()  # no-op unless an earlier test stopped or killed it
    url = postgres_server.create_database(name)
    try:
        yield _migrated(url)
    finally:
        postgres_server.start()  # this test may have stopped it; later tests need it back
        postgres_server.drop_database(name)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied first (FLUSHALL covers every numbered database)."""
    import redis

    redis_server.start()  # no-op unless an earlier test stopped or killed it
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server.url


def _sqlite_url(tmp_path: Path) -> str:
    return _migrated(f"sqlite:///{tmp_path / 'test.db'}")


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated fresh database of each kind: a test taking it runs once per backend. The
    PostgreSQL server is requested lazily, so a ``-k sqlite`` run never starts it."""
    if request.param == "sqlite":
        return _sqlite_url(tmp_path)
    return request.getfixturevalue("pg_url")


@dataclass(frozen=True)
class Backend:
    """The storage an engine or API test runs on; ``redis_url`` is None for embedded SQLite."""

    db_url: str
    redis_url: str | None

    @property
    def name(self) -> str:
        return "sqlite" if self.redis_url is None else "postgresql+redis"


@pytest.fixture(params=["sqlite", "postgresql+redis"], ids=["sqlite", "postgresql+redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend(db_url=_sqlite_url(tmp_path), redis_url=None)
    return Backend(
        db_url=request.getfixturevalue("pg_url"),
        redis_url=request.getfixturevalue("redis_url"),
    )


@pytest.fixture(scope="session")
def schonlau_users():
    """The first 20 Schonlau users' real command logs (5,000 commands each), read once."""
    from personalization.evaluation.datasets import schonlau

    return list(schonlau(users=20))
