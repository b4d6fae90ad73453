"""Work that must not grow with the whole history: starting an engine, changing the registry,
erasing or resetting one person and applying retention. Checked by recording every SQL
statement the engine sends (on SQLite and PostgreSQL), not by timing anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.registry import demo_registry
from personalization.engine.personalizer import Personalizer

# a statement on the log's rows (schema checks such as SQLite's PRAGMA table_info are not)
EVENTS_TABLE = re.compile(r"\b(from|join|update|into)\s+\"?usage_event\b", re.IGNORECASE)


@contextmanager
def statements() -> Iterator[list[tuple[str, object]]]:
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _reading_the_log(seen: list[tuple[str, object]]) -> list[str]:
    return [s for s, _p in seen if EVENTS_TABLE.search(s)]


@pytest.fixture
def history(db_url, schonlau_users) -> str:
    """A database holding real history (12 people, 12,000 events) and a trained prior."""
    eng = Personalizer(url=db_url, registry=demo_registry(), control_percent=0)
    for n, (_uid, events) in enumerate(schonlau_users[:12]):
        rows = [
            {"client_event_id": f"{n}-{i}", "user_id": f"p{n}", "command": e.command}
            for i, e in enumerate(events[:1000])
        ]
        eng.store.append(rows)  # as an importer would: no learning at write time
    eng.record_command("p0", "ls")
    eng.retrain_population().result(timeout=300)
    eng.close()
    return db_url


def test_starting_an_engine_reads_no_events(history) -> None:
    with statements() as seen:
        eng = Personalizer(url=history, control_percent=0)
    assert eng.population_version == 1  # it did load the published prior...
    assert _reading_the_log(seen) == []  # ...and nothing from the log
    assert len(seen) < 40
    eng.close()


def test_changing_the_registry_reads_no_events(history) -> None:
    eng = Personalizer(url=history, control_percent=0)
    registry = eng.registry
    changed = registry.to_dict()
    changed["name"] = registry.name + " (edited)"
    with statements() as seen:
        version = eng.save_registry(changed)
    assert version == registry.version + 1
    assert _reading_the_log(seen) == []
    eng.close()


def test_erasure_reads_and_deletes_only_that_persons_events(history) -> None:
    eng = Personalizer(url=history, control_percent=0)
    eng.predictions("p3")  # p3 has a model by now (loaded from the log once)
    with statements() as seen:
        deleted = eng.erase_user("p3")
    assert deleted["usage_event"] == 1000
    touching = [(s, p) for s, p in seen if EVENTS_TABLE.search(s)]
    assert touching
    for statement, params in touching:
        # every statement on the log names the person (an indexed range), never a scan
        assert "user_id" in statement, statement
        assert "p3" in str(params), (statement, params)
    assert eng.population_version == 2  # the prior lost p3's counts in a new version
    eng.close()


def test_reset_reads_no_events(history) -> None:
    eng = Personalizer(url=history, control_percent=0)
    with statements() as seen:
        eng.reset("p4")
    touching = [(s, p) for s, p in seen if EVENTS_TABLE.search(s)]
    # the person's newest event id (where learning restarts), then their (empty) tail
    assert touching and all("p4" in str(p) for _s, p in touching), touching
    assert "max(" in touching[0][0].lower()
    assert eng.profile("p4").counts == {}
    eng.close()


def test_retention_touches_only_expired_rows_by_time(history) -> None:
    eng = Personalizer(url=history, control_percent=0)
    with statements() as seen:
        removed = eng.expire_old_events()
    assert removed == 0
    for statement, _params in ((s, p) for s, p in seen if EVENTS_TABLE.search(s)):
        lowered = statement.lower()
        assert lowered.startswith("delete") and "client_time <" in lowered, statement
    eng.close()
