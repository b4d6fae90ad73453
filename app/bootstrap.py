"""Prepare the embedded database before the server starts (`make run` calls this).

Creating tables here, not at import time, keeps the web server's start-up free of schema work
and lets a fresh machine go from clone to running app with one command.
"""

from __future__ import annotations

from personalization.db import database_url, make_engine


def main() -> None:
    make_engine(database_url(), create_tables=True).dispose()
    print(f"database ready: {database_url()}")


if __name__ == "__main__":
    main()
