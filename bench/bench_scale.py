"""Does the engine stay fast and small as the event log grows? 0.25 M, 1 M and all 4.7 M
MSNBC events, each in its own SQLite file.

Why: start-up used to replay the whole log, so time and memory grew with it. The engine now
loads only the newest registry and population artifact at start and a person's model on
demand into a bounded LRU cache, so start-up time and RSS, per-person latency and erasure
should be flat in the log size, memory bounded by ``ADAPTIVE_STATE_CACHE_USERS``, and the
HTTP ingest path a fair share of raw ``EventStore.append``. This measures each claim at
three sizes in one run, so ratios are comparable on a busy machine:

1. start-up time and RSS of ``Personalizer(url=...)`` in a fresh process (and how many SQL
   statements it runs), and of the API server until ``/api/v1/health`` answers;
2. RSS after predictions for 10,000 distinct visitors, default cache and a 1,000-person one;
3. first (cold) and repeated (warm) prediction latency, in-process;
4. ``erase_user`` time;
5. ingest events/s in batches of 100: raw ``EventStore.append`` beside the API (1 worker on
   SQLite; 1 and 3 workers on PostgreSQL + Redis, several client threads).

Each size is imported once into ``--cache-dir`` (``.bench-cache/msnbc-<size>.db``, ignored
by git) and reused; every run works on a fresh copy, so checkpoints and erasures written by
one run never change the next. Targets: start-up < 5 s and RSS < 300 MiB at every size,
cold p99 < 10 ms, warm p99 < 1 ms, API ingest >= 25 % of raw append.

    .venv/bin/python bench/bench_scale.py [--sizes 250000 1000000 all] [--quick]

Writes ``bench/results/bench_scale.json`` (``--quick`` only prints, unless ``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/bench_scale.py` puts bench/ first, not the root
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tqdm import tqdm  # noqa: E402

from personalization.evaluation.datasets import MSNBC_CATEGORIES, MSNBC_HEADER_LINES, datasets_dir  # noqa: E402

RESULTS = ROOT / "bench" / "results"
MSNBC_EVENTS = 4_698_794
MIB = 2**20
TARGETS = {
    "startup_s": 5.0,
    "startup_rss_mib": 300.0,
    "cold_p99_ms": 10.0,
    "warm_p99_ms": 1.0,
    "api_vs_raw": 0.25,
}
SERVER_ENV = {
    "ADAPTIVE_RETRAIN_INTERVAL_S": "0",
    "ADAPTIVE_RETENTION_INTERVAL_S": "0",
    "ADAPTIVE_API_RATE_LIMIT": "10000000/minute",
    "ADAPTIVE_CONTROL_PERCENT": "0",
    "PYTHONUNBUFFERED": "1",
}


class BenchError(RuntimeError):
    """A step failed; the message says which and shows the child's output."""


