"""Serve the API on its own (no Reflex): ``python -m personalization.api --port 8000``.

For hosts that are not Reflex apps, and for the reliability tests, which run this in a
subprocess so they can kill it hard mid-ingest.

``--workers N`` runs N uvicorn worker processes. Workers are separate processes, so uvicorn
builds each app from an import string (``create_app_from_env``) and the database URL travels
in ``ADAPTIVE_DB_URL``; with one worker the app is built here, in this process, as before.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import uvicorn

from personalization.api.app import create_api
from personalization.engine.heap import freeze_startup_heap
from personalization.engine.personalizer import Personalizer
from personalization.store.db import database_url, make_engine

FACTORY = "personalization.api.app:create_app_from_env"
DB_ENV = "ADAPTIVE_DB_URL"  # what personalization.store.db.database_url reads


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m personalization.api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default=None, help="database URL (default: ADAPTIVE_DB_URL)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers: must be at least 1")
    if args.workers == 1:
        app = create_api(Personalizer(url=args.db))
        freeze_startup_heap()
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
        return 0
    if args.db:
        os.environ[DB_ENV] = args.db  # inherited by the worker processes
    # Prepare the schema once, here (SQLite: create missing tables; other databases: check
    # they are migrated), so N workers starting together neither race nor each fail alone.
    make_engine(database_url()).dispose()
    freeze_startup_heap()  # before the workers fork; each also freezes what it builds
    uvicorn.run(
        FACTORY,
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
