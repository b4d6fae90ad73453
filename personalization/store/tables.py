"""The small shared tables the engine's workers coordinate through.

They live apart from ``service`` so that creating the schema (``import_all_tables``) and the
migrations do not have to import the whole engine with its predictor and trainer.
"""

from __future__ import annotations

from sqlalchemy import Float
from sqlmodel import Field, SQLModel


class SharedCounter(SQLModel, table=True):
    """A named number every worker adds to (live metrics, the erasure counter).

    Workers add increments (``value = value + delta``), never overwrite, so counts from
    several processes sum instead of the last writer winning. Aggregates only: no user ids.
    """

    __tablename__ = "shared_counter"

    name: str = Field(primary_key=True, max_length=160)
    value: float = Field(default=0.0, sa_type=Float(precision=53))


class ClusterLease(SQLModel, table=True):
    """Who runs a cluster-wide job (retraining, retention) until ``expires_at``: one row per
    job, taken with a conditional update, so exactly one worker runs it per period."""

    __tablename__ = "cluster_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: float
