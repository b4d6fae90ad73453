"""Faults under load: a worker SIGKILLed mid-ingest, and Redis restarting mid-ingest.

In both, several senders stream real logs (Schonlau users, interleaved) round-robin over
the three workers with the SDK; a batch whose worker fails is resent, with the same client
event ids, to the next worker. Afterwards every acknowledged event (``accepted`` or
``duplicate``) must be in PostgreSQL exactly once, and every worker must predict what an
engine that never saw the fault predicts: a fresh in-process engine on the same database,
and a from-scratch replay of the stored log with no checkpoints at all. Anything else would
mean a crash or an outage changed what people are served.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from personalization.client import ApiError, Client, DeliveryError, RetryPolicy
from personalization.datasets import schonlau
from personalization.service import Personalizer
from tests.cluster.conftest import API, APP, WORKERS, Cluster, engine_user, ranked
from tests.support.servers import RedisServer

BATCH = 50
COMMANDS_PER_USER = 600
T0 = 1_700_000_000.0
DEADLINE_S = 120.0


def streams(users: list[str], senders: int) -> list[list[dict[str, Any]]]:
    """One event stream per sender, each interleaving its own people's real logs (a person
    belongs to one sender, so their events arrive in log order)."""
    logs = {user: events[:COMMANDS_PER_USER] for user, events in schonlau(users=users)}
    out: list[list[dict[str, Any]]] = [[] for _ in range(senders)]
    for n in range(COMMANDS_PER_USER):
        for k, user in enumerate(users):
            part = out[k % senders]
            part.append(
                {
                    "client_event_id": f"{user}-{n}",
                    "user_id": user,
                    "command": logs[user][n].command,
                    "client_time": T0 + n * len(users) + k,
                }
            )
    return out


@dataclass
class Delivery:
    """What the senders saw: acknowledged events, refused ones, failed attempts."""

    acked: set[tuple[str, str]] = field(default_factory=set)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    batches: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def send_all(
    cluster: Cluster,
    parts: list[list[dict[str, Any]]],
    retry: RetryPolicy,
    fault: Callable[[Delivery], None],
) -> Delivery:
    """Stream every part from its own thread, batch b of a part first to worker b % 3 and,
    if that worker gives no answer (or 5xx) after the SDK's retries, to the next one with
    the same events. ``fault`` runs in another thread alongside and injects the failure."""
    delivery = Delivery()

    def sender(part: list[dict[str, Any]]) -> None:
        clients = [
            Client(s.url, cluster.key, application=APP, batch_size=BATCH, retry=retry)
            for s in cluster.servers
        ]
        try:
            for b, start in enumerate(range(0, len(part), BATCH)):
                batch = part[start : start + BATCH]
                deadline = time.monotonic() + DEADLINE_S
                worker = b % WORKERS
                while True:
                    try:
                        result = clients[worker].send(batch)
                        break
                    except (DeliveryError, ApiError) as exc:
                        if isinstance(exc, ApiError) and exc.status < 500:
                            raise
                        with delivery.lock:
                            delivery.failures.append(f"worker {worker}: {exc}")
                        assert time.monotonic() < deadline, "no worker took the batch"
                        worker = (worker + 1) % WORKERS
                with delivery.lock:
                    delivery.batches += 1
                    for r in result.results:
                        if r.status in ("accepted", "duplicate"):
                            delivery.acked.add((engine_user(batch[r.index]["user_id"]), r.client_event_id))
                        else:
                            delivery.rejected.append({**batch[r.index], "reason": r.reason, "field": r.field})
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with delivery.lock:
                delivery.errors.append(exc)
        finally:
            for c in clients:
                c.close()

    threads = [threading.Thread(target=sender, args=(p,)) for p in parts]
    injector = threading.Thread(target=fault, args=(delivery,))
    for t in (*threads, injector):
        t.start()
    for t in (*threads, injector):
        t.join(timeout=DEADLINE_S * 2)
        assert not t.is_alive(), "a sender hung"
    assert not delivery.errors, delivery.errors
    return delivery


def wait_for_batches(delivery: Delivery, count: int) -> None:
    """Block until the senders had ``count`` batches acknowledged (the fault then lands
    mid-run, with the rest still to send)."""
    deadline = time.monotonic() + DEADLINE_S
    while delivery.batches < count:
        assert time.monotonic() < deadline, "the senders made no progress"
        time.sleep(0.01)


def stored_rows(cluster: Cluster, users: list[str]) -> list[tuple[str, str, int]]:
    """(user, client event id, how many rows) for the people's usage events (the engine also
    logs its own task-panel events, kind ``panel_*``: not the senders')."""
    return [
        tuple(r)
        for r in cluster.sql(
            "SELECT user_id, client_event_id, count(*) FROM usage_event"
            " WHERE kind = 'invoke' AND user_id = ANY(:users)"
            " GROUP BY user_id, client_event_id",
            users=[engine_user(u) for u in users],
        )
    ]


def stored_log(cluster: Cluster, user: str) -> list[dict[str, Any]]:
    rows = cluster.sql(
        "SELECT client_event_id, command, client_time FROM usage_event"
        " WHERE user_id = :user ORDER BY id",
        user=engine_user(user),
    )
    return [{"client_event_id": c, "command": m, "client_time": t} for c, m, t in rows]


