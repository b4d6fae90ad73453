"""Three API worker processes on one PostgreSQL database and one Redis, as a deployment
runs them, so the tests see what only a real cluster shows: a batch stored by one worker
and read back by another, a worker killed mid-request, Redis restarting under load.

Each test module gets its own cluster (a fresh database, Redis flushed, three
``python -m personalization.api`` subprocesses with one worker each) started once for the
module: starting nine processes per test would dominate the run. A module that must prepare
the database before the workers start (publish a population artifact) overrides
``cluster_setup``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import text

from personalization.engine.personalizer import Personalizer
from personalization.store.db import make_engine
from personalization.store.migrate import upgrade
from personalization.types import Prediction
from tests.api.server import ApiServer, create_key
from tests.support.servers import PostgresServer, RedisServer

APP = "shop"
SCOPES = ("ingest", "layout", "registry", "user-data")
WORKERS = 3
API = f"/api/v1/apps/{APP}"


def cluster_env(redis_url: str) -> dict[str, str]:
    """What every worker runs with: shared Redis, every event scored for the live metrics
    and flushed by the request that scored it (so the shared counters are complete whenever
    no request is running), no control group, and no background jobs that would retrain or
    expire events behind a test's back."""
    return {
        "ADAPTIVE_REDIS_URL": redis_url,
        "ADAPTIVE_METRICS_SAMPLE": "1",
        "ADAPTIVE_METRICS_FLUSH_S": "0",
        "ADAPTIVE_CONTROL_PERCENT": "0",
        "ADAPTIVE_RETRAIN_INTERVAL_S": "0",
        "ADAPTIVE_RETENTION_INTERVAL_S": "0",
    }


def engine_user(user_id: str) -> str:
    """The engine's id for an application's user (``application:user_id``)."""
    return f"{APP}:{user_id}"


def ranked(predictions: list[Prediction] | list[dict[str, Any]]) -> list[tuple[str, float, str]]:
    """Predictions as comparable tuples, from the engine's objects or the API's JSON."""
    out = []
    for p in predictions:
        if isinstance(p, dict):
            out.append((p["command"], p["probability"], p["reason"]))
        else:
            out.append((p.command, p.probability, p.reason))
    return out


@dataclass
class Cluster:
    """The three workers, their shared database and Redis, and an every-scope key."""

    db_url: str
    redis_url: str
    servers: list[ApiServer]
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def http(self, i: int, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.servers[i].url, headers=self.headers, timeout=timeout)

    def ingest(self, i: int, events: list[dict[str, Any]]) -> dict[str, Any]:
        """One raw batch to worker ``i``; the decoded answer (fails on any error status)."""
        with self.http(i) as client:
            response = client.post(f"{API}/events", json={"events": events})
        assert response.status_code == 200, response.text
        return response.json()

    def predictions(self, i: int, user_id: str, k: int = 10) -> list[tuple[str, float, str]]:
        with self.http(i) as client:
            response = client.get(f"{API}/users/{user_id}/predictions", params={"k": k})
        assert response.status_code == 200, response.text
        return ranked(response.json()["predictions"])

    def sql(self, query: str, **params: Any) -> list[Any]:
        engine = make_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query), params))
        finally:
            engine.dispose()

    def engine(self) -> Personalizer:
        """A fresh in-process engine on the cluster's database: nothing cached, so its
        first use of a person loads their checkpoint and replays the log after it. No Redis:
        it is only asked for predictions."""
        return Personalizer(url=self.db_url, control_percent=0, redis_url=None)


def start_all(servers: list[ApiServer]) -> None:
    """Start the workers side by side (each takes a few seconds to import the engine)."""
    with ThreadPoolExecutor(len(servers)) as pool:
        for future in [pool.submit(s.start) for s in servers]:
            future.result()


def fresh_database(postgres_server: PostgresServer) -> tuple[str, str]:
    """A new migrated database on the session's PostgreSQL: (name, url)."""
    postgres_server.start()  # no-op unless an earlier test stopped it
    name = f"cluster_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    upgrade(url)
    return name, url


@pytest.fixture(scope="module")
def cluster_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The module's database, dropped after its workers stopped."""
    name, url = fresh_database(postgres_server)
    try:
        yield url
    finally:
        postgres_server.start()
        postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def cluster_setup() -> Callable[[str], None]:
    """What to do to the database before the workers start (override per module)."""
    return lambda _url: None


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
    cluster_database: str,
    cluster_setup: Callable[[str], None],
) -> Iterator[Cluster]:
    redis_server.start()  # no-op unless an earlier test stopped it
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.flushall()
    finally:
        client.close()
    cluster_setup(cluster_database)
    key = create_key(cluster_database, scopes=SCOPES, application=APP)
    root = tmp_path_factory.mktemp("cluster")
    env = cluster_env(redis_server.url)
    servers = [
        ApiServer(None, root / f"worker{i}.log", db_url=cluster_database, env=env)
        for i in range(WORKERS)
    ]
    try:
        start_all(servers)
        yield Cluster(db_url=cluster_database, redis_url=redis_server.url, servers=servers, key=key)
    finally:
        for server in servers:
            server.stop()
