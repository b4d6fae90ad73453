"""Three workers serve exactly what one process serves.

The engine claims to be stateless over shared state: whichever worker stores a batch, any
other worker's next prediction for that person reflects it, bit for bit, because it loads
the person's checkpoint and replays the log after it in arrival order. If that were only
approximately true (a checkpoint losing float precision, a replay in another order, a
worker serving an older population prior, metrics scored twice or not at all), a
deployment would quietly serve something other than what the evaluation measured.

So the same real log (six Schonlau users, interleaved as they would arrive) goes once
through a single in-process ``Personalizer`` and once through three API workers, batch i to
worker i % 3, and after every batch each person's top 10 is read from the single process
and from a worker that did not take the batch. Both databases first get the same population
artifact, trained on other Schonlau users, so both serve the same prior.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.registry import demo_registry
from personalization.engine.live_metrics import readout
from personalization.engine.personalizer import MIN_EVENTS_FOR_SCORER, Personalizer
from personalization.evaluation.datasets import schonlau
from personalization.store import counters
from personalization.store.db import make_engine
from personalization.store.event_store import AppendResult
from personalization.store.models import PopulationArtifact
from tests.cluster.conftest import WORKERS, Cluster, engine_user, fresh_database, ranked
from tests.support.servers import PostgresServer

USERS = [f"User{i}" for i in range(1, 7)]
PRIOR_USERS = [f"User{i}" for i in range(21, 31)]  # Schonlau users 20-29 (0-based)
# Enough of their commands that retraining fits a new scorer (MIN_EVENTS_FOR_SCORER), so
# both runs serve a scorer trained here, not only the shipped one; no more, to stay quick.
PRIOR_COMMANDS = 2_100
COMMANDS_PER_USER = 400
BATCH = 100
T0 = 1_700_000_000.0
# Counters that are sums of floats: added in another order by three workers than by one
# process, so they may differ in the last bits. Every other counter counts events.
FLOAT_SUMS = (".rr", ".p", "cal.brier")


def publish_prior(url: str) -> None:
    """Store the prior users' full logs (the log only: no model, no metrics) and publish a
    population artifact trained on them, as a retraining job would."""
    engine = Personalizer(url=url, registry=demo_registry(), control_percent=0, redis_url=None)
    stored = 0
    try:
        for user, events in schonlau(users=PRIOR_USERS):
            rows = [
                {
                    "client_event_id": f"prior-{n}",
                    "user_id": engine_user(user),
                    "command": ev.command,
                    "client_time": T0 - 1e6 + n,
                }
                for n, ev in enumerate(events[:PRIOR_COMMANDS])
            ]
            stored += engine.store.append(rows).codes.count("accepted")
        assert stored >= MIN_EVENTS_FOR_SCORER
        engine.retrain_population().result()
        assert engine.population_version == 1
    finally:
        engine.close()


@pytest.fixture(scope="module")
def cluster_setup() -> Callable[[str], None]:
    """Run B's database gets the prior before its workers start."""
    return publish_prior


@pytest.fixture(scope="module")
def single_database(postgres_server: PostgresServer) -> Iterator[str]:
    """Run A's own database, with the same prior."""
    name, url = fresh_database(postgres_server)
    try:
        publish_prior(url)
        yield url
    finally:
        postgres_server.start()
        postgres_server.drop_database(name)


def stream() -> list[dict[str, Any]]:
    """The six logs interleaved one command each in turn, as the API would receive them
    from six people working at once. Commands that are not identifiers (Schonlau has
    ``c++filt``, ``%backup%``) stay in: both runs must reject them the same way."""
    logs = {user: events[:COMMANDS_PER_USER] for user, events in schonlau(users=USERS)}
    out = []
    for n in range(COMMANDS_PER_USER):
        for user in USERS:
            out.append(
                {
                    "client_event_id": f"{user}-{n}",
                    "user_id": user,
                    "command": logs[user][n].command,
                    "client_time": T0 + len(out),
                }
            )
    return out


def by_user(batch: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The batch as the ingest route hands it to the engine: split by person in order of
    first appearance, with engine user ids."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for event in batch:
        uid = engine_user(event["user_id"])
        groups.setdefault(uid, []).append({**event, "user_id": uid})
    return groups


def statuses(batch: list[dict[str, Any]], answers: dict[str, AppendResult]) -> list[str]:
    """The single process's answers in the batch's order (the shape the API returns)."""
    positions: dict[str, int] = {}
    out = []
    for event in batch:
        uid = engine_user(event["user_id"])
        pos = positions.get(uid, 0)
        positions[uid] = pos + 1
        out.append(answers[uid].codes[pos])
    return out


def shared_counters(url: str) -> dict[str, float]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return counters.read(conn, prefix="metrics.")
    finally:
        engine.dispose()


def artifact_payloads(url: str) -> list[tuple[int, int, str]]:
    engine = make_engine(url)
    table = PopulationArtifact.__table__  # type: ignore[attr-defined]
    try:
        with engine.connect() as conn:
            stmt = select(table.c.version, table.c.through_seq, table.c.payload)
            return [tuple(row) for row in conn.execute(stmt.order_by(table.c.version))]
    finally:
        engine.dispose()


def assert_counters_equal(single: dict[str, float], cluster: dict[str, float]) -> None:
    assert sorted(single) == sorted(cluster)
    for name, value in single.items():
        if name.endswith(FLOAT_SUMS):
            assert cluster[name] == pytest.approx(value, rel=1e-9), name
        else:
            assert cluster[name] == value, name


def assert_close(actual: Any, expected: Any, where: str = "readout") -> None:
    """Nested readouts equal, floats to 1e-9 relative (``pytest.approx`` takes no nesting)."""
    if isinstance(expected, dict):
        assert sorted(actual) == sorted(expected), where
        for name in expected:
            assert_close(actual[name], expected[name], f"{where}.{name}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), where
        for n, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_close(a, e, f"{where}[{n}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-9), where
    else:
        assert actual == expected, where


def test_three_workers_predict_exactly_what_one_process_predicts(
    cluster: Cluster, single_database: str
) -> None:
    # The precondition: both runs serve the same prior, trained the same way.
    assert artifact_payloads(cluster.db_url) == artifact_payloads(single_database)

    events = stream()
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    single = Personalizer(url=single_database, control_percent=0, metrics_sample=1.0)
    try:
        assert single.population_version == 1
        rejected = 0
        for i, batch in enumerate(batches):
            answers = single.record_many(by_user(batch))
            served = cluster.ingest(i % WORKERS, batch)
            expected = statuses(batch, answers)
            assert [r["status"] for r in served["results"]] == expected, f"batch {i}"
            rejected += expected.count("rejected")
            reader = (i + 1) % WORKERS  # never the worker that stored the batch
            for user in dict.fromkeys(e["user_id"] for e in batch):
                mine = ranked(single.predictions(engine_user(user), k=10))
                theirs = cluster.predictions(reader, user, k=10)
                assert len(mine) == 10
                assert theirs == mine, f"batch {i}, {user}, read from worker {reader}"
        assert 0 < rejected < len(events) // 100  # the real log's few non-identifier commands

        single.flush_metrics()
        mine_counters = shared_counters(single_database)
        theirs_counters = shared_counters(cluster.db_url)
        assert mine_counters["metrics.hit.overall.n"] == len(events) - rejected
        assert_counters_equal(mine_counters, theirs_counters)
        assert_close(readout(theirs_counters), readout(mine_counters))
    finally:
        single.close()
