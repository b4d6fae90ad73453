"""Safe persistence for learned models: JSON only, validated on load, never pickle.

A model file or row can come from a backup, an upload or another machine; unpickling it
would run whatever code it names. So every model is plain JSON data, checked field by field
when loaded, and wrapped in an envelope with a SHA-256 digest of its body (an HMAC when a
``key`` is given), so a file changed after it was written is rejected with a clear error.

Two things are stored:
- the population part (``PopulationModel`` counts + the ``Scorer``) to a file or as a
  published version in the ``population_artifact`` table; it aggregates many users and holds
  no user id;
- each person's learned state in the ``user_model_state`` table (written and read by
  ``engine.user_records``), marked ``__user_data__`` so erasure finds and deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Text, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from personalization.errors import ModelFormatError
from personalization.predict.learned import Scorer
from personalization.predict.population import PopulationModel

ENVELOPE_FORMAT = "adaptive-model"
ENVELOPE_VERSION = 1
KIND_POPULATION = "population"
KIND_USER_STATE = "user_state"
MAX_MODEL_BYTES = 512 * 1024 * 1024


class PopulationArtifact(SQLModel, table=True):
    """Published versions of the population part (aggregate counts + scorer; no user ids).

    Every worker serves the newest version and checks for a newer one every few seconds, so
    two workers give one person the same prediction. ``through_seq`` is the last event id
    the counts include and ``erasure_mark`` the erasure counter when its training started:
    together they tell an erasure exactly which of a person's events this version counted.
    """

    __tablename__ = "population_artifact"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    payload: str = Field(sa_type=Text)
    through_seq: int = Field(default=0, sa_type=BigInteger)
    erasure_mark: int = 0
    events: int = 0
    created_at: float = Field(default_factory=time.time)


class UserModelState(SQLModel, table=True):
    """One person's learned state as of event ``last_seq`` (see ``engine.user_records``)."""

    __tablename__ = "user_model_state"
    __user_data__: ClassVar[bool] = True

    user_id: str = Field(primary_key=True, max_length=255)
    model_name: str = Field(primary_key=True, max_length=64)
    payload: str
    epoch: str = Field(default="", max_length=32)
    last_seq: int = Field(default=0, sa_type=BigInteger)
    updated_at: float = Field(default_factory=time.time, index=True)


# -- the envelope ------------------------------------------------------------------------------
def _digest(body: str, key: bytes | None) -> str:
    if key is not None:
        return "hmac-sha256:" + hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def dumps(
    kind: str, body: dict[str, Any], *, key: bytes | None = None, sort_keys: bool = True
) -> str:
    """Wrap ``body`` in an envelope whose digest covers the exact body text.
    ``sort_keys=False`` keeps every object's key order (a body whose order carries meaning,
    such as a model's tie-breaking order)."""
    text = json.dumps(body, sort_keys=sort_keys, separators=(",", ":"), allow_nan=False)
    envelope = {
        "format": ENVELOPE_FORMAT,
        "version": ENVELOPE_VERSION,
        "kind": kind,
        "digest": _digest(text, key),
        "body": text,
    }
    return json.dumps(envelope)


def loads(text: str | bytes, *, kind: str, key: bytes | None = None) -> dict[str, Any]:
    """Open an envelope written by ``dumps``; any other content raises ``ModelFormatError``."""
    if len(text) > MAX_MODEL_BYTES:
        raise ModelFormatError(f"model is larger than {MAX_MODEL_BYTES} bytes")
    try:
        envelope = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"model is not valid JSON: {exc}") from None
    if not isinstance(envelope, dict) or envelope.get("format") != ENVELOPE_FORMAT:
        raise ModelFormatError(f"not a model: field 'format' must be {ENVELOPE_FORMAT!r}")
    if envelope.get("version") != ENVELOPE_VERSION:
        raise ModelFormatError(f"unsupported model field 'version': {envelope.get('version')!r}")
    if envelope.get("kind") != kind:
        raise ModelFormatError(f"model field 'kind' is {envelope.get('kind')!r}, expected {kind!r}")
    body = envelope.get("body")
    digest = envelope.get("digest")
    if not isinstance(body, str) or not isinstance(digest, str):
        raise ModelFormatError("model fields 'body' and 'digest' must be strings")
    if not hmac.compare_digest(digest, _digest(body, key)):
        raise ModelFormatError("model field 'digest' does not match: content was modified")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"model field 'body' is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ModelFormatError("model field 'body' must hold an object")
    return data


