"""The Alembic migrations build exactly the schema the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from personalization.store.migrate import (
    VERSION_TABLE,
    engine_metadata,
    include_object,
    main,
    upgrade,
)


def _diff(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "version_table": VERSION_TABLE}
        )
        diff = compare_metadata(context, engine_metadata())
    engine.dispose()
    return diff


def test_upgrade_creates_every_engine_table_and_nothing_is_missing(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(engine_metadata().tables) <= tables
    assert VERSION_TABLE in tables
    assert _diff(url) == []  # a model changed without a migration fails here


def test_check_command_passes_on_a_migrated_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert main(["--db", url, "upgrade"]) == 0
    assert main(["--db", url, "check"]) == 0


def test_diff_sees_a_missing_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    create_engine(url).connect().close()
    assert any(op[0] == "add_table" for op in _diff(url))


def test_upgrade_adopts_a_database_made_by_create_all(tmp_path):
    from personalization.store.db import make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    make_engine(url, create_tables=True).dispose()
    upgrade(url)  # must not fail on "table already exists"
    assert _diff(url) == []
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {VERSION_TABLE}").scalar() == 1
    engine.dispose()
