"""Each person's profile and their previous layout per region, in the database.

The previous layout is stored so the next decision starts from what the person last saw
(no jumps on reload) and first paint is already right. Both tables hold personal data and
set ``__user_data__`` so erasure finds them. Values are JSON text, never pickles.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import Text
from sqlalchemy.engine import Connection
from sqlmodel import Field, Session, SQLModel, col, delete, select

from personalization.layout.decide import Layout
from personalization.profile import UserProfile


class UserProfileRow(SQLModel, table=True):
    __tablename__ = "user_profile"
    __user_data__: ClassVar[bool] = True

    user_id: str = Field(primary_key=True, max_length=128)
    data: str = Field(sa_type=Text)
    # a column as well as in ``data``: scheduled retention selects people by it
    retention_days: int = Field(default=365, index=True)
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class UserLayoutRow(SQLModel, table=True):
    __tablename__ = "user_layout"
    __user_data__: ClassVar[bool] = True

    user_id: str = Field(primary_key=True, max_length=128)
    region: str = Field(primary_key=True, max_length=64)
    data: str = Field(sa_type=Text)
    registry_version: int = 0
    update_counter: int = 0
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def load_profile(*, session: Session, user_id: str) -> UserProfile:
    """The stored profile, or a fresh default one (not saved) for a new person."""
    return read_profile(session.connection(), user_id)


def read_profile(conn: Connection, user_id: str) -> UserProfile:
    """``load_profile`` on a plain connection, for the request path (read on every call so
    an opt-out holds on every worker at once; the ORM cost more than the look-up)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"SELECT data FROM {UserProfileRow.__tablename__} WHERE user_id = {mark}"
    found = conn.exec_driver_sql(sql, (user_id,)).scalar()
    if found is None:
        return UserProfile(user_id=user_id)
    return UserProfile.from_dict(json.loads(found))


def save_profile(*, session: Session, profile: UserProfile) -> None:
    row = session.get(UserProfileRow, profile.user_id)
    data = json.dumps(profile.to_dict())
    if row is None:
        row = UserProfileRow(user_id=profile.user_id, data=data)
    else:
        row.data, row.updated_at = data, datetime.now(UTC)
    row.retention_days = profile.retention_days
    session.add(row)
    session.commit()


def read_profiles(conn: Connection, user_ids: list[str]) -> dict[str, UserProfile]:
    """Stored profiles of many people in one query (fresh defaults for the others)."""
    found: dict[str, UserProfile] = {}
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    for start in range(0, len(user_ids), 500):
        part = user_ids[start : start + 500]
        sql = (
            f"SELECT user_id, data FROM {UserProfileRow.__tablename__} "
            f"WHERE user_id IN ({', '.join([mark] * len(part))})"
        )
        for user, data in conn.exec_driver_sql(sql, tuple(part)):
            found[user] = UserProfile.from_dict(json.loads(data))
    return {u: found.get(u) or UserProfile(user_id=u) for u in user_ids}


def load_layout(*, session: Session, user_id: str, region: str) -> Layout | None:
    row = session.get(UserLayoutRow, (user_id, region))
    return Layout.from_dict(json.loads(row.data)) if row is not None else None


def save_layout(*, session: Session, user_id: str, layout: Layout) -> None:
    row = session.get(UserLayoutRow, (user_id, layout.region))
    data = json.dumps(layout.to_dict())
    if row is None:
        row = UserLayoutRow(user_id=user_id, region=layout.region, data=data)
    row.data = data
    row.registry_version = layout.registry_version
    row.update_counter = layout.update_counter
    row.updated_at = datetime.now(UTC)
    session.add(row)
    session.commit()


def load_layouts(*, session: Session, user_id: str) -> dict[str, Layout]:
    rows = session.exec(select(UserLayoutRow).where(col(UserLayoutRow.user_id) == user_id))
    return {r.region: Layout.from_dict(json.loads(r.data)) for r in rows}


def delete_user(*, session: Session, user_id: str) -> int:
    """Remove the profile and every stored layout of ``user_id``; returns rows deleted."""
    removed = 0
    for table in (UserLayoutRow, UserProfileRow):
        result = session.exec(delete(table).where(col(table.user_id) == user_id))  # type: ignore[call-overload]
        removed += result.rowcount or 0
    session.commit()
    return removed
