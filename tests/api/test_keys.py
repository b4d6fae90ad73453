"""API keys: hashed at rest, shown once, scoped, revocable, and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from personalization.api import keys
from personalization.store import privacy
from personalization.store.db import make_engine
from tests.support.reflex_server import PROJECT_ROOT


@pytest.fixture
def session(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_key_is_stored_hashed_and_verifies(session: Session) -> None:
    info, key = keys.create_key(
        session=session, name="backend", scopes=["ingest", "layout"], application="shop"
    )
    assert key.startswith(f"ark_{info.key_id}_") and len(key) == 60
    row = session.exec(text("SELECT * FROM api_key")).mappings().one()
    assert key not in {str(v) for v in row.values()}
    assert key.split("_", 2)[2] not in "".join(str(v) for v in row.values())
    assert row["secret_hash"] == keys.hash_key(key)

    found = keys.verify_key(session=session, key=key)
    assert (found.application, found.scopes) == ("shop", frozenset({"ingest", "layout"}))
    wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
    for bad in (wrong, "ark_000000000000_" + "x" * 43, "nonsense", ""):
        with pytest.raises(keys.InvalidKey):
            keys.verify_key(session=session, key=bad)


def test_revoked_key_is_refused_and_listed(session: Session) -> None:
    info, key = keys.create_key(session=session, name="old", scopes=["registry"])
    keys.revoke_key(session=session, key_id=info.key_id)
    with pytest.raises(keys.RevokedKey):
        keys.verify_key(session=session, key=key)
    listed = keys.list_keys(session=session)
    assert [(k.key_id, k.active) for k in listed] == [(info.key_id, False)]
    assert keys.list_keys(session=session, include_revoked=False) == []
    with pytest.raises(keys.UnknownKey):
        keys.revoke_key(session=session, key_id="ffffffffffff")


def test_bad_scopes_and_applications_are_named(session: Session) -> None:
    with pytest.raises(keys.ApiKeyError, match=r"unknown scope\(s\) \['admin'\]"):
        keys.create_key(session=session, name="x", scopes=["admin"])
    with pytest.raises(keys.ApiKeyError, match="at least one scope"):
        keys.create_key(session=session, name="x", scopes=[])
    with pytest.raises(keys.ApiKeyError, match="no ':'"):
        keys.create_key(session=session, name="x", scopes=["ingest"], application="a:b")


def test_key_table_holds_no_personal_data() -> None:
    assert "api_key" not in privacy.unflagged_user_tables()
    assert "api_key" not in {t.name for t in privacy.user_data_tables()}


def _cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "personalization.keys", "--db", db, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_command_line_create_list_revoke(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    made = _cli(db, "create", "--name", "web", "--scope", "ingest", "--application", "shop")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("ark_") and "\n" not in key
    assert "not shown again" in made.stderr
    key_id = key.split("_")[1]

    listed = _cli(db, "list")
    assert key_id in listed.stdout and key.split("_", 2)[2] not in listed.stdout
    assert "shop" in listed.stdout and "active" in listed.stdout

    assert _cli(db, "revoke", key_id).returncode == 0
    engine = make_engine(db)
    with Session(engine) as s, pytest.raises(keys.RevokedKey):
        keys.verify_key(session=s, key=key)
    engine.dispose()

    missing = _cli(db, "revoke", "ffffffffffff")
    assert missing.returncode == 2 and "no API key has id" in missing.stderr
