"""One place that turns a database URL into a ready SQLAlchemy engine.

SQLite is the embedded default (one file, no server); it gets WAL journaling so readers never
block the writer, and ``synchronous=FULL`` so an acknowledged batch survives even a power cut
(WAL keeps that to one fsync per committed batch, which batching makes cheap).
Any other SQLAlchemy URL (PostgreSQL, ...) is passed through untouched.
"""

from __future__ import annotations

import os

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

DEFAULT_DB_URL = "sqlite:///adaptive.db"


def database_url() -> str:
    """The URL the app, the CLI tools and the API share (``ADAPTIVE_DB_URL``)."""
    return os.environ.get("ADAPTIVE_DB_URL", DEFAULT_DB_URL)


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the driver the project installs)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str | None = None, *, create_tables: bool = True) -> Engine:
    """An engine for ``url``. ``create_tables``: the caller needs the engine's tables. An
    embedded SQLite file gets them created here (one process, nothing to race); any other
    database must have been migrated as a deployment step (``python -m
    personalization.migrate upgrade``), and is checked to be at the newest revision, so
    workers never race each other creating tables or run against an old schema."""
    url = normalise_url(url or database_url())
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if create_tables:
        import_all_tables()
        if engine.dialect.name == "sqlite":
            SQLModel.metadata.create_all(engine)
        else:
            from personalization.store.migrate import require_current

            require_current(engine)
    return engine


def import_all_tables() -> None:
    """Import every module that declares tables, so ``create_all`` sees them all."""
    import importlib

    tables = (
        "personalization.store.events",
        "personalization.store.registries",
        "personalization.store.profiles",
        "personalization.store.models",
        "personalization.store.tables",
        "personalization.api.keys",
    )
    for name in tables:
        importlib.import_module(name)
