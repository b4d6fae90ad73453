"""Registries in the database as immutable, numbered versions.

Designers change a registry often; layouts and stored previous layouts name the version they
were decided with, so old versions are kept, never edited. Saving identical content again
returns the existing version instead of adding a row, so "save on every deploy" is harmless.
Rows hold the registry's JSON (never a pickle) and a SHA-256 of its content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Text, func
from sqlmodel import Field, Session, SQLModel, col, select

from personalization.registry import Registry, RegistryError, validate


class RegistryVersion(SQLModel, table=True):
    __tablename__ = "registry_version"

    version: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, index=True)
    checksum: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    note: str = Field(default="", max_length=500)
    data: str = Field(sa_type=Text)


@dataclass(frozen=True, slots=True)
class RegistryVersionInfo:
    version: int
    name: str
    checksum: str
    created_at: datetime
    note: str

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "name": self.name,
            "checksum": self.checksum,
            "created_at": self.created_at.isoformat(),
            "note": self.note,
        }


def checksum(registry: Registry) -> str:
    text = json.dumps(registry.content_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def save(*, session: Session, registry: Registry, note: str = "") -> int:
    """Validate and store ``registry``; returns its version (existing one if unchanged)."""
    errors = validate(registry)
    if errors:
        raise RegistryError(errors)
    digest = checksum(registry)
    newest = session.exec(select(RegistryVersion).order_by(col(RegistryVersion.version).desc()))
    row = newest.first()
    if row is not None and row.checksum == digest and row.version is not None:
        return row.version
    row = RegistryVersion(
        name=registry.name,
        checksum=digest,
        note=note,
        data=json.dumps(registry.content_dict(), sort_keys=False),
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    assert row.version is not None
    return row.version


def _load(row: RegistryVersion) -> Registry:
    registry = Registry.from_json(row.data)
    return replace(registry, version=row.version or 0)


def latest(*, session: Session) -> Registry | None:
    """The newest version, with ``version`` set; ``None`` if nothing was saved yet."""
    row = session.exec(
        select(RegistryVersion).order_by(col(RegistryVersion.version).desc())
    ).first()
    return _load(row) if row is not None else None


def get(*, session: Session, version: int) -> Registry:
    row = session.get(RegistryVersion, version)
    if row is None:
        raise KeyError(f"registry version {version} does not exist")
    return _load(row)


def history(*, session: Session) -> list[RegistryVersionInfo]:
    """Every version, oldest first."""
    rows = session.exec(select(RegistryVersion).order_by(col(RegistryVersion.version)))
    return [
        RegistryVersionInfo(
            version=r.version or 0,
            name=r.name,
            checksum=r.checksum,
            created_at=r.created_at,
            note=r.note,
        )
        for r in rows
    ]


def latest_version(*, session: Session) -> int:
    """The newest version number (0: none saved yet); one index look-up, cheap to poll."""
    return int(session.exec(select(func.max(RegistryVersion.version))).one() or 0)


def has_checksum(*, session: Session, digest: str) -> bool:
    """Whether any version ever stored this content (a worker started with an older
    registry must not write it back over a newer one)."""
    stmt = select(RegistryVersion.version).where(RegistryVersion.checksum == digest).limit(1)
    return session.exec(stmt).first() is not None
