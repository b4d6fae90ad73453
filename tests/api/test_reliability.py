"""Reliability over real HTTP against ``python -m personalization.api`` in a subprocess:
concurrent clients with lost answers and resent batches store every event exactly once,
and a server killed with SIGKILL mid-ingest loses nothing it acknowledged."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from personalization.client import Client, RetryPolicy
from tests.api.server import ApiServer, create_key

CLIENTS, PER_CLIENT, BATCH = 8, 2000, 100
COMMANDS = ("open", "save", "export_pdf", "undo", "redo", "find", "copy", "paste")


class FlakyNetwork(httpx.HTTPTransport):
    """Real HTTP that sometimes fails before sending (connect error) and sometimes after the
    server answered (the answer is lost): the case that tempts clients to duplicate."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        super().__init__()
        self.rng, self.rate = rng, rate
        self.lost_answers = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.rng.random() < self.rate:
            raise httpx.ConnectError("simulated: connection refused", request=request)
        response = super().handle_request(request)
        if self.rng.random() < self.rate:
            response.read()
            response.close()
            self.lost_answers += 1
            raise httpx.ReadError("simulated: connection reset before the answer", request=request)
        return response


def _rows(db: Path) -> list[tuple[str, str]]:
    """The clients' events (the engine also logs its own task-panel events, kind panel_*)."""
    with sqlite3.connect(db) as conn:
        sql = "SELECT user_id, client_event_id FROM usage_event WHERE kind = 'invoke'"
        return conn.execute(sql).fetchall()


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _events(client_no: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "client_event_id": f"c{client_no}-{i}",
            "user_id": f"user{client_no}-{i % 3}",
            "command": COMMANDS[(i * 5 + client_no) % len(COMMANDS)],
            "client_time": 1_700_000_000 + i,
        }
        for i in range(count)
    ]


def test_concurrent_clients_with_retries_store_each_event_once(tmp_path: Path) -> None:
    server = ApiServer(tmp_path / "load.db", tmp_path / "server.log")
    key = create_key(server.db_url, scopes=("ingest",))
    server.start()
    errors: list[BaseException] = []
    resent = [0] * CLIENTS
    lost = [0] * CLIENTS
    retry = RetryPolicy(attempts=10, backoff=0.02, max_backoff=0.2)

    def run(no: int) -> None:
        rng = random.Random(no)
        network = FlakyNetwork(rng, rate=0.1)
        try:
            with Client(
                server.url,
                key,
                application="shop",
                transport=network,
                retry=retry,
                timeout=120,
                batch_size=BATCH,
            ) as client:
                events = _events(no, PER_CLIENT)
                for start in range(0, PER_CLIENT, BATCH):
                    batch = events[start : start + BATCH]
                    result = client.send(batch)
                    assert result.rejected == 0, result.rejections[:3]
                    if rng.random() < 0.25:  # the caller resends a whole batch anyway
                        again = client.send(batch)
                        assert again.duplicates == len(batch)
                        resent[no] += 1
            lost[no] = network.lost_answers
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(no,)) for no in range(CLIENTS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
    finally:
        server.stop()
    assert not errors, errors[:3]
    assert sum(resent) > 0 and sum(lost) > 0  # the retry paths really ran
    rows = _rows(tmp_path / "load.db")
    expected = {
        (f"shop:{e['user_id']}", e["client_event_id"])
        for no in range(CLIENTS)
        for e in _events(no, PER_CLIENT)
    }
    assert len(rows) == CLIENTS * PER_CLIENT == 16_000
    assert set(rows) == expected
    assert _integrity(tmp_path / "load.db") == "ok"


def test_sigkill_mid_ingest_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "kill.db"
    server = ApiServer(db, tmp_path / "server.log")
    key = create_key(server.db_url, scopes=("ingest",))
    server.start()
    events = _events(0, 3000)
    batches = [events[i : i + 50] for i in range(0, len(events), 50)]
    acked: list[int] = []
    stop = threading.Event()
    headers = {"Authorization": f"Bearer {key}"}

    def sender() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            for index, batch in enumerate(batches):
                if stop.is_set():
                    return
                try:
                    response = http.post("/api/v1/apps/shop/events", json={"events": batch})
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    acked.append(index)

    thread = threading.Thread(target=sender)
    thread.start()
    deadline = time.monotonic() + 300
    while len(acked) < 5 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    server.kill()  # SIGKILL, with the sender still sending
    stop.set()
    thread.join(timeout=120)
    assert 5 <= len(acked) < len(batches), "the kill must land mid-ingest"

    assert _integrity(db) == "ok"
    stored = set(_rows(db))
    for index in acked:
        for event in batches[index]:
            assert (f"shop:{event['user_id']}", event["client_event_id"]) in stored

    server.start()  # same database file, recovered from its WAL
    try:
        with Client(server.url, key, application="shop", timeout=120) as client:
            result = client.send(events)  # everything again: nothing doubles
        assert result.rejected == 0
        assert result.accepted + result.duplicates == len(events)
        assert result.duplicates >= len(acked) * 50
    finally:
        server.stop()
    assert len(_rows(db)) == len(events)
    assert _integrity(db) == "ok"