def assert_stored_exactly_once(
    cluster: Cluster, users: list[str], parts: list[list[dict[str, Any]]], delivery: Delivery
) -> None:
    rows = stored_rows(cluster, users)
    assert [r for r in rows if r[2] != 1] == []  # no event stored twice
    assert {(u, c) for u, c, _n in rows} == delivery.acked  # none missing, none extra
    # Every event was eventually acknowledged, except the real log's few non-identifier
    # commands, which every worker refuses with the field and reason.
    sent = sum(len(p) for p in parts)
    assert len(delivery.acked) + len(delivery.rejected) == sent
    assert len(delivery.rejected) < sent // 100
    assert {(r["field"], r["reason"][:13]) for r in delivery.rejected} <= {
        ("command", "must be an id")
    }, delivery.rejected[:3]
    # and each person's log is in the order it was sent (a thread sends their batches in turn)
    for user in users:
        sent_ids = [
            e["client_event_id"]
            for p in parts
            for e in p
            if e["user_id"] == user and (engine_user(user), e["client_event_id"]) in delivery.acked
        ]
        assert [e["client_event_id"] for e in stored_log(cluster, user)] == sent_ids, user


def replayed(cluster: Cluster, users: list[str], tmp_path: Path) -> dict[str, list[tuple]]:
    """Each person's top 10 from an engine that learns their stored log from scratch, in
    stored order, on its own SQLite database: no checkpoint, no cache, no fault."""
    engine = Personalizer(url=f"sqlite:///{tmp_path / 'replay.db'}", control_percent=0)
    try:
        for user in users:
            engine.record(engine_user(user), stored_log(cluster, user))
        return {u: ranked(engine.predictions(engine_user(u), k=10)) for u in users}
    finally:
        engine.close()


def assert_predictions_match(
    cluster: Cluster, users: list[str], workers: list[int], tmp_path: Path
) -> None:
    served = {(w, u): cluster.predictions(w, u) for w in workers for u in users}
    fresh = cluster.engine()
    try:
        expected = {u: ranked(fresh.predictions(engine_user(u), k=10)) for u in users}
    finally:
        fresh.close()
    scratch = replayed(cluster, users, tmp_path)
    for user in users:
        assert len(expected[user]) == 10
        assert scratch[user] == expected[user], f"{user}: checkpoint + tail != full replay"
        for w in workers:
            assert served[(w, user)] == expected[user], f"{user} from worker {w}"


@pytest.fixture
def restarts_killed(cluster: Cluster) -> Iterator[None]:
    """Leave the module's cluster with three live workers whatever the test did."""
    yield
    for server in cluster.servers:
        if server.proc is None or server.proc.poll() is not None:
            server.start()


def test_sigkill_mid_ingest_loses_and_duplicates_nothing(
    cluster: Cluster, restarts_killed: None, tmp_path: Path
) -> None:
    users = [f"User{i}" for i in range(7, 13)]
    parts = streams(users, senders=3)
    total_batches = sum(-(-len(p) // BATCH) for p in parts)
    victim = cluster.servers[1]

    def kill(delivery: Delivery) -> None:
        wait_for_batches(delivery, total_batches // 3)
        victim.kill()

    # Few quick attempts per worker: a dead worker is given up on fast and the batch moves on.
    retry = RetryPolicy(attempts=2, backoff=0.05, max_backoff=0.1)
    delivery = send_all(cluster, parts, retry, kill)

    assert victim.proc is not None and victim.proc.returncode == -9
    assert any(f.startswith("worker 1:") for f in delivery.failures)  # batches were rerouted
    assert_stored_exactly_once(cluster, users, parts, delivery)
    assert_predictions_match(cluster, users, [0, 2], tmp_path)

    # Back from the dead, the worker serves the same: its state is all in the database.
    victim.start()
    assert_predictions_match(cluster, users, [1], tmp_path)


def test_redis_restart_mid_ingest(
    cluster: Cluster, redis_server: RedisServer, tmp_path: Path
) -> None:
    users = [f"User{i}" for i in range(13, 19)]
    parts = streams(users, senders=3)
    total_batches = sum(-(-len(p) // BATCH) for p in parts)

    def restart(delivery: Delivery) -> None:
        wait_for_batches(delivery, total_batches // 3)
        redis_server.restart()

    # Patient retries: while Redis is down every worker answers 503 with Retry-After.
    retry = RetryPolicy(attempts=40, backoff=0.05, max_backoff=0.5, max_retry_after=0.5)
    delivery = send_all(cluster, parts, retry, restart)

    assert_stored_exactly_once(cluster, users, parts, delivery)
    assert_predictions_match(cluster, users, [0, 1, 2], tmp_path)

    # Task panels live in Redis, which came back empty: a new session still gets one, and
    # every worker sees the same session.
    task_id, trigger = "insert_table", "insert_table"
    event = {
        "client_event_id": "after-restart-1",
        "user_id": users[0],
        "command": trigger,
        "session_id": "after-restart",
    }
    assert cluster.ingest(0, [event])["accepted"] == 1
    path = f"{API}/users/{users[0]}/panels"
    with cluster.http(1) as client:
        shown = client.get(path, params={"session_id": "after-restart"})
    assert shown.status_code == 200, shown.text
    assert [(p["task_id"], p["state"]) for p in shown.json()["panels"]] == [(task_id, "suggested")]
    with cluster.http(2) as client:
        opened = client.post(
            f"{path}/{task_id}", json={"action": "open", "session_id": "after-restart"}
        )
    assert opened.status_code == 200, opened.text
    with cluster.http(0) as client:
        again = client.get(path, params={"session_id": "after-restart"})
    assert [(p["task_id"], p["state"]) for p in again.json()["panels"]] == [(task_id, "open")]
