"""Run the product locally the way it runs in production: several workers on shared servers.

``make run`` serves one process on embedded SQLite; that hides every bug that needs two
workers (state kept in one process's memory, a lock SQLite gives for free). This starts
PostgreSQL and Redis with their data under ``.cluster/``, migrates and seeds the database,
then serves the Reflex app and the standalone HTTP API on 3 worker processes each::

    python -m app.cluster            # or: make cluster; Ctrl+C stops everything
    python -m app.cluster --check    # start, wait for HTTP 200 from both, count workers, stop

Reflex 0.10 serves production through Granian when gunicorn is not installed (it is not a
dependency here) and takes the worker count from ``GRANIAN_WORKERS``; without it, it would
spawn ``2 * CPUs + 1`` once Redis is configured. ``GUNICORN_CMD_ARGS`` pins the same count
should gunicorn ever be installed. The servers are the throw-away ones the tests use
(``tests/support/servers.py``) with persistent data, so a root shell works the same way:
PostgreSQL runs as an unprivileged user.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:  # the server helpers live with the tests, not the wheel
    sys.path.insert(0, str(PROJECT_ROOT))

from tests.support.servers import (  # noqa: E402
    PostgresServer,
    RedisServer,
    ServerUnavailable,
    descendants,
)

CLUSTER_DIR = PROJECT_ROOT / ".cluster"
DATABASE = "adaptive"
WORKERS = 3
APP_READY_TIMEOUT = 1200.0  # the first production build of the frontend takes minutes
API_READY_TIMEOUT = 120.0


def _log(message: str) -> None:
    print(f"[cluster] {message}", flush=True)


def _answers_postgres(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _answers_redis(port: int) -> bool:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@dataclass
class Servers:
    """The PostgreSQL and Redis this run uses; ``None`` where one was already running (a
    previous ``--keep-servers`` run), which this run then leaves running."""

    pg: PostgresServer | None
    redis: RedisServer | None
    pg_port: int
    redis_port: int

    def stop(self) -> None:
        for server in (self.redis, self.pg):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()

    def detach(self) -> None:
        for server in (self.redis, self.pg):
            if server is not None:
                server.detach()


def stop_kept_servers(pg_port: int, redis_port: int) -> None:
    """Stop servers an earlier ``--keep-servers`` run left behind (found by their ports)."""
    import redis

    if _answers_redis(redis_port):
        client = redis.Redis(host="127.0.0.1", port=redis_port)
        with contextlib.suppress(redis.ConnectionError):  # the server closes the connection
            client.shutdown()
        client.close()
        _log(f"Redis on port {redis_port} stopped")
    pidfile = CLUSTER_DIR / "postgres" / "data" / "postmaster.pid"
    if _answers_postgres(pg_port) and pidfile.exists():
        os.kill(int(pidfile.read_text().splitlines()[0]), signal.SIGINT)  # fast shutdown
        deadline = time.monotonic() + 60
        while _answers_postgres(pg_port) and time.monotonic() < deadline:
            time.sleep(0.2)
        _log(f"PostgreSQL on port {pg_port} stopped")


def start_servers(pg_port: int, redis_port: int) -> Servers:
    CLUSTER_DIR.mkdir(exist_ok=True)
    ignore = CLUSTER_DIR / ".gitignore"
    if not ignore.exists():  # data, logs and sockets: never part of the checkout
        ignore.write_text("*\n")
    servers = Servers(pg=None, redis=None, pg_port=pg_port, redis_port=redis_port)
    try:
        if _answers_postgres(pg_port):
            _log(f"PostgreSQL already answers on port {pg_port}; using it and leaving it running")
        else:
            pg = PostgresServer(CLUSTER_DIR, port=pg_port, durable=True)
            if pg.home != CLUSTER_DIR / "postgres":
                raise ServerUnavailable(
                    f"PostgreSQL's user cannot use {CLUSTER_DIR / 'postgres'} (permissions, or "
                    "the socket path is too long); the cluster's data must persist there"
                )
            fresh = not pg.initialised()
            pg.start()
            servers.pg = pg
            _log(f"PostgreSQL {'initialised and ' if fresh else ''}started on port {pg_port}")
        if _answers_redis(redis_port):
            _log(f"Redis already answers on port {redis_port}; using it and leaving it running")
        else:
            servers.redis = RedisServer(CLUSTER_DIR / "redis", port=redis_port, persistent=True)
            servers.redis.start()
            _log(f"Redis started on port {redis_port}")
    except BaseException:
        servers.stop()
        raise
    return servers


def ensure_database(pg_port: int) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if exists.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
            _log(f"created database {DATABASE}")
    return f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/{DATABASE}"


def environment(db_url: str, redis_port: int, port: int, workers: int) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env.update(
        ADAPTIVE_DB_URL=db_url,
        ADAPTIVE_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        # Reflex's own state manager; another database number keeps its keys apart.
        REFLEX_REDIS_URL=f"redis://127.0.0.1:{redis_port}/1",
        GRANIAN_WORKERS=str(workers),
        GUNICORN_CMD_ARGS=f"--workers {workers}",
        REFLEX_USE_NPM="1",
        REFLEX_TELEMETRY_ENABLED="false",
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PORT=str(port),  # rxconfig.py reads it
        PYTHONUNBUFFERED="1",
    )
    return env


class Service:
    """One served process (the app or the API), its own process group, its log in a file."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], ready_url: str):
        self.name = name
        self.cmd = cmd
        self.env = env
        self.ready_url = ready_url
        self.log_path = CLUSTER_DIR / "logs" / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _log(f"{self.name}: started pid {self.proc.pid}, log {self.log_path}")

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def ready(self) -> bool:
        try:
            return httpx.get(self.ready_url, timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def workers(self) -> list[tuple[int, str]]:
        """Worker processes under the supervisor: Granian forks them, uvicorn spawns them;
        multiprocessing's resource tracker is a helper, not a worker."""
        if self.proc is None:
            return []
        found = []
        for pid in descendants(self.proc.pid):
            with contextlib.suppress(OSError):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                if "resource_tracker" not in cmdline and "python" in cmdline:
                    found.append((pid, cmdline.strip()))
        return found

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        # Workers that outlived their supervisor would keep the port.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        _log(f"{self.name}: stopped")
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None


def run_step(module_args: list[str], env: dict[str, str]) -> None:
    _log(f"running python -m {' '.join(module_args)}")
    subprocess.run([sys.executable, "-m", *module_args], cwd=PROJECT_ROOT, env=env, check=True)


def wait_ready(services: list[Service], timeout_for: dict[str, float]) -> None:
    started = time.monotonic()
    pending = list(services)
    while pending:
        for service in list(pending):
            if (code := service.exited()) is not None:
                raise RuntimeError(
                    f"{service.name} exited ({code}) before answering; {service.log_path}:\n"
                    f"{service.log_tail()}"
                )
            if service.ready():
                _log(f"{service.name}: ready at {service.ready_url}")
                pending.remove(service)
            elif time.monotonic() - started > timeout_for[service.name]:
                raise TimeoutError(
                    f"{service.name} not answering {service.ready_url} after "
                    f"{timeout_for[service.name]:.0f}s; {service.log_path}:\n{service.log_tail()}"
                )
        time.sleep(1)


def report_workers(services: list[Service], expected: int) -> bool:
    ok = True
    for service in services:
        workers = service.workers()
        pids = ", ".join(str(pid) for pid, _ in workers)
        _log(f"{service.name}: supervisor {service.proc.pid}, {len(workers)} workers: {pids}")
        if len(workers) != expected:
            ok = False
            _log(f"{service.name}: expected {expected} workers, found {len(workers)}:")
            for pid, cmdline in workers:
                _log(f"  {pid} {cmdline[:150]}")
    return ok


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.cluster", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=3000, help="the Reflex app (default 3000)")
    parser.add_argument("--api-port", type=int, default=8001, help="the HTTP API (default 8001)")
    parser.add_argument("--pg-port", type=int, default=5433, help="PostgreSQL (default 5433)")
    parser.add_argument("--redis-port", type=int, default=6380, help="Redis (default 6380)")
    parser.add_argument("--workers", type=int, default=WORKERS, help="per service (default 3)")
    parser.add_argument(
        "--keep-servers", action="store_true", help="leave PostgreSQL and Redis running on exit"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="start everything, wait for HTTP 200 from both, print the workers, stop",
    )
    parser.add_argument(
        "--stop-servers", action="store_true", help="stop servers a --keep-servers run left"
    )
    args = parser.parse_args(argv)
    if args.stop_servers:
        stop_kept_servers(args.pg_port, args.redis_port)
        return 0
    signal.signal(signal.SIGTERM, _raise_interrupt)

    servers: Servers | None = None
    services: list[Service] = []
    try:
        servers = start_servers(args.pg_port, args.redis_port)
        db_url = ensure_database(args.pg_port)
        env = environment(db_url, args.redis_port, args.port, args.workers)
        run_step(["personalization.migrate", "upgrade"], env)
        run_step(["app.bootstrap"], env)
        reflex = str(Path(sys.executable).parent / "reflex")
        port = str(args.port)
        services = [
            Service(
                "app",
                [reflex, "run", "--env", "prod", "--single-port"]
                + ["--frontend-port", port, "--backend-port", port],
                env,
                f"http://127.0.0.1:{args.port}/",
            ),
            Service(
                "api",
                [sys.executable, "-m", "personalization.api", "--host", "127.0.0.1"]
                + ["--port", str(args.api_port), "--workers", str(args.workers)],
                env,
                f"http://127.0.0.1:{args.api_port}/api/v1/health",
            ),
        ]
        for service in services:
            service.start()
        wait_ready(services, {"app": APP_READY_TIMEOUT, "api": API_READY_TIMEOUT})
        workers_ok = report_workers(services, args.workers)
        if args.check:
            return 0 if workers_ok else 1
        _log(
            f"serving: app http://127.0.0.1:{args.port}/  "
            f"API http://127.0.0.1:{args.api_port}/api/v1  (Ctrl+C stops)"
        )
        while True:
            for service in services:
                if (code := service.exited()) is not None:
                    _log(f"{service.name} exited ({code}):\n{service.log_tail()}")
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        _log("stopping")
        return 0
    except (ServerUnavailable, RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
        _log(f"failed: {exc}")
        return 1
    finally:
        # A second Ctrl+C must not leave workers behind: ignore it while stopping.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for service in reversed(services):
            service.stop()
        if servers is not None:
            if args.keep_servers:
                servers.detach()
                _log(
                    f"leaving PostgreSQL ({args.pg_port}) and Redis ({args.redis_port}) running; "
                    "stop them with: python -m app.cluster --stop-servers"
                )
            else:
                servers.stop()


if __name__ == "__main__":
    raise SystemExit(main())
