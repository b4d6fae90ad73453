"""The demo app's registry put into a test database, as ``app.bootstrap`` does for the app.

The engine writes no registry of its own (a host publishes its declaration), so a test
that starts a server process on a fresh database publishes one first, the way a host's
deployment step would. The registry itself is ``app.registry.demo_registry()``.
"""

from __future__ import annotations

import threading

from sqlmodel import Session

from app.registry import demo_registry
from personalization.store import registries as registry_store
from personalization.store.db import make_engine

_publishing = threading.Lock()  # servers started side by side must not both save version 1


def publish_demo_registry(url: str) -> int:
    """Store the demo registry unless the database already has one; returns the newest
    version. The database must have the engine's tables (SQLite files get them here)."""
    engine = make_engine(url)
    try:
        with _publishing, Session(engine) as session:
            if registry_store.latest(session=session) is None:
                registry_store.save(session=session, registry=demo_registry())
            return registry_store.latest_version(session=session)
    finally:
        engine.dispose()
