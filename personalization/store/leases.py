"""Cluster-wide leases: the one worker that retrains the population or applies retention.

A lease is a row (job name, holder, expiry). Taking it is one conditional write that only
succeeds when the row is free, expired or already ours, so among any number of workers on
one database exactly one holds it; a holder that dies simply lets it expire. Plain SQL on
the engine's own database, so it needs neither Redis nor PostgreSQL-only advisory locks.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from personalization.store.tables import ClusterLease

_TABLE = ClusterLease.__table__  # type: ignore[attr-defined]


def worker_id() -> str:
    """Unique per process and start: host, pid and a random suffix."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(
    engine: Engine, name: str, holder: str, ttl_s: float, *, now: float | None = None
) -> bool:
    """Take or renew ``name`` for ``ttl_s`` seconds; False when another holder has it."""
    now = time.time() if now is None else now
    with engine.begin() as conn:
        taken = conn.execute(
            update(_TABLE)
            .where(
                _TABLE.c.name == name,
                (_TABLE.c.expires_at < now) | (_TABLE.c.holder == holder),
            )
            .values(holder=holder, expires_at=now + ttl_s)
        ).rowcount
    if taken:
        return True
    try:
        with engine.begin() as conn:
            conn.execute(insert(_TABLE).values(name=name, holder=holder, expires_at=now + ttl_s))
    except IntegrityError:  # the row exists and someone else holds it
        return False
    return True


def release(engine: Engine, name: str, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(_TABLE)
            .where(_TABLE.c.name == name, _TABLE.c.holder == holder)
            .values(expires_at=0.0)
        )
