"""The API served for real: ``python -m personalization.api`` in a subprocess, on a free port
and a temp SQLite file (or any database URL), so tests go over real HTTP and can kill the
server hard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import Session

from personalization.api import keys
from personalization.store.db import make_engine
from tests.support.reflex_server import PROJECT_ROOT, free_port
from tests.support.registry import publish_demo_registry


def create_key(db_url: str, *, scopes: tuple[str, ...], application: str = "shop") -> str:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            _info, key = keys.create_key(
                session=session, name="test", scopes=scopes, application=application
            )
    finally:
        engine.dispose()
    return key


def revoke(db_url: str, key: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            keys.revoke_key(session=session, key_id=key.split("_")[1])
    finally:
        engine.dispose()


class ApiServer:
    """Start with :meth:`start`; :meth:`kill` is SIGKILL, :meth:`stop` a clean shutdown.

    ``db_url`` serves another database than the SQLite file ``db_path`` (PostgreSQL tests
    pass ``None`` for the path); ``env`` adds variables (``ADAPTIVE_REDIS_URL`` ...);
    ``workers`` > 1 runs that many uvicorn worker processes.
    """

    def __init__(
        self,
        db_path: Path | None,
        log_path: Path,
        *,
        rate_limit: str = "100000/minute",
        db_url: str | None = None,
        env: dict[str, str] | None = None,
        workers: int = 1,
    ):
        if db_url is None and db_path is None:
            raise ValueError("give db_path (a SQLite file) or db_url")
        self.db_url = db_url or f"sqlite:///{db_path}"
        self.db_path = db_path
        self.log_path = log_path
        self.rate_limit = rate_limit
        self.env = dict(env or {})
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ApiServer:
        publish_demo_registry(self.db_url)  # a host's deployment step publishes its registry
        env = dict(os.environ)
        env.update(
            ADAPTIVE_API_RATE_LIMIT=self.rate_limit,
            ADAPTIVE_CONTROL_PERCENT="0",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "personalization.api", "--port", str(self.port)]
            + ["--db", self.db_url, "--workers", str(self.workers)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own group when it has workers, so kill() reaches them too.
            start_new_session=self.workers > 1,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"API server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"API server did not start: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        if self.workers > 1:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