# ------------------------------------------------------------------------------ helpers


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS / VmHWM of a process in MiB (Linux ``/proc``)."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def tree_rss_mib(pid: int) -> float:
    """RSS of a process and its descendants (uvicorn with workers forks them)."""
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{parent}/task"):
                children = Path(f"/proc/{parent}/task/{task}/children").read_text().split()
                for child in children:
                    pids.append(int(child))
                    frontier.append(int(child))
    total = 0.0
    for p in pids:
        with contextlib.suppress(OSError):
            total += proc_status(p).get("VmRSS", 0.0)
    return round(total, 1)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def ms(value: float) -> float:
    return round(value * 1000, 3)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> dict[str, Any]:
    mem_kib = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = platform.processor()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "personalization"], capture_output=True, text=True
    )
    return {
        "git_commit": commit.stdout.strip() or None,
        "engine_uncommitted_changes": bool(dirty.stdout.strip()),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# ------------------------------------------------------------------------------ the log


def msnbc_path() -> Path:
    return datasets_dir() / "msnbc" / "msnbc990928.seq.gz"


def scan_msnbc(targets: list[int], tail_events: int) -> tuple[dict[int, tuple[int, int]], list]:
    """One pass over the gzip file: for each event target, the visitor count whose prefix
    first reaches it (and that prefix's exact event count); and the last visitors of the
    log holding ``tail_events`` events, as ``(visitor number, [command, ...])``."""
    cut: dict[int, tuple[int, int]] = {}
    pending = sorted(targets)
    tail: deque[tuple[int, list[str]]] = deque()
    in_tail = 0
    events = visitor = 0
    with gzip.open(msnbc_path(), "rt", encoding="ascii") as fh:
        for _ in range(MSNBC_HEADER_LINES):
            next(fh, None)
        for line in tqdm(fh, desc="scan msnbc", unit="visitor", file=sys.stderr, leave=False):
            tokens = line.split()
            if not tokens:
                continue
            visitor += 1
            events += len(tokens)
            while pending and events >= pending[0]:
                cut[pending.pop(0)] = (visitor, events)
            tail.append((visitor, [MSNBC_CATEGORIES[int(t) - 1] for t in tokens]))
            in_tail += len(tokens)
            while tail and in_tail - len(tail[0][1]) >= tail_events:
                in_tail -= len(tail.popleft()[1])
    for target in pending:  # beyond the log: everything
        cut[target] = (visitor, events)
    return cut, list(tail)


def ingest_events(tail: list, n: int, namespace: str) -> list[dict[str, Any]]:
    """``n`` MSNBC events of the log's last visitors as ``namespace:msnbc-<n>`` (people the
    database has never seen) with fresh client event ids."""
    out: list[dict[str, Any]] = []
    for visitor, commands in tail:
        for pos, command in enumerate(commands):
            out.append(
                {
                    "client_event_id": f"scale-{namespace}:{pos}",
                    "user_id": f"{namespace}:msnbc-{visitor}",
                    "command": command,
                }
            )
    return out[-n:]


def api_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same events as an API client sends them: the application prefix is the server's."""
    return [{**e, "user_id": e["user_id"].split(":", 1)[1]} for e in events]


# ------------------------------------------------------------------------------ databases


def size_label(size: int | None) -> str:
    return "all" if size is None else f"{size // 1000}k"


def ensure_import(cache: Path, size: int | None, visitors: int, events: int) -> dict[str, Any]:
    """The cached SQLite file for this size, imported now if absent (or incomplete)."""
    from personalization.evaluation.importers import import_msnbc
    from personalization.store.event_store import EventStore
    from personalization.store.migrate import upgrade

    label = size_label(size)
    db = cache / f"msnbc-{label}.db"
    marker = cache / f"msnbc-{label}.json"
    if db.exists() and marker.exists():
        info = json.loads(marker.read_text())
        if info.get("visitors") == visitors:
            return {**info, "reused": True}
    for stale in cache.glob(f"msnbc-{label}.db*"):
        stale.unlink()
    url = f"sqlite:///{db}"
    started = time.perf_counter()
    upgrade(url)
    with EventStore(url) as store:
        report = import_msnbc(store, limit=None if size is None else visitors)
        stored = store.count()
    seconds = time.perf_counter() - started
    if stored != events:
        raise BenchError(f"import of {label}: {stored} events stored, expected {events}")
    info = {
        "visitors": visitors,
        "events": stored,
        "import_s": round(seconds, 1),
        "import_events_per_s": round(stored / seconds),
        "db_mib": round(db.stat().st_size / MIB, 1),
        "rejected": report.rejected,
    }
    marker.write_text(json.dumps(info, indent=2) + "\n")
    return {**info, "reused": False}


def work_copy(cache: Path, label: str) -> Path:
    """A throw-away copy of the cached import (the WAL folded in first)."""
    src = cache / f"msnbc-{label}.db"
    with contextlib.closing(sqlite3.connect(src)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    dst = cache / f"work-{label}.db"
    for old in cache.glob(f"work-{label}.db*"):
        old.unlink()
    shutil.copyfile(src, dst)
    return dst


def create_key(url: str, application: str) -> str:
    from sqlmodel import Session

    from personalization.api import keys
    from personalization.store.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            _info, key = keys.create_key(
                session=session, name="bench-scale", scopes=["ingest"], application=application
            )
    finally:
        engine.dispose()
    return key


# ------------------------------------------------------------------------------ children


def child_startup(url: str) -> dict[str, Any]:
    """Time ``Personalizer(url=...)`` in this fresh process; count its SQL statements."""
    t0 = time.perf_counter()
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from personalization.engine.personalizer import Personalizer

    imported = time.perf_counter() - t0
    rss_before = proc_status()["VmRSS"]
    statements: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        statements.append(" ".join(statement.split())[:120])

    event.listen(Engine, "before_cursor_execute", count)
    t1 = time.perf_counter()
    engine = Personalizer(url=url)
    construct = time.perf_counter() - t1
    event.remove(Engine, "before_cursor_execute", count)
    status = proc_status()
    engine.close()
    return {
        "import_s": round(imported, 3),
        "construct_s": round(construct, 3),
        "rss_before_mib": rss_before,
        "rss_mib": status["VmRSS"],
        "hwm_mib": status["VmHWM"],
        "sql_statements": len(statements),
        # PRAGMA table_info is the SQLite schema check, not a read of the log
        "reads_event_log": any(
            "usage_event" in s and not s.startswith("PRAGMA") for s in statements
        ),
        "statements": statements,
    }


def child_serve(url: str, users: list[str]) -> dict[str, Any]:
    """Predictions for ``users`` (distinct), RSS along the way."""
    from personalization.engine.personalizer import Personalizer

    engine = Personalizer(url=url)
    start = proc_status()["VmRSS"]
    curve = []
    t0 = time.perf_counter()
    for i, user in enumerate(tqdm(users, desc="serve", unit="user", file=sys.stderr), start=1):
        engine.predictions(user)
        if i % 1000 == 0:
            curve.append(proc_status()["VmRSS"])
    seconds = time.perf_counter() - t0
    status = proc_status()
    out = {
        "cache_max_users": engine._cache.max_users,  # noqa: SLF001 - what the cache was set to
        "cached_users": len(engine._cache),  # noqa: SLF001
        "cache_estimated_mib": round(getattr(engine._cache, "bytes", 0) / MIB, 1),  # noqa: SLF001
        "rss_start_mib": start,
        "rss_mib": status["VmRSS"],
        "hwm_mib": status["VmHWM"],
        "rss_every_1000": curve,
        "users": len(users),
        "mean_ms": ms(seconds / len(users)),
    }
    engine.close()
    return out


def child_latency(url: str, users: list[str], erase: list[str]) -> dict[str, Any]:
    """Cold then warm prediction per person, then ``erase_user`` times."""
    import gc

    from personalization.engine.personalizer import Personalizer

    engine = Personalizer(url=url)
    engine.predictions("scale-warmup:nobody")  # first-call costs (imports, statement cache)
    cold, warm, cold_cpu, warm_cpu = [], [], [], []
    cpu = time.process_time
    gc.collect()
    for user in tqdm(users, desc="cold/warm", unit="user", file=sys.stderr):
        c0, t0 = cpu(), time.perf_counter()
        engine.predictions(user)
        c1, t1 = cpu(), time.perf_counter()
        engine.predictions(user)
        c2, t2 = cpu(), time.perf_counter()
        cold.append(t1 - t0)
        warm.append(t2 - t1)
        cold_cpu.append(c1 - c0)
        warm_cpu.append(c2 - c1)
    counts = [engine.store.count(u) for u in users]
    slowest = sorted(range(len(users)), key=lambda i: cold[i])[-5:]
    erasures, erased_events = [], []
    for user in tqdm(erase, desc="erase", unit="user", file=sys.stderr):
        n = engine.store.count(user)
        t0 = time.perf_counter()
        engine.erase_user(user)
        erasures.append(time.perf_counter() - t0)
        erased_events.append(n)
    engine.close()
    return {
        "users": len(users),
        "cold_p50_ms": ms(pct(cold, 50)),
        "cold_p99_ms": ms(pct(cold, 99)),
        "cold_max_ms": ms(max(cold)),
        "warm_p50_ms": ms(pct(warm, 50)),
        "warm_p99_ms": ms(pct(warm, 99)),
        "warm_max_ms": ms(max(warm)),
        # CPU time of this process only: what is left when waits for the other programs on
        # a shared machine (and for the disk) are taken out of the wall-clock numbers
        "cold_cpu_p50_ms": ms(pct(cold_cpu, 50)),
        "cold_cpu_p99_ms": ms(pct(cold_cpu, 99)),
        "warm_cpu_p50_ms": ms(pct(warm_cpu, 50)),
        "warm_cpu_p99_ms": ms(pct(warm_cpu, 99)),
        "events_per_user_p50": pct(counts, 50),
        "events_per_user_p99": pct(counts, 99),
        "events_per_user_max": max(counts),
        "slowest_cold": [{"ms": ms(cold[i]), "events": counts[i]} for i in slowest],
        "erase_median_ms": ms(statistics.median(erasures)),
        "erase_max_ms": ms(max(erasures)),
        "erased_people": len(erase),
        "erased_events_median": statistics.median(erased_events),
    }


def run_child(mode: str, payload: dict[str, Any], env: dict[str, str] | None = None) -> dict:
    """Run a child mode of this script in a fresh interpreter; its last stdout line is JSON."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(payload, fh)
    try:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", mode, fh.name],
            cwd=ROOT,
            env={**os.environ, **SERVER_ENV, **(env or {})},
            stdout=subprocess.PIPE,  # the result; stderr (progress, tracebacks) passes through
            text=True,
            timeout=3600,
        )
        wall = time.perf_counter() - started
    finally:
        os.unlink(fh.name)
    if proc.returncode != 0:
        raise BenchError(f"child {mode} exited {proc.returncode} (traceback above)")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = round(wall, 3)
    out["load_avg_1min_after"] = round(os.getloadavg()[0], 2)
    return out


def child_main(mode: str, payload_path: str) -> None:
    payload = json.loads(Path(payload_path).read_text())
    if mode == "startup":
        out = child_startup(payload["url"])
    elif mode == "serve":
        out = child_serve(payload["url"], payload["users"])
    elif mode == "latency":
        out = child_latency(payload["url"], payload["users"], payload["erase"])
    else:
        raise SystemExit(f"unknown child mode {mode!r}")
    print(json.dumps(out))


# ------------------------------------------------------------------------------ servers


class Api:
    """``python -m personalization.api`` in its own process group, timed until healthy."""

    def __init__(self, url: str, log: Path, *, workers: int = 1, env: dict[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        started = time.perf_counter()
        with log.open("ab") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "personalization.api", "--port", str(self.port)]
                + ["--db", url, "--workers", str(workers)],
                cwd=ROOT,
                env={**os.environ, **SERVER_ENV, **(env or {})},
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 300
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"API server exited {self.proc.returncode}: see {log}")
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"API server not healthy after 300 s: see {log}")
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        self.startup_s = round(time.perf_counter() - started, 3)
        if workers > 1:  # health answered by one worker: let the others finish starting
            time.sleep(2)
        self.startup_rss_mib = self.rss()

    def rss(self) -> float:
        if self.workers == 1:
            return proc_status(self.proc.pid)["VmRSS"]
        return tree_rss_mib(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def send_api(base: str, key: str, app: str, events: list, clients: int, batch: int) -> dict:
    """Events/s through the API with ``clients`` threads, each its share of whole batches."""
    from personalization.client import Client

    batches = [events[i : i + batch] for i in range(0, len(events), batch)]
    shares = [batches[no::clients] for no in range(clients)]
    accepted = [0] * clients
    errors: list[BaseException] = []
    bar = tqdm(total=len(events), desc=f"api {app} x{clients}", unit="ev", file=sys.stderr)

    def run(no: int) -> None:
        try:
            with Client(base, key, application=app, batch_size=batch, timeout=300) as client:
                for part in shares[no]:
                    accepted[no] += client.send(part).accepted
                    bar.update(len(part))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(no,)) for no in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    bar.close()
    if errors:
        raise BenchError(f"API ingest failed: {errors[0]!r}")
    if sum(accepted) != len(events):
        raise BenchError(f"API accepted {sum(accepted)} of {len(events)} events")
    return {"events": len(events), "clients": clients, "events_per_s": round(len(events) / seconds)}


def raw_append(url: str, events: list, batch: int, threads: int = 1) -> dict[str, Any]:
    """Events/s of ``EventStore.append`` alone, ``threads`` appending concurrently."""
    from personalization.store.event_store import EventStore

    store = EventStore(url)
    batches = [events[i : i + batch] for i in range(0, len(events), batch)]
    shares = [batches[no::threads] for no in range(threads)]
    accepted = [0] * threads
    bar = tqdm(total=len(events), desc=f"raw append x{threads}", unit="ev", file=sys.stderr)

    def run(no: int) -> None:
        for part in shares[no]:
            accepted[no] += store.append(part).accepted
            bar.update(len(part))

    workers = [threading.Thread(target=run, args=(no,)) for no in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - t0
    bar.close()
    store.close()
    if sum(accepted) != len(events):
        raise BenchError(f"raw append accepted {sum(accepted)} of {len(events)} events")
    return {"events": len(events), "threads": threads, "events_per_s": round(len(events) / seconds)}


def facade_ingest(url: str, events: list, batch: int) -> dict[str, Any]:
    """Events/s of ``Personalizer.record_many`` in-process, batches split by person as the
    API's ingest route does: the engine's share of the API cost, without HTTP."""
    from personalization.engine.personalizer import Personalizer

    engine = Personalizer(url=url, control_percent=0)
    bar = tqdm(total=len(events), desc="record_many", unit="ev", file=sys.stderr)
    accepted = 0
    t0 = time.perf_counter()
    for i in range(0, len(events), batch):
        groups: dict[str, list[dict[str, Any]]] = {}
        for e in events[i : i + batch]:
            groups.setdefault(e["user_id"], []).append(e)
        accepted += sum(r.accepted for r in engine.record_many(groups).values())
        bar.update(min(batch, len(events) - i))
    seconds = time.perf_counter() - t0
    bar.close()
    engine.close()
    if accepted != len(events):
        raise BenchError(f"record_many accepted {accepted} of {len(events)} events")
    return {"events": len(events), "events_per_s": round(len(events) / seconds)}


# ------------------------------------------------------------------------------ steps


def bench_size(
    args: argparse.Namespace,
    size: int | None,
    cut: tuple[int, int],
    tail: list,
    log: Path,
) -> dict[str, Any]:
    label = size_label(size)
    visitors, events = cut
    steps = tqdm(total=7, desc=f"size {label}", unit="step", file=sys.stderr)
    out: dict[str, Any] = {"size": label}
    steps.set_postfix_str("import")
    out["import"] = ensure_import(args.cache_dir, size, visitors, events)
    steps.update()
    db = work_copy(args.cache_dir, label)
    url = f"sqlite:///{db}"
    rng = random.Random(f"scale-{args.seed}")
    need = 2 * args.serve_users + args.latency_users + args.erase_users
    if need > visitors:
        raise BenchError(
            f"{label} holds {visitors} visitors, fewer than the {need} distinct people the "
            "steps need: use a larger size or fewer --serve-users/--latency-users"
        )
    picked = [f"msnbc-{v}" for v in rng.sample(range(1, visitors + 1), need)]
    serve_a, rest = picked[: args.serve_users], picked[args.serve_users :]
    serve_b, rest = rest[: args.serve_users], rest[args.serve_users :]
    latency, erase = rest[: args.latency_users], rest[args.latency_users :]

    steps.set_postfix_str("engine start-up")
    runs = [run_child("startup", {"url": url}) for _ in range(args.startup_runs)]
    first, later = runs[0], runs[1:] or runs
    out["engine_startup"] = {
        "first_construct_s": first["construct_s"],
        "construct_s_median": round(statistics.median(r["construct_s"] for r in later), 3),
        "process_wall_s_median": round(statistics.median(r["process_wall_s"] for r in later), 3),
        "import_s_median": round(statistics.median(r["import_s"] for r in later), 3),
        "rss_mib_max": max(r["rss_mib"] for r in runs),
        "rss_before_construct_mib": later[0]["rss_before_mib"],
        "sql_statements_first": first["sql_statements"],
        "sql_statements": later[0]["sql_statements"],
        "reads_event_log": any(r["reads_event_log"] for r in runs),
        "statements": later[0]["statements"],
        "runs": len(runs),
    }
    steps.update()

    steps.set_postfix_str(f"serve {len(serve_a)}, default cache")
    out["serve_default_cache"] = run_child("serve", {"url": url, "users": serve_a})
    steps.update()
    steps.set_postfix_str(f"serve {len(serve_b)}, cache {args.small_cache}")
    out["serve_small_cache"] = run_child(
        "serve",
        {"url": url, "users": serve_b},
        env={"ADAPTIVE_STATE_CACHE_USERS": str(args.small_cache)},
    )
    steps.update()

    steps.set_postfix_str("cold/warm, erase")
    out["latency"] = run_child("latency", {"url": url, "users": latency, "erase": erase})
    steps.update()

    steps.set_postfix_str("ingest raw vs API (SQLite)")
    raw_events = ingest_events(tail, args.ingest_events, "rawsqlite")
    raw_before = raw_append(url, raw_events, args.batch)
    facade = facade_ingest(url, ingest_events(tail, args.ingest_events, "facade"), args.batch)
    key = create_key(url, "apisqlite")
    startups = []
    for _ in range(args.startup_runs - 1):  # start-up alone; the last start also ingests
        probe = Api(url, log)
        probe.stop()
        startups.append((probe.startup_s, probe.startup_rss_mib))
    api = Api(url, log)
    startups.append((api.startup_s, api.startup_rss_mib))
    try:
        via_api = send_api(
            api.base,
            key,
            "apisqlite",
            api_events(ingest_events(tail, args.ingest_events, "x")),
            1,
            args.batch,
        )
        rss_after = api.rss()
    finally:
        api.stop()
    # raw append again after the API run: on a shared machine one sample can be a fluke
    raw_after = raw_append(url, ingest_events(tail, args.ingest_events, "rawsqlite2"), args.batch)
    raw = {
        "events": raw_before["events"],
        "threads": 1,
        "events_per_s": round((raw_before["events_per_s"] + raw_after["events_per_s"]) / 2),
        "before_api_events_per_s": raw_before["events_per_s"],
        "after_api_events_per_s": raw_after["events_per_s"],
    }
    out["api_startup"] = {
        "startup_s": statistics.median(t for t, _ in startups),
        "startup_s_all": [t for t, _ in startups],
        "rss_mib": max(r for _, r in startups),
        "runs": len(startups),
    }
    out["ingest_sqlite"] = {
        "raw_append": raw,
        "record_many": {
            **facade,
            "ratio_vs_raw": round(facade["events_per_s"] / raw["events_per_s"], 3),
        },
        "api_1_worker": {
            **via_api,
            "ratio_vs_raw": round(via_api["events_per_s"] / raw["events_per_s"], 3),
        },
        "api_rss_after_ingest_mib": rss_after,
    }
    steps.update()
    for old in args.cache_dir.glob(f"work-{label}.db*"):
        old.unlink()
    steps.update()
    steps.close()
    return out


def bench_postgres(args: argparse.Namespace, tail: list, preload: int, log: Path) -> dict:
    """Raw append and the API (1 and 3 workers, Redis) on a PostgreSQL database that first
    gets ``preload`` MSNBC visitors, so its indexes are not empty."""
    from personalization.evaluation.importers import import_msnbc
    from personalization.store.event_store import EventStore
    from personalization.store.migrate import upgrade
    from tests.support.servers import PostgresServer, RedisServer

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        pg = PostgresServer(Path(tmp) / "pg")
        redis = RedisServer(Path(tmp) / "redis")
        try:
            pg.start()
            redis.start()
            url = pg.create_database("bench_scale")
            upgrade(url)
            with EventStore(url) as store:
                t0 = time.perf_counter()
                report = import_msnbc(store, limit=preload, progress=True)
                seconds = time.perf_counter() - t0
            out["preload"] = {
                "visitors": preload,
                "events": report.accepted,
                "events_per_s": round(report.accepted / seconds),
                "note": "importer, batches of 5000",
            }
            n, batch = args.ingest_events, args.batch
            out["raw_append"] = raw_append(url, ingest_events(tail, n, "rawpg"), batch)
            out["raw_append_4_threads"] = raw_append(
                url, ingest_events(tail, n, "rawpg4"), batch, threads=args.clients
            )
            out["record_many"] = facade_ingest(url, ingest_events(tail, n, "facadepg"), batch)
            env = {"ADAPTIVE_REDIS_URL": redis.url}
            for workers in (1, 3):
                app = f"apipg{workers}"
                key = create_key(url, app)
                api = Api(url, log, workers=workers, env=env)
                try:
                    sent = send_api(
                        api.base,
                        key,
                        app,
                        api_events(ingest_events(tail, n, "x")),
                        args.clients,
                        batch,
                    )
                    rss_after = api.rss()
                finally:
                    api.stop()
                out[f"api_{workers}_worker{'s' if workers > 1 else ''}"] = {
                    **sent,
                    "ratio_vs_raw": round(
                        sent["events_per_s"] / out["raw_append"]["events_per_s"], 3
                    ),
                    "ratio_vs_raw_4_threads": round(
                        sent["events_per_s"] / out["raw_append_4_threads"]["events_per_s"], 3
                    ),
                    "startup_s": api.startup_s,
                    "rss_mib_at_start": api.startup_rss_mib,
                    "rss_mib_after_ingest": rss_after,
                }
        finally:
            redis.close()
            pg.close()
    return out


# ------------------------------------------------------------------------------ report


def check_targets(results: dict[str, Any]) -> list[str]:
    missed = []
    for s in results["sizes"]:
        label, st = s["size"], s["engine_startup"]
        if st["construct_s_median"] > TARGETS["startup_s"]:
            missed.append(f"{label}: engine start-up {st['construct_s_median']} s")
        if st["rss_mib_max"] > TARGETS["startup_rss_mib"]:
            missed.append(f"{label}: engine RSS at start {st['rss_mib_max']} MiB")
        if s["api_startup"]["startup_s"] > TARGETS["startup_s"]:
            missed.append(f"{label}: API start-up {s['api_startup']['startup_s']} s")
        if s["api_startup"]["rss_mib"] > TARGETS["startup_rss_mib"]:
            missed.append(f"{label}: API RSS at start {s['api_startup']['rss_mib']} MiB")
        lat = s["latency"]
        if lat["cold_p99_ms"] > TARGETS["cold_p99_ms"]:
            missed.append(f"{label}: cold p99 {lat['cold_p99_ms']} ms")
        if lat["warm_p99_ms"] > TARGETS["warm_p99_ms"]:
            missed.append(f"{label}: warm p99 {lat['warm_p99_ms']} ms")
        ratio = s["ingest_sqlite"]["api_1_worker"]["ratio_vs_raw"]
        if ratio < TARGETS["api_vs_raw"]:
            missed.append(f"{label}: SQLite API ingest {ratio:.0%} of raw append")
    pg = results.get("postgres") or {}
    for name in ("api_1_worker", "api_3_workers"):
        if name in pg and pg[name]["ratio_vs_raw"] < TARGETS["api_vs_raw"]:
            missed.append(f"PostgreSQL {name}: {pg[name]['ratio_vs_raw']:.0%} of raw append")
    return missed


def print_table(results: dict[str, Any]) -> None:
    sizes = results["sizes"]
    rows: list[tuple[str, Any]] = [
        ("events", lambda s: s["import"]["events"]),
        ("visitors", lambda s: s["import"]["visitors"]),
        ("import s (when made)", lambda s: s["import"]["import_s"]),
        ("engine start-up s (median)", lambda s: s["engine_startup"]["construct_s_median"]),
        ("engine start-up s (1st run)", lambda s: s["engine_startup"]["first_construct_s"]),
        ("engine process wall s", lambda s: s["engine_startup"]["process_wall_s_median"]),
        ("engine RSS at start MiB", lambda s: s["engine_startup"]["rss_mib_max"]),
        ("start-up SQL statements", lambda s: s["engine_startup"]["sql_statements"]),
        ("API start-up s (median)", lambda s: s["api_startup"]["startup_s"]),
        ("API RSS at start MiB", lambda s: s["api_startup"]["rss_mib"]),
        ("RSS after serving, default", lambda s: s["serve_default_cache"]["rss_mib"]),
        ("  cached people", lambda s: s["serve_default_cache"]["cached_users"]),
        ("RSS after serving, small", lambda s: s["serve_small_cache"]["rss_mib"]),
        ("  cached people", lambda s: s["serve_small_cache"]["cached_users"]),
        ("cold p50 ms", lambda s: s["latency"]["cold_p50_ms"]),
        ("cold p99 ms", lambda s: s["latency"]["cold_p99_ms"]),
        ("warm p50 ms", lambda s: s["latency"]["warm_p50_ms"]),
        ("warm p99 ms", lambda s: s["latency"]["warm_p99_ms"]),
        ("cold p99 ms, CPU time", lambda s: s["latency"]["cold_cpu_p99_ms"]),
        ("warm p99 ms, CPU time", lambda s: s["latency"]["warm_cpu_p99_ms"]),
        ("erase median ms", lambda s: s["latency"]["erase_median_ms"]),
        ("raw append ev/s (SQLite)", lambda s: s["ingest_sqlite"]["raw_append"]["events_per_s"]),
        ("record_many ev/s (SQLite)", lambda s: s["ingest_sqlite"]["record_many"]["events_per_s"]),
        ("  vs raw", lambda s: s["ingest_sqlite"]["record_many"]["ratio_vs_raw"]),
        ("API x1 ev/s (SQLite)", lambda s: s["ingest_sqlite"]["api_1_worker"]["events_per_s"]),
        ("  vs raw", lambda s: s["ingest_sqlite"]["api_1_worker"]["ratio_vs_raw"]),
    ]
    width = 30
    print(f"{'measure':<{width}}" + "".join(f"{s['size']:>12}" for s in sizes))
    for name, get in rows:
        print(f"{name:<{width}}" + "".join(f"{get(s)!s:>12}" for s in sizes))
    pg = results.get("postgres")
    if pg:
        print()
        print(
            f"PostgreSQL + Redis ({pg['preload']['events']} events preloaded), "
            f"{results['settings']['clients']} client threads for the API:"
        )
        names = ("raw_append", "raw_append_4_threads", "record_many", "api_1_worker")
        for name in (*names, "api_3_workers"):
            row = pg.get(name)
            if row:
                ratio = f"  {row['ratio_vs_raw']:.3f} of raw" if "ratio_vs_raw" in row else ""
                print(f"  {name:<22}{row['events_per_s']:>10} ev/s{ratio}")
    missed = results["missed_targets"]
    print()
    print("targets missed: " + ("; ".join(missed) if missed else "none"))


def parse_size(value: str) -> int | None:
    if value == "all":
        return None
    try:
        n = int(value.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size must be a number of events or 'all', not {value!r}"
        ) from None
    if n < 1000:
        raise argparse.ArgumentTypeError(f"size must be at least 1000 events, not {n}")
    return None if n >= MSNBC_EVENTS else n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=parse_size,
        default=None,
        help="events per database, or 'all' (default: 250000 1000000 all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one small size, few users: a smoke run that writes nothing",
    )
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".bench-cache")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--serve-users", type=int, default=10_000)
    parser.add_argument("--small-cache", type=int, default=1000)
    parser.add_argument("--latency-users", type=int, default=2000)
    parser.add_argument("--erase-users", type=int, default=20)
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--ingest-events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4, help="API client threads on PostgreSQL")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PAYLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(*args.child)
        return 0
    if args.quick:
        args.sizes = args.sizes or [50_000]
        args.serve_users, args.small_cache, args.latency_users = 2000, 200, 300
        args.erase_users, args.startup_runs, args.ingest_events = 5, 2, 2000
    sizes = args.sizes or [250_000, 1_000_000, None]
    out = (
        args.out if args.out is not None else (None if args.quick else RESULTS / "bench_scale.json")
    )
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    log = args.cache_dir / "bench_scale-servers.log"
    if not msnbc_path().exists():
        print(f"error: the MSNBC log is missing: {msnbc_path()}", file=sys.stderr)
        return 2

    targets = [MSNBC_EVENTS if s is None else s for s in sizes]
    cuts, tail = scan_msnbc(targets, args.ingest_events)
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k not in ("child", "out")
        },
        "targets": TARGETS,
        "sizes": [],
        "postgres": None,
        "missed_targets": [],
        "errors": [],
    }
    results["settings"]["sizes"] = [size_label(s) for s in sizes]

    def save() -> None:
        results["missed_targets"] = check_targets(results)
        results["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(results, indent=2) + "\n")
            tmp.replace(out)

    started = time.perf_counter()
    for size, target in zip(sizes, targets, strict=True):
        try:
            results["sizes"].append(bench_size(args, size, cuts[target], tail, log))
        except BenchError as exc:
            print(f"error at size {size_label(size)}: {exc}", file=sys.stderr)
            results["errors"].append(f"{size_label(size)}: {exc}")
        finally:  # the work copy is throw-away, whatever happened
            for old in args.cache_dir.glob(f"work-{size_label(size)}.db*"):
                old.unlink()
        save()
    if not args.no_postgres:
        smallest = cuts[min(targets)][0]
        try:
            results["postgres"] = bench_postgres(args, tail, smallest, log)
        except Exception as exc:  # noqa: BLE001 - a missing server must not lose the rest
            print(f"error in the PostgreSQL run: {exc!r}", file=sys.stderr)
            results["errors"].append(f"postgres: {exc!r}")
    results["total_s"] = round(time.perf_counter() - started, 1)
    save()
    print_table(results)
    if out is not None:
        print(f"\nwrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
