"""Throw-away PostgreSQL and Redis servers, real processes on free ports.

The engine promises the same behaviour on SQLite and on PostgreSQL + Redis; only a real
server shows the differences (locking, transaction isolation, type coercion, connection
loss), so tests and benchmarks start the genuine binaries instead of mocks. Each server runs
in its own process group with its log in its temp dir, and an ``atexit`` hook kills it if the
test session dies before its fixtures tear down, so no run leaves a server on a port.

PostgreSQL refuses to run as root. When the tests run as root (CI containers) every
PostgreSQL command goes through ``runuser`` to an unprivileged user (``postgres`` if the
package made one, else a system user created here); as a normal user the binaries run
directly. ``app.cluster`` reuses these classes with persistent data directories.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

from tests.support.reflex_server import free_port

PG_SUPERUSER = "postgres"
# The system user PostgreSQL runs as when we are root and the package made no `postgres` user.
FALLBACK_PG_USER = "adaptive-pg"
_PG_BINARIES = ("initdb", "postgres", "pg_ctl")
# Unix socket paths are limited to ~107 bytes; stay well clear, with the socket file's name.
_MAX_SOCKET_DIR = 80


class ServerUnavailable(RuntimeError):
    """A server binary is missing or the server would not start; the message says which."""


def _log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``, so a hard stop reaches children that left our group."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses; the fields after it do not.
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie counts as gone (it holds no port or shared memory)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rfind(")") + 2 :].split()[0] != "Z"


def _hard_kill(proc: subprocess.Popen[bytes], *, wrapper: bool = False) -> None:
    """SIGKILL ``proc``, its group and every descendant, then wait until they are gone.

    With ``wrapper`` (``runuser``, which forks and waits), the real server dies first so the
    wrapper reaps it: killed together, the server would stay a zombie of a parent that never
    reaps (PID 1 in many containers), and PostgreSQL's next start takes a zombie's pid in
    ``postmaster.pid`` for a live postmaster.
    """
    victims = descendants(proc.pid)
    if wrapper:
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in victims:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in victims) and time.monotonic() < deadline:
        time.sleep(0.05)


def pg_bindir() -> Path:
    """The newest PostgreSQL server binaries: ``pg_config`` first (it names the version the
    client libraries were built for), then Debian's versioned ``/usr/lib/postgresql/*/bin``."""
    candidates: list[Path] = []
    if override := os.environ.get("ADAPTIVE_PG_BINDIR"):
        candidates.append(Path(override))
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.name)) or (0,)

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version)][
        ::-1
    ]
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in _PG_BINARIES):
            return bindir
    raise ServerUnavailable(
        "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found via `pg_config "
        "--bindir` nor in /usr/lib/postgresql/*/bin. Install the Debian/Ubuntu package "
        "'postgresql' (`make services` does it when run as root), or set ADAPTIVE_PG_BINDIR."
    )


def redis_binary() -> Path:
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")
    if found is None:
        raise ServerUnavailable(
            "redis-server not found on PATH nor in /usr/bin. Install the Debian/Ubuntu package "
            "'redis-server' (`make services` does it when run as root)."
        )
    return Path(found)


