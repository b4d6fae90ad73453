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

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.registry import demo_registry
from personalization.client import ApiError, Client, DeliveryError, RetryPolicy
from personalization.engine.personalizer import Personalizer
from personalization.evaluation.datasets import schonlau
from personalization.store.events import ID_PATTERN
from tests.cluster.conftest import API, APP, WORKERS, Cluster, engine_user, ranked
from tests.support.servers import RedisServer

IDENTIFIER = re.compile(ID_PATTERN)
BATCH = 50
COMMANDS_PER_USER = 600
T0 = 1_700_000_000.0
DEADLINE_S = 120.0
RACE_COMMANDS = 1_500  # per person: 30 concurrent batches per sender


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


class Counting(httpx.HTTPTransport):
    """Real HTTP that counts the answers by status, so a test can wait until the workers
    actually answered through the fault."""

    def __init__(self, delivery: Delivery) -> None:
        super().__init__()
        self.delivery = delivery

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        with self.delivery.lock:
            self.delivery.statuses[response.status_code] += 1
        return response


@dataclass
class Delivery:
    """What the senders saw: acknowledged events, refused ones, failed attempts, and every
    HTTP answer by status."""

    acked: set[tuple[str, str]] = field(default_factory=set)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    batches: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
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
            Client(
                s.url,
                cluster.key,
                application=APP,
                batch_size=BATCH,
                retry=retry,
                transport=Counting(delivery),
            )
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
                        if isinstance(exc, ApiError) and exc.status not in (502, 503, 504):
                            raise  # a refusal or a 500 is a bug, never a reason to reroute
                        with delivery.lock:
                            delivery.failures.append(f"worker {worker}: {exc}")
                        assert time.monotonic() < deadline, "no worker took the batch"
                        worker = (worker + 1) % WORKERS
                with delivery.lock:
                    delivery.batches += 1
                    for r in result.results:
                        if r.status in ("accepted", "duplicate"):
                            delivery.acked.add(
                                (engine_user(batch[r.index]["user_id"]), r.client_event_id)
                            )
                        else:
                            delivery.rejected.append(
                                {**batch[r.index], "reason": r.reason, "field": r.field}
                            )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with delivery.lock:
                delivery.errors.append(exc)
        finally:
            for c in clients:
                c.close()

    def inject() -> None:
        try:
            fault(delivery)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with delivery.lock:
                delivery.errors.append(exc)

    threads = [threading.Thread(target=sender, args=(p,)) for p in parts]
    injector = threading.Thread(target=inject)
    for t in (*threads, injector):
        t.start()
    for t in (*threads, injector):
        t.join(timeout=DEADLINE_S * 2)
        assert not t.is_alive(), "a sender or the fault hung"
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
    for event in delivery.rejected:
        assert event["field"] == "command" and not IDENTIFIER.match(event["command"]), event
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
    engine = Personalizer(
        url=f"sqlite:///{tmp_path / 'replay.db'}", registry=demo_registry(), control_percent=0
    )
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
    assert delivery.statuses[500] == 0, delivery.statuses
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
        redis_server.stop()
        # down until the senders ran into it, however fast they are
        deadline = time.monotonic() + DEADLINE_S
        while not delivery.statuses[503]:
            assert time.monotonic() < deadline, "no request noticed Redis was down"
            time.sleep(0.01)
        redis_server.start()

    # Patient retries: while Redis is down every worker answers 503 with Retry-After.
    retry = RetryPolicy(attempts=40, backoff=0.05, max_backoff=0.5, max_retry_after=0.5)
    delivery = send_all(cluster, parts, retry, restart)

    assert delivery.statuses[503] > 0 and delivery.statuses[500] == 0, delivery.statuses
    assert_stored_exactly_once(cluster, users, parts, delivery)
    assert_predictions_match(cluster, users, [0, 1, 2], tmp_path)

    # Task panels live in Redis, which came back empty: a new session still gets one (its
    # trigger command opens it), and every worker sees and changes the same session.
    task_id = "insert_table"  # triggered by running the command of the same name
    session = {"session_id": "after-restart"}
    event = {"client_event_id": "after-restart-1", "user_id": users[0], "command": task_id}
    assert cluster.ingest(0, [{**event, **session}])["accepted"] == 1
    path = f"{API}/users/{users[0]}/panels"
    with cluster.http(1) as client:
        shown = client.get(path, params=session)
    assert shown.status_code == 200, shown.text
    assert [(p["task_id"], p["state"]) for p in shown.json()["panels"]] == [(task_id, "open")]
    with cluster.http(2) as client:
        closed = client.post(f"{path}/{task_id}", json={"action": "close", **session})
    assert closed.status_code == 200, closed.text
    assert closed.json()["panels"] == []
    with cluster.http(0) as client:
        reopened = client.post(f"{path}/{task_id}", json={"action": "reopen", **session})
    assert reopened.status_code == 200, reopened.text
    assert [(p["task_id"], p["state"]) for p in reopened.json()["panels"]] == [(task_id, "open")]


def metric(cluster: Cluster, name: str) -> float:
    rows = cluster.sql("SELECT value FROM shared_counter WHERE name = :name", name=name)
    return float(rows[0][0]) if rows else 0.0


def test_one_persons_batches_racing_through_three_workers(cluster: Cluster, tmp_path: Path) -> None:
    """The same people's batches sent at once to all three workers (three senders, each
    with a third of every person's log, naming the people in its own order): with nothing
    down, every batch must be answered 200 with each event ``accepted`` (never a 503 and a
    resend), arrival order is decided by the database and every worker, a fresh engine and
    a full replay agree on it, and each event is scored for the live metrics exactly once,
    by whichever worker stored it."""
    users = [f"User{i}" for i in range(19, 25)]
    logs = {u: events[:RACE_COMMANDS] for u, events in schonlau(users=users)}
    parts = [
        [
            {
                "client_event_id": f"{u}-race-{n}",
                "user_id": u,
                "command": logs[u][n].command,
                "client_time": T0 + n,
            }
            for n in range(t, RACE_COMMANDS, WORKERS)
            for u in users[t:] + users[:t]  # each sender names the people in another order
        ]
        for t in range(WORKERS)
    ]
    scored_before = metric(cluster, "metrics.hit.overall.n")
    delivery = Delivery()
    barrier = threading.Barrier(WORKERS)
    results: list[Any] = [None] * WORKERS

    def send(t: int) -> None:
        url, key = cluster.servers[t].url, cluster.key
        with Client(url, key, application=APP, transport=Counting(delivery)) as client:
            barrier.wait(timeout=DEADLINE_S)
            results[t] = client.send(parts[t])

    threads = [threading.Thread(target=send, args=(t,)) for t in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_S)
        assert not thread.is_alive()
    assert all(r is not None for r in results), "a sender failed"

    # nothing was down, so any 503 is a bug (the worker logs name the cause)
    assert set(delivery.statuses) == {200}, delivery.statuses
    rejected = sum(r.rejected for r in results)
    accepted = sum(r.accepted for r in results)
    assert sum(r.duplicates for r in results) == 0
    assert accepted + rejected == sum(len(p) for p in parts)
    rows = stored_rows(cluster, users)
    assert len(rows) == accepted and all(n == 1 for *_k, n in rows)
    assert metric(cluster, "metrics.hit.overall.n") - scored_before == accepted
    assert_predictions_match(cluster, users, [0, 1, 2], tmp_path)
