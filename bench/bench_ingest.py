"""Batched ingest speed of ``EventStore.append`` against a raw ``executemany`` baseline.

The baseline inserts the very same rows into the very same table (same indexes, same
pragmas) as pre-built tuples straight through ``sqlite3``: pure database cost, with no
validation, no duplicate detection and no statuses. Rounds alternate between the two on
fresh database files so a busy machine slows both alike; the medians are reported.

    .venv/bin/python bench/bench_ingest.py [--events 200000] [--batch 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from personalization.store.event_store import EventStore

RESULTS = Path(__file__).resolve().parent / "results"
COMMANDS = ("open", "save", "export", "share", "search", "settings.open", "file/new", "undo")
ROUTES = ("/", "/editor", "/settings", "/reports/monthly")
DEVICES = ("desktop", "tablet", "mobile")


def make_events(n: int, users: int) -> list[dict[str, Any]]:
    """Events as a browser would send them: epoch-second floats, some context."""
    t0 = 1_700_000_000.0
    return [
        {
            "client_event_id": f"c{i}",
            "user_id": f"user-{i % users}",
            "command": COMMANDS[(i * 7) % len(COMMANDS)],
            "client_time": t0 + i * 0.25,
            "route": ROUTES[i % len(ROUTES)],
            "device": DEVICES[i % len(DEVICES)],
            "session_id": f"s{(i // 50) % 997}",
        }
        for i in range(n)
    ]


def _stored_tuples(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    now = time.time()
    return [
        (
            e["client_event_id"],
            e["user_id"],
            e["command"],
            "invoke",
            e["client_time"],
            now,
            None,
            None,
            e["route"],
            e["device"],
            e["session_id"],
            None,
        )
        for e in events
    ]


def raw_executemany(path: Path, events: list[dict[str, Any]], batch: int) -> float:
    EventStore(f"sqlite:///{path}").close()  # same schema and indexes as the store
    rows = _stored_tuples(events)  # conversion is not timed: the baseline is pure insert
    sql = (
        "INSERT INTO usage_event (client_event_id, user_id, command, kind, client_time, "
        "server_time, component, region, route, device, session_id, task_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        con.executemany(sql, rows[i : i + batch])
        con.commit()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def store_append(path: Path, events: list[dict[str, Any]], batch: int) -> tuple[float, float]:
    store = EventStore(f"sqlite:///{path}")
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        result = store.append(events[i : i + batch])
        assert result.accepted == len(events[i : i + batch]), result.rejections[:3]
    first = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        result = store.append(events[i : i + batch])
        assert result.duplicates == len(events[i : i + batch])
    retry = time.perf_counter() - start
    assert store.count() == len(events)
    store.close()
    return first, retry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    events = make_events(args.events, args.users)
    raw, ours, retry = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            raw.append(raw_executemany(Path(tmp) / f"raw{r}.db", events, args.batch))
            first, again = store_append(Path(tmp) / f"store{r}.db", events, args.batch)
            ours.append(first)
            retry.append(again)
    n = args.events
    result = {
        "events": n,
        "users": args.users,
        "batch": args.batch,
        "rounds": args.rounds,
        "raw_executemany_events_per_s": round(n / statistics.median(raw)),
        "store_append_events_per_s": round(n / statistics.median(ours)),
        "store_retry_all_duplicates_events_per_s": round(n / statistics.median(retry)),
    }
    result["store_vs_raw"] = round(
        result["store_append_events_per_s"] / result["raw_executemany_events_per_s"], 3
    )
    print(f"{'measure':<42}{'value':>12}")
    for key, value in result.items():
        print(f"{key:<42}{value:>12}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_ingest.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