def unprivileged_user() -> str:
    """The account PostgreSQL runs as when we are root, created on first use if needed."""
    for name in (PG_SUPERUSER, FALLBACK_PG_USER):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    try:
        subprocess.run(
            [useradd, "--system", "--user-group", "--no-create-home"]
            + ["--shell", "/usr/sbin/nologin", FALLBACK_PG_USER],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ServerUnavailable(
            f"running as root, PostgreSQL needs an unprivileged user; creating "
            f"'{FALLBACK_PG_USER}' with useradd failed: {exc}"
        ) from exc
    return FALLBACK_PG_USER


def _wait_ready(
    server: Any,
    name: str,
    probe: Callable[[], None],
    errors: type[Exception] | tuple[type[Exception], ...],
    timeout: float,
    *,
    pause: float,
) -> None:
    """Poll ``probe`` until it stops raising ``errors``. A server that exits meanwhile, or
    never answers within ``timeout``, fails with the tail of its log (killed in the second
    case, so nothing half-started is left behind)."""
    assert server._proc is not None
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server._proc.poll() is not None:
            code = server._proc.returncode
            server._cleanup_process()
            raise ServerUnavailable(
                f"{name} exited at start ({code}); log {server.log_path}:\n"
                f"{_log_tail(server.log_path)}"
            )
        try:
            probe()
            return
        except errors as exc:
            last_error = exc
            time.sleep(pause)
    server.kill()
    raise ServerUnavailable(
        f"{name} not answering on port {server.port} after {timeout}s ({last_error}); "
        f"log {server.log_path}:\n{_log_tail(server.log_path)}"
    )


class PostgresServer:
    """A private PostgreSQL cluster under ``root``; trust auth for superuser ``postgres``.

    ``durable=False`` (the default, for tests) turns fsync off: a throw-away cluster need not
    survive a power cut, and tests that create a database each spend most of their time in
    fsync otherwise. ``app.cluster`` passes ``durable=True`` because its data persists.
    """

    def __init__(self, root: Path, *, port: int | None = None, durable: bool = False):
        self.root = Path(root)
        self.port = port or free_port()
        self.durable = durable
        self.bindir = pg_bindir()
        self.log_path = self.root / "postgres.log"
        self._user = unprivileged_user() if os.geteuid() == 0 else None
        self._temp_home: Path | None = None
        self.home = self._choose_home()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- layout -------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"

    def _choose_home(self) -> Path:
        """Where data and socket live: ``root/postgres`` unless the server's user cannot reach
        it (pytest's temp root is mode 0700 and owned by root) or its socket path would be too
        long; then a private temp dir, removed by :meth:`close`."""
        self.root.mkdir(parents=True, exist_ok=True)
        home = self.root / "postgres"
        home.mkdir(exist_ok=True)
        self._give_to_user(home)
        if len(str(home / "run")) <= _MAX_SOCKET_DIR and self._user_can_write(home):
            return home
        self._temp_home = Path(tempfile.mkdtemp(prefix="adaptive-pg-"))
        self._give_to_user(self._temp_home)
        return self._temp_home

    def _give_to_user(self, path: Path) -> None:
        if self._user is not None:
            shutil.chown(path, user=self._user, group=pwd.getpwnam(self._user).pw_gid)

    def _user_can_write(self, path: Path) -> bool:
        if self._user is None:
            return os.access(path, os.W_OK | os.X_OK)
        probe = subprocess.run(self._as_user(["test", "-w", str(path), "-a", "-x", str(path)]))
        return probe.returncode == 0

    def _as_user(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", self._user, "--", *cmd] if self._user else cmd

    def _run(self, cmd: list[str], what: str, timeout: float = 120) -> None:
        result = subprocess.run(
            self._as_user(cmd), cwd=self.home, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise ServerUnavailable(
                f"PostgreSQL {what} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )

    # -- URLs ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the admin database."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://{PG_SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def conninfo(self, name: str = "postgres") -> str:
        """libpq form of :meth:`database_url`, for psycopg directly."""
        return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{self.port}/{name}"

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def start(self, timeout: float = 60) -> PostgresServer:
        """Start (running ``initdb`` first if the data dir is new) and wait for connections."""
        if self.running:
            return self
        if not self.initialised():
            self.data_dir.mkdir(exist_ok=True)
            self._give_to_user(self.data_dir)
            initdb = [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", PG_SUPERUSER]
            initdb += ["--auth=trust", "-E", "UTF8", "--locale=C"]
            self._run(initdb if self.durable else [*initdb, "--no-sync"], "initdb")
        self.socket_dir.mkdir(exist_ok=True)
        self._give_to_user(self.socket_dir)
        self._remove_stale_pidfile()
        cmd = [str(self.bindir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        cmd += ["-k", str(self.socket_dir), "-c", "listen_addresses=127.0.0.1"]
        if not self.durable:
            cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
            cmd += ["-c", "full_page_writes=off"]
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            self._as_user(cmd),
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        atexit.register(self._emergency_stop)
        self._wait_ready(timeout)
        return self

    def _remove_stale_pidfile(self) -> None:
        """After a hard kill the lock file names a dead (or zombie) postmaster; PostgreSQL
        only ignores the first kind, so drop the file when its pid is not a live process."""
        pidfile = self.data_dir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pidfile.read_text().splitlines()[0])
            if not _alive(pid):
                pidfile.unlink()

    def _wait_ready(self, timeout: float) -> None:
        def probe() -> None:
            with psycopg.connect(self.conninfo(), connect_timeout=2) as conn:
                conn.execute("SELECT 1")

        _wait_ready(self, "postgres", probe, psycopg.OperationalError, timeout, pause=0.1)

    def stop(self) -> None:
        """Fast shutdown: roll back open transactions, disconnect clients, checkpoint."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            try:
                self._run(
                    [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data_dir)]
                    + ["-m", "fast", "-w", "-t", "30"],
                    "pg_ctl stop",
                    timeout=60,
                )
                self._proc.wait(timeout=30)
            except (ServerUnavailable, subprocess.TimeoutExpired):
                _hard_kill(self._proc, wrapper=self._user is not None)
        self._cleanup_process()

    def kill(self) -> None:
        """Hard stop (SIGKILL, like a crash or OOM kill): the next start runs crash recovery."""
        if self._proc is None:
            return
        _hard_kill(self._proc, wrapper=self._user is not None)
        self._cleanup_process()

    def restart(self) -> PostgresServer:
        self.stop()
        return self.start()

    def detach(self) -> None:
        """Leave the server running after this process exits (``app.cluster --keep-servers``):
        drop the exit hook that would otherwise kill it."""
        self._cleanup_process()

    def close(self) -> None:
        """Stop and remove any private temp dir; data under ``root`` stays for inspection."""
        self.stop()
        if self._temp_home is not None:
            shutil.rmtree(self._temp_home, ignore_errors=True)
            self._temp_home = None

    def _cleanup_process(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self._emergency_stop)

    def _emergency_stop(self) -> None:
        """The session died before teardown: never leave a server behind."""
        with contextlib.suppress(Exception):
            self.kill()
        if self._temp_home is not None:
            shutil.rmtree(self._temp_home, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- databases ----------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """A fresh empty database; its SQLAlchemy URL. ``CREATE DATABASE`` cannot run inside
        a transaction, hence autocommit."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop even with connections still open (a test's leftover pool must not block it)."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def database_exists(self, name: str) -> bool:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None


class RedisServer:
    """A private ``redis-server`` bound to 127.0.0.1, without persistence by default.

    Tests want a clean server and flush it anyway, and an RDB save on shutdown would only slow
    down :meth:`restart`; ``persistent=True`` (``app.cluster``) snapshots to ``root`` so signed-in
    sessions outlive a restart. The port is fixed at construction so a restart comes back
    where clients expect it, as a real Redis failover does.
    """

    def __init__(self, root: Path, *, port: int | None = None, persistent: bool = False):
        self.root = Path(root)
        self.persistent = persistent
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.binary = redis_binary()
        self.log_path = self.root / "redis.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return self.database_url(0)

    def database_url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30) -> RedisServer:
        if self.running:
            return self
        cmd = [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--save", "60 1" if self.persistent else "", "--appendonly", "no"]
        cmd += ["--dir", str(self.root)]
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        atexit.register(self._emergency_stop)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import redis

        def probe() -> None:
            client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
            try:
                client.ping()
            finally:
                client.close()

        _wait_ready(self, "redis-server", probe, redis.RedisError, timeout, pause=0.05)

    def stop(self) -> None:
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGTERM)
            self._proc.wait(timeout=20)
        except ProcessLookupError:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _hard_kill(self._proc)
        self._cleanup_process()

    def kill(self) -> None:
        """SIGKILL, as a crashed or OOM-killed Redis: clients see the connection drop."""
        if self._proc is None:
            return
        _hard_kill(self._proc)
        self._cleanup_process()

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()

    def detach(self) -> None:
        """Leave the server running after this process exits (see PostgresServer.detach)."""
        self._cleanup_process()

    def close(self) -> None:
        self.stop()

    def _cleanup_process(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self._emergency_stop)

    def _emergency_stop(self) -> None:
        with contextlib.suppress(Exception):
            self.kill()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
