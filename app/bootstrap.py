"""Prepare the embedded database before the server starts (`make run` calls this).

Migrating here, not at import time, keeps the web server's start-up free of schema work
and lets a fresh machine go from clone to running app with one command. It also seeds the
demo accounts and their replayed history on the first run; running it again changes nothing.

It is also where the app publishes its registry (``app/registry.json``): the engine stores a
registry only when it is given one, and serving workers use the newest stored version, so a
designer's later edits in the app survive restarts and redeploys of unchanged code.
"""

from __future__ import annotations

import reflex_local_auth.auth_session  # noqa: F401  (registers the account tables)
from sqlmodel import Session, SQLModel

import app.models  # noqa: F401  (registers the role table)
from app.registry import demo_registry
from app.seed import DEMO_ACCOUNTS, seed_demo
from personalization.engine.personalizer import Personalizer
from personalization.store.db import database_url, make_engine
from personalization.store.migrate import engine_metadata, upgrade


def create_host_tables(engine) -> None:
    """The host app's own tables (accounts, roles): created here, once, as part of the
    deployment step, never by a serving worker (several would race on PostgreSQL)."""
    ours = set(engine_metadata().tables)
    host = [t for name, t in SQLModel.metadata.tables.items() if name not in ours]
    SQLModel.metadata.create_all(engine, tables=host)


def main() -> None:
    upgrade(database_url())  # the engine's tables, by Alembic migrations
    engine = make_engine(database_url(), create_tables=True)
    create_host_tables(engine)
    personalizer = Personalizer(url=database_url(), registry=demo_registry())
    with Session(engine) as session:
        created = seed_demo(engine_session=session, personalizer=personalizer)
    if personalizer.population_version == 0 and personalizer.store.count() > 0:
        # a first population prior, so new visitors are not served from nothing until the
        # scheduled retraining runs
        try:
            personalizer.retrain_population().result()
        except ValueError as exc:
            print(f"population prior not trained yet: {exc}")
    personalizer.close()
    engine.dispose()
    print(f"database ready: {database_url()}")
    if created:
        print("demo accounts (username / password):")
        for account in DEMO_ACCOUNTS:
            print(f"  {account.username} / {account.password}  ({account.role.value})")


if __name__ == "__main__":
    main()
