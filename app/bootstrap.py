"""Prepare the embedded database before the server starts (`make run` calls this).

Migrating here, not at import time, keeps the web server's start-up free of schema work
and lets a fresh machine go from clone to running app with one command. It also seeds the
demo accounts and their replayed history on the first run; running it again changes nothing.
"""

from __future__ import annotations

import reflex_local_auth.auth_session  # noqa: F401  (registers the account tables)
from sqlmodel import Session

import app.models  # noqa: F401  (registers the role table)
from app.seed import DEMO_ACCOUNTS, seed_demo
from personalization.db import database_url, make_engine
from personalization.migrate import upgrade
from personalization.service import Personalizer


def main() -> None:
    upgrade(database_url())  # the engine's tables, by Alembic migrations
    engine = make_engine(database_url(), create_tables=True)  # the accounts and roles tables
    personalizer = Personalizer(url=database_url())
    with Session(engine) as session:
        created = seed_demo(engine_session=session, personalizer=personalizer)
    personalizer.engine.dispose()
    engine.dispose()
    print(f"database ready: {database_url()}")
    if created:
        print("demo accounts (username / password):")
        for account in DEMO_ACCOUNTS:
            print(f"  {account.username} / {account.password}  ({account.role.value})")


if __name__ == "__main__":
    main()
