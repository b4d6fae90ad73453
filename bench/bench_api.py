"""Events per second through the HTTP API (batches of 100; one client, then eight at once)
beside direct ingest in the same run, so the cost of HTTP + the engine facade is a ratio.

Three paths, each on a fresh SQLite file:

* ``store``: ``EventStore.append`` directly (the durable log alone);
* ``facade``: ``Personalizer.record`` directly (log + learning + profile + panels);
* ``api xN``: the real server (``python -m personalization.api`` in a subprocess) fed by
  N SDK clients in threads over real HTTP.

    .venv/bin/python bench/bench_api.py [--events 4000] [--batch 100]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session
from tqdm import tqdm

from personalization.api import keys
from personalization.client import Client
from personalization.engine.personalizer import Personalizer
from personalization.store.db import make_engine
from personalization.store.event_store import EventStore

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = ("open", "save", "export_pdf", "undo", "redo", "find", "copy", "paste")


def make_events(n: int, *, client: int = 0, users: int = 20) -> list[dict[str, Any]]:
    return [
        {
            "client_event_id": f"c{client}-{i}",
            "user_id": f"u{client}-{i % users}",
            "command": COMMANDS[(i * 7) % len(COMMANDS)],
            "client_time": 1_700_000_000.0 + i,
        }
        for i in range(n)
    ]


def bench_store(db: Path, events: list[dict[str, Any]], batch: int) -> float:
    store = EventStore(f"sqlite:///{db}")
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        store.append([{**e, "user_id": f"shop:{e['user_id']}"} for e in events[i : i + batch]])
    elapsed = time.perf_counter() - start
    store.close()
    return len(events) / elapsed


def bench_facade(db: Path, events: list[dict[str, Any]], batch: int) -> float:
    engine = Personalizer(url=f"sqlite:///{db}", control_percent=0)
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        part: dict[str, list[dict[str, Any]]] = {}
        for e in events[i : i + batch]:
            uid = f"shop:{e['user_id']}"
            part.setdefault(uid, []).append({**e, "user_id": uid})
        for uid, rows in part.items():
            engine.record(uid, rows)
    elapsed = time.perf_counter() - start
    engine.engine.dispose()
    return len(events) / elapsed


def _serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ADAPTIVE_API_RATE_LIMIT="1000000/minute", ADAPTIVE_CONTROL_PERCENT="0")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "personalization.api",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{db}",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("API server did not start")


def bench_api(db: Path, n: int, batch: int, clients: int, progress: tqdm) -> float:
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        _info, key = keys.create_key(session=session, name="bench", scopes=["ingest"])
    engine.dispose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = _serve(db, port)
    per_client = n // clients
    try:

        def run(no: int) -> None:
            events = make_events(per_client, client=no)
            with Client(f"http://127.0.0.1:{port}", key, batch_size=batch, timeout=300) as client:
                for i in range(0, len(events), batch):
                    client.send(events[i : i + batch])
                    progress.update(min(batch, len(events) - i))

        threads = [threading.Thread(target=run, args=(no,)) for no in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return per_client * clients / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    events = make_events(args.events)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results["store"] = bench_store(root / "store.db", events, args.batch)
        results["facade"] = bench_facade(root / "facade.db", events, args.batch)
        with tqdm(total=2 * args.events, desc="api", unit="ev", file=sys.stderr) as bar:
            results["api x1"] = bench_api(root / "api1.db", args.events, args.batch, 1, bar)
            results["api x8"] = bench_api(root / "api8.db", args.events, args.batch, 8, bar)
    print(f"{'path':<8} {'events/s':>10} {'vs store':>9} {'vs facade':>10}")
    for name, rate in results.items():
        print(
            f"{name:<8} {rate:>10.0f} {rate / results['store']:>9.3f} "
            f"{rate / results['facade']:>10.2f}"
        )
    print(json.dumps({k: round(v, 1) for k, v in results.items()}))


if __name__ == "__main__":
    main()
