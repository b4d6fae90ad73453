"""The host app's one table of its own: which role each account has.

reflex-local-auth owns accounts and password hashes; it has no notion of roles, so a
designer is simply an account with a ``designer`` row here. The column is ``account_id``
(the local account's integer id), not ``user_id``: the engine's ``user_id`` is a string
like ``web:3`` and erasure looks for that name, while a role is account administration,
not usage data, and must survive "delete my data".
"""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Field, SQLModel


class Role(StrEnum):
    USER = "user"
    DESIGNER = "designer"


class AccountRole(SQLModel, table=True):
    __tablename__ = "account_role"

    account_id: int = Field(primary_key=True)
    role: str = Field(default=Role.USER.value, max_length=16)
