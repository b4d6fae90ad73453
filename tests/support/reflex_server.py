"""Start a real Reflex app in production mode for browser tests, and read its log.

Tests drive the same server `make run` starts (`reflex run --env prod --single-port`), on a
free port and a throw-away SQLite file, so a passing test means the shipped app works. The
server runs in its own process group: teardown kills every child (Node build, backend
workers) so a second `make test` finds no leftover server on the port.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Lines that mean the app itself failed. Reflex prints "Info:" lines about unreachable npm
# mirrors on a closed network; those are not app errors.
_ERROR_LINE = re.compile(r"Traceback \(most recent call last\)|\bERROR\b|^\s*Error[: ]|Exception:")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReflexServer:
    """A Reflex app directory served in production mode until :meth:`stop`."""

    def __init__(self, app_root: Path, log_path: Path, *, env: dict[str, str] | None = None):
        self.app_root = app_root
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = None

    def environment(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        env = dict(os.environ)
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            REFLEX_USE_NPM="1",
            REFLEX_TELEMETRY_ENABLED="false",
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def run_module(self, module: str) -> None:
        """Run a set-up module (e.g. the database bootstrap) with the server's environment."""
        subprocess.run(
            [sys.executable, "-m", module],
            cwd=self.app_root,
            env=self.environment(),
            check=True,
            timeout=300,
        )

    def start(self, timeout: float = 900) -> ReflexServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log = self.log_path.open("wb")
        reflex = str(Path(sys.executable).parent / "reflex")
        self._proc = subprocess.Popen(
            [
                reflex,
                "run",
                "--env",
                "prod",
                "--single-port",
                "--frontend-port",
                str(self.port),
                "--backend-port",
                str(self.port),
            ],
            cwd=self.app_root,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"reflex exited early ({self._proc.returncode}):\n{self.log()}")
            try:
                page = httpx.get(self.url + "/", timeout=2)
                ping = httpx.get(self.url + "/ping", timeout=2)
                if page.status_code == 200 and ping.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(1)
        self.stop()
        raise TimeoutError(f"app not ready after {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self._proc is None:
            return
        self._terminate()
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _terminate(self) -> None:
        assert self._proc is not None
        try:
            os.killpg(self._proc.pid, signal.SIGTERM)
            self._proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def errors(self) -> list[str]:
        """Log lines that show the app failed."""
        return [line for line in self.log().splitlines() if _ERROR_LINE.search(line)]