def _reject_constant(name: str) -> float:
    raise ModelFormatError(f"model contains {name}, which is not a number")


# -- population part ----------------------------------------------------------------------------
def population_to_text(
    population: PopulationModel, scorer: Scorer, *, key: bytes | None = None
) -> str:
    return dumps(
        KIND_POPULATION,
        {"population": population.to_dict(), "scorer": scorer.to_dict()},
        key=key,
    )


def population_from_text(
    text: str | bytes, *, key: bytes | None = None
) -> tuple[PopulationModel, Scorer]:
    data = loads(text, kind=KIND_POPULATION, key=key)
    try:
        return PopulationModel.from_dict(data.get("population")), Scorer.from_dict(
            data.get("scorer")
        )
    except ValueError as exc:
        raise ModelFormatError(str(exc)) from None


def save_population_file(
    *, path: str | Path, population: PopulationModel, scorer: Scorer, key: bytes | None = None
) -> None:
    """Write atomically (temp file + rename): a reader never sees half a model."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(population_to_text(population, scorer, key=key), encoding="utf-8")
    tmp.replace(path)


def load_population_file(
    *, path: str | Path, key: bytes | None = None
) -> tuple[PopulationModel, Scorer]:
    path = Path(path)
    try:
        return population_from_text(path.read_bytes(), key=key)
    except ModelFormatError as exc:
        raise ModelFormatError(f"{path}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Artifact:
    """One published population version, opened and checked."""

    version: int
    population: PopulationModel
    scorer: Scorer
    through_seq: int
    erasure_mark: int
    events: int


KEEP_VERSIONS = 5


def latest_version(*, session: Session) -> int:
    """The newest published version (0: none yet): one index look-up, cheap to poll."""
    return int(session.exec(select(func.max(PopulationArtifact.version))).one() or 0)


def load_population(
    *, session: Session, version: int | None = None, key: bytes | None = None
) -> Artifact | None:
    """The given version (default: the newest), or None when nothing was published."""
    if version is None:
        version = latest_version(session=session)
    record = session.get(PopulationArtifact, version) if version else None
    if record is None:
        return None
    population, scorer = population_from_text(record.payload, key=key)
    return Artifact(
        version=record.version,
        population=population,
        scorer=scorer,
        through_seq=record.through_seq,
        erasure_mark=record.erasure_mark,
        events=record.events,
    )


def publish_population(
    *,
    session: Session,
    population: PopulationModel,
    scorer: Scorer,
    through_seq: int,
    erasure_mark: int,
    events: int,
    base_version: int | None = None,
    key: bytes | None = None,
) -> int | None:
    """Publish a new version and return it; with ``base_version``, only if that is still
    the newest (None otherwise: someone else published first, so re-read and retry).
    Versions older than the last ``KEEP_VERSIONS`` are deleted."""
    newest = latest_version(session=session)
    if base_version is not None and newest != base_version:
        return None
    version = newest + 1
    session.add(
        PopulationArtifact(
            version=version,
            payload=population_to_text(population, scorer, key=key),
            through_seq=through_seq,
            erasure_mark=erasure_mark,
            events=events,
        )
    )
    try:
        session.commit()
    except IntegrityError:  # another worker took this version number first
        session.rollback()
        return None
    old = select(PopulationArtifact.version).where(
        PopulationArtifact.version <= version - KEEP_VERSIONS
    )
    for stale in session.exec(old).all():
        session.delete(session.get(PopulationArtifact, stale))
    session.commit()
    return version
