"""Schema migrations for the engine's tables, with Alembic.

``python -m personalization.migrate upgrade`` brings a database (``ADAPTIVE_DB_URL`` or
``--db``) to the current schema; ``check`` fails when the models and the migrations disagree
(a model changed without a migration); ``revision -m MSG`` writes a new migration from the
difference. The scripts ship inside the package, so an installed engine can migrate itself.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, inspect
from sqlmodel import SQLModel

from personalization.errors import SchemaNotMigrated
from personalization.store.db import database_url, import_all_tables, normalise_url

VERSION_TABLE = "adaptive_engine_version"
SCRIPTS = Path(__file__).resolve().parent / "migrations"


def engine_metadata() -> MetaData:
    """Only the tables declared by engine modules (a host's tables are the host's)."""
    import_all_tables()
    ours = MetaData()
    for mapper in SQLModel._sa_registry.mappers:  # noqa: SLF001 - SQLModel's own registry
        cls = mapper.class_
        if cls.__module__.startswith("personalization.") and hasattr(cls, "__table__"):
            cls.__table__.to_metadata(ours)
    return ours


@functools.cache
def _engine_table_names() -> frozenset[str]:
    """Alembic asks once per object; the answer is fixed once the table modules are loaded."""
    return frozenset(engine_metadata().tables)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: compare and migrate our tables only, never a host's."""
    ours = _engine_table_names()
    if type_ == "table":
        return name in ours
    table = getattr(obj, "table", None)
    return table is None or table.name in ours


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("sqlalchemy.url", url or database_url())
    return cfg


def current_revision(engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def require_current(engine) -> None:
    """Refuse to serve from a database that was not migrated to this code's schema."""
    found = current_revision(engine)
    if found != head_revision():
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaNotMigrated(
            f"the database {where} is at schema revision {found or 'none'}, this code needs "
            f"{head_revision()}: run `python -m personalization.migrate upgrade` first"
        )


def _matches_models(engine) -> bool:
    """Whether tables made by ``create_all`` already have this code's schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include_object})
        return not compare_metadata(ctx, engine_metadata())


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate to ``revision``. A database whose engine tables were made by ``create_all``
    (embedded use, older set-ups) and never migrated is adopted: stamped at the first
    revision, then upgraded, instead of failing on "table already exists"."""
    cfg = alembic_config(normalise_url(url or database_url()))
    engine = create_engine(cfg.get_main_option("sqlalchemy.url"))
    try:
        tables = set(inspect(engine).get_table_names())
        adopt = VERSION_TABLE not in tables and "usage_event" in tables
        current = adopt and _matches_models(engine)
    finally:
        engine.dispose()
    if adopt:
        script = ScriptDirectory.from_config(cfg)
        command.stamp(cfg, "head" if current else script.get_base())
    command.upgrade(cfg, revision)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m personalization.migrate")
    parser.add_argument("--db", help="SQLAlchemy URL (default: ADAPTIVE_DB_URL)")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("upgrade", help="bring the database to the newest schema")
    sub.add_parser("check", help="fail if models and migrations disagree")
    rev = sub.add_parser("revision", help="write a migration for the current model changes")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    cfg = alembic_config(args.db)
    if args.action == "upgrade":
        upgrade(args.db)
    elif args.action == "check":
        command.check(cfg)
    else:
        command.revision(cfg, message=args.message, autogenerate=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
