"""API keys: stored hashed, shown once, scoped, revocable, bound to one application.

A key reads ``ark_<key_id>_<secret>``. ``key_id`` (12 hex characters) is public: it names the
key in listings, logs and rate limits, and finds its row in one indexed lookup. ``secret`` is
32 random bytes (256 bits) from :mod:`secrets`.

Why plain SHA-256 and not bcrypt: slow, salted password hashes exist because passwords are
guessable, so an attacker holding the hash table can try likely ones. A 256-bit random secret
cannot be guessed at any hash speed, and a unique random secret makes salts and rainbow
tables moot; a slow hash would only add ~100 ms to every API request. What matters is that
the database never holds a usable key, which any preimage-resistant hash gives. The
comparison is constant-time (:func:`hmac.compare_digest`).

Command line (prints the new key on stdout, once; everything else goes to stderr)::

    python -m personalization.keys create --name "web backend" --scope ingest --scope layout \
        [--application shop] [--db sqlite:///adaptive.db]
    python -m personalization.keys list [--json]
    python -m personalization.keys revoke KEY_ID
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import secrets
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Field, Session, SQLModel, col, select

from personalization.errors import ApiKeyError, InvalidKey, RevokedKey, UnknownKey
from personalization.store.db import make_engine

PREFIX = "ark"
SCOPES = ("ingest", "layout", "user-data", "registry")
"""``ingest``: send usage events. ``layout``: read layouts, predictions and task panels and
post panel actions. ``user-data``: a user's profile, settings, export, erasure, and minting
per-user tokens. ``registry``: read and write the designer registry."""
DEFAULT_APPLICATION = "default"
APPLICATION_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
"""No ``:``, so the engine user id ``f"{application}:{user}"`` splits one way only."""
_KEY_PATTERN = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")


class ApiKey(SQLModel, table=True):
    """One key. Holds no personal data: it belongs to an application, not to a user."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=12, unique=True, index=True)
    name: str = Field(max_length=128)
    application: str = Field(max_length=64, index=True)
    scopes: str = Field(max_length=256)  # space-separated, sorted
    secret_hash: str = Field(max_length=64)  # SHA-256 hex of the whole key string
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    revoked_at: datetime | None = Field(default=None)


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """What may be shown about a key: everything but its hash."""

    key_id: str
    name: str
    application: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "application": self.application,
            "scopes": sorted(self.scopes),
            "created_at": self.created_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


def _info(row: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        key_id=row.key_id,
        name=row.name,
        application=row.application,
        scopes=frozenset(row.scopes.split()),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(scopes)
    unknown = sorted(chosen - set(SCOPES))
    if unknown:
        raise ApiKeyError(f"unknown scope(s) {unknown}; choose from {list(SCOPES)}")
    if not chosen:
        raise ApiKeyError(f"a key needs at least one scope; choose from {list(SCOPES)}")
    return chosen


def check_application(application: str) -> str:
    if not APPLICATION_PATTERN.match(application):
        raise ApiKeyError(
            f"application {application!r} must be 1-64 characters of A-Z a-z 0-9 _ . - "
            "(no ':', it separates the application from the user id)"
        )
    return application


def create_key(
    *,
    session: Session,
    name: str,
    scopes: Iterable[str],
    application: str = DEFAULT_APPLICATION,
) -> tuple[ApiKeyInfo, str]:
    """Store a new key and return its info and the key itself: the only time it exists in
    clear text. Nothing can show it again."""
    chosen = check_scopes(scopes)
    check_application(application)
    name = name.strip()
    if not name or len(name) > 128:
        raise ApiKeyError("name must be 1-128 characters")
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        key_id=key_id,
        name=name,
        application=application,
        scopes=" ".join(sorted(chosen)),
        secret_hash=hash_key(key),
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return _info(row), key


def list_keys(*, session: Session, include_revoked: bool = True) -> list[ApiKeyInfo]:
    stmt = select(ApiKey).order_by(col(ApiKey.id))
    if not include_revoked:
        stmt = stmt.where(col(ApiKey.revoked_at).is_(None))
    return [_info(row) for row in session.exec(stmt)]


def _row(session: Session, key_id: str) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.key_id == key_id)).first()


def get_key(*, session: Session, key_id: str) -> ApiKeyInfo:
    row = _row(session, key_id)
    if row is None:
        raise UnknownKey(f"no API key has id {key_id!r}")
    return _info(row)


def revoke_key(*, session: Session, key_id: str) -> ApiKeyInfo:
    """Revoke at once; revoking twice keeps the first time."""
    row = _row(session, key_id)
    if row is None:
        raise UnknownKey(f"no API key has id {key_id!r}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.add(row)
        session.commit()
        session.refresh(row)
    return _info(row)


def verify_key(*, session: Session, key: str) -> ApiKeyInfo:
    """The active key ``key`` names, or :class:`InvalidKey` / :class:`RevokedKey`."""
    match = _KEY_PATTERN.match(key)
    if match is None:
        raise InvalidKey("malformed API key")
    # a Core look-up, not an ORM one: this runs on every API request, and building the
    # ORM object cost several times the indexed read itself
    table = ApiKey.__table__  # type: ignore[attr-defined]
    found = session.connection().execute(select(table).where(table.c.key_id == match.group(1)))
    row = found.first()
    if row is None or not hmac.compare_digest(row.secret_hash, hash_key(key)):
        raise InvalidKey("unknown API key")
    if row.revoked_at is not None:
        raise RevokedKey(f"API key {row.key_id} was revoked")
    return _info(row)  # type: ignore[arg-type]


def signing_secret(*, session: Session, key_id: str) -> tuple[ApiKeyInfo, bytes]:
    """The server-side secret that signs per-user tokens minted by ``key_id``: its stored
    hash, which never leaves the server. Revoking the key therefore voids its tokens."""
    row = _row(session, key_id)
    if row is None:
        raise InvalidKey("unknown API key")
    if row.revoked_at is not None:
        raise RevokedKey(f"API key {row.key_id} was revoked")
    return _info(row), bytes.fromhex(row.secret_hash)


# -- command line ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m personalization.keys", description="Manage API keys."
    )
    parser.add_argument("--db", default=None, help="database URL (default: ADAPTIVE_DB_URL)")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print it once on stdout")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="append", required=True, choices=SCOPES)
    create.add_argument("--application", default=DEFAULT_APPLICATION)
    listing = sub.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON document")
    listing.add_argument("--active", action="store_true", help="hide revoked keys")
    revoke = sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    engine = make_engine(args.db)
    try:
        with Session(engine) as session:
            if args.command == "create":
                info, key = create_key(
                    session=session, name=args.name, scopes=args.scope, application=args.application
                )
                print(
                    f"created key {info.key_id} for application {info.application!r} "
                    f"with scopes {sorted(info.scopes)}; store it now, it is not shown again",
                    file=sys.stderr,
                )
                print(key)
            elif args.command == "list":
                keys = list_keys(session=session, include_revoked=not args.active)
                if args.json:
                    print(json.dumps([k.to_dict() for k in keys], indent=2))
                else:
                    for k in keys:
                        state = "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d}"
                        print(
                            f"{k.key_id}  {k.application:<16} {' '.join(sorted(k.scopes)):<32} "
                            f"{state:<18} {k.name}"
                        )
            else:
                info = revoke_key(session=session, key_id=args.key_id)
                print(f"revoked {info.key_id} ({info.name})", file=sys.stderr)
    except ApiKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0
