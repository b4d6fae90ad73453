"""The two small tables only the engine facade keeps, and the reset store functions.

They live apart from ``service`` so that creating the schema (``import_all_tables``) and the
migrations do not have to import the whole engine with its predictor and trainer.
"""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Field, Session, SQLModel, select


class LearningReset(SQLModel, table=True):
    """When a person last pressed "reset my personalization": events before it stay in
    their history (they can still export or delete them) but teach the model nothing."""

    __tablename__ = "learning_reset"
    __user_data__: ClassVar[bool] = True

    user_id: str = Field(primary_key=True, max_length=128)
    reset_at: float


class FoundCounter(SQLModel, table=True):
    """Aggregate "was the command already visible?" counts per group (adaptive or control).

    Unlike the other live metrics this cannot be recomputed from the log (it depends on what
    was on screen at the time), so it is kept, flushed every few seconds. No personal data.
    """

    __tablename__ = "found_counter"

    group: str = Field(primary_key=True, max_length=16)
    found: int = 0
    events: int = 0


def load_resets(*, session: Session) -> dict[str, float]:
    """Every person's last reset time (epoch seconds), by user id."""
    return {r.user_id: r.reset_at for r in session.exec(select(LearningReset))}


def save_reset(*, session: Session, user_id: str, at: float) -> None:
    """Store when ``user_id`` reset; commits, so the next replay already skips the older
    events."""
    row = session.get(LearningReset, user_id) or LearningReset(user_id=user_id, reset_at=0.0)
    row.reset_at = at
    session.add(row)
    session.commit()
