"""The real-server fixtures do what the database tests rely on.

A fixture bug (a database shared between tests, a Redis not flushed, a server that cannot
come back after a restart) would show up as flaky failures far away in engine tests; these
pin the fixtures' own promises first.
"""

from __future__ import annotations

import pytest
import redis
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from personalization.store.migrate import VERSION_TABLE, alembic_config
from tests.conftest import Backend
from tests.support import servers
from tests.support.servers import PostgresServer, RedisServer, ServerUnavailable


def _scalar(url: str, query: str):
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query)).scalar_one()
    finally:
        engine.dispose()


def _head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_postgres_accepts_a_query_and_a_write(pg_url: str):
    engine = create_engine(pg_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (id serial PRIMARY KEY, note text NOT NULL)"))
            conn.execute(text("INSERT INTO probe (note) VALUES ('written')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT note FROM probe")).scalars().all() == ["written"]
            assert conn.execute(text("SHOW server_version")).scalar_one().startswith("15")
    finally:
        engine.dispose()


def test_pg_url_is_a_fresh_database_at_the_newest_migration(pg_url: str):
    engine = create_engine(pg_url, poolclass=NullPool)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert VERSION_TABLE in tables
    assert "usage_event" in tables
    assert "probe" not in tables  # the previous test's database is not this one
    assert _scalar(pg_url, f"SELECT version_num FROM {VERSION_TABLE}") == _head_revision()


def test_db_url_is_migrated_on_each_backend(db_url: str, request: pytest.FixtureRequest):
    kind = request.node.callspec.params["db_url"]
    assert db_url.startswith("sqlite:///" if kind == "sqlite" else "postgresql+psycopg://")
    assert _scalar(db_url, f"SELECT version_num FROM {VERSION_TABLE}") == _head_revision()


def test_backend_pairs_the_database_with_redis(backend: Backend):
    assert _scalar(backend.db_url, f"SELECT version_num FROM {VERSION_TABLE}") == _head_revision()
    if backend.name == "sqlite":
        assert backend.redis_url is None
        return
    client = redis.Redis.from_url(backend.redis_url)
    try:
        assert client.ping()
        assert client.dbsize() == 0  # flushed for this test
    finally:
        client.close()


def test_redis_set_and_get(redis_url: str):
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0
        client.set("greeting", "hello", ex=60)
        assert client.get("greeting") == b"hello"
    finally:
        client.close()


def test_redis_restart_keeps_the_port_and_serves_again(redis_server: RedisServer, redis_url):
    port = redis_server.port
    redis_server.restart()
    assert redis_server.port == port and redis_server.url == redis_url
    redis_server.kill()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    redis_server.start()
    client = redis.Redis.from_url(redis_url)
    try:
        client.set("after", "restart")
        assert client.get("after") == b"restart"
    finally:
        client.close()


def test_postgres_stop_then_start_keeps_committed_data(postgres_server: PostgresServer, pg_url):
    engine = create_engine(pg_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE kept (n int)"))
            conn.execute(text("INSERT INTO kept VALUES (7)"))
        port = postgres_server.port
        postgres_server.stop()
        assert not postgres_server.running
        with pytest.raises(OperationalError), engine.connect():
            pass
        postgres_server.start()
        assert postgres_server.port == port
        assert _scalar(pg_url, "SELECT n FROM kept") == 7
    finally:
        engine.dispose()


def test_postgres_recovers_after_a_hard_kill(postgres_server: PostgresServer, pg_url: str):
    engine = create_engine(pg_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE survived (n int)"))
            conn.execute(text("INSERT INTO survived VALUES (1)"))
        with engine.connect() as conn:  # commits are asynchronous here: flush them to disk
            conn.execute(text("CHECKPOINT"))
        postgres_server.kill()
        postgres_server.start()  # crash recovery, then connections again
        assert _scalar(pg_url, "SELECT n FROM survived") == 1
    finally:
        engine.dispose()


def test_missing_binaries_name_the_package_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ADAPTIVE_PG_BINDIR", raising=False)
    monkeypatch.setattr(servers.shutil, "which", lambda *a, **k: None)
    monkeypatch.setattr(servers.glob, "glob", lambda pattern: [])
    with pytest.raises(ServerUnavailable, match="'postgresql'"):
        servers.pg_bindir()
    with pytest.raises(ServerUnavailable, match="'redis-server'"):
        servers.redis_binary()
