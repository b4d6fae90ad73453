"""Accounts, roles and the engine's user id, shared by sign-up, sign-in and the seed script.

Passwords are hashed by reflex-local-auth's ``LocalUser.hash_password`` (bcrypt); this module
never sees a hash it did not get from there. The engine never learns usernames: it knows a
person only as ``web:<account id>``, so an export or a log line names no one.
"""

from __future__ import annotations

import re

from reflex_local_auth.user import LocalUser
from sqlmodel import Session, select

from app.models import AccountRole, Role

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
MIN_PASSWORD = 8


class AccountError(ValueError):
    """Sign-up input was refused; ``field`` names the form field to fix."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def engine_user_id(account_id: int) -> str:
    """The only identity the engine stores for a person."""
    return f"web:{account_id}"


def check_new_account(*, session: Session, username: str, password: str) -> None:
    if not USERNAME_PATTERN.match(username or ""):
        raise AccountError("username", "use 3 to 32 letters, digits, '.', '_' or '-' (no spaces)")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError("password", f"must be at least {MIN_PASSWORD} characters")
    if find_account(session=session, username=username) is not None:
        raise AccountError("username", f"{username!r} is taken; choose another name")


def create_account(
    *, session: Session, username: str, password: str, role: Role = Role.USER
) -> LocalUser:
    """Validate, hash the password and store the account with its role in one commit."""
    check_new_account(session=session, username=username, password=password)
    user = LocalUser(
        username=username, password_hash=LocalUser.hash_password(password), enabled=True
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    session.add(AccountRole(account_id=user.id, role=role.value))
    session.commit()
    session.refresh(user)
    return user


def find_account(*, session: Session, username: str) -> LocalUser | None:
    return session.exec(select(LocalUser).where(LocalUser.username == username)).one_or_none()


def role_of(*, session: Session, account_id: int) -> Role:
    row = session.get(AccountRole, account_id)
    return Role(row.role) if row is not None else Role.USER
