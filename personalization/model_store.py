"""Safe persistence for learned models: JSON only, validated on load, never pickle.

A model file or row can come from a backup, an upload or another machine; unpickling it
would run whatever code it names. So every model is plain JSON data, checked field by field
when loaded, and wrapped in an envelope with a SHA-256 digest of its body (an HMAC when a
``key`` is given), so a file changed after it was written is rejected with a clear error.

Two things are stored:
- the population part (``PopulationModel`` counts + the ``Scorer``) to a file or to the
  ``population_model`` table; it aggregates many users and holds no user id;
- each user's learned state (their sequence contexts and decayed statistics) in the
  ``user_model_state`` table, marked ``__user_data__`` so erasure finds and deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from pathlib import Path
from typing import Any, ClassVar

from sqlmodel import Field, Session, SQLModel, select

from personalization.predict.base import RankedCounter
from personalization.predict.features import MAX_ORDER, UserState
from personalization.predict.learned import LearnedPredictor, Scorer
from personalization.predict.population import PopulationModel

ENVELOPE_FORMAT = "adaptive-model"
ENVELOPE_VERSION = 1
KIND_POPULATION = "population"
KIND_USER_STATE = "user_state"
MAX_MODEL_BYTES = 512 * 1024 * 1024


class ModelFormatError(ValueError):
    """Stored model content that is unknown, malformed or was modified after writing."""


class PopulationModelRecord(SQLModel, table=True):
    """Named versions of the population model (aggregate counts; no user ids)."""

    __tablename__ = "population_model"

    name: str = Field(primary_key=True, max_length=64)
    payload: str
    created_at: float = Field(default_factory=time.time)


class UserModelState(SQLModel, table=True):
    """One user's learned state for one model, as a checked JSON envelope."""

    __tablename__ = "user_model_state"
    __user_data__: ClassVar[bool] = True

    user_id: str = Field(primary_key=True, max_length=255)
    model_name: str = Field(primary_key=True, max_length=64)
    payload: str
    updated_at: float = Field(default_factory=time.time, index=True)


# -- the envelope ------------------------------------------------------------------------------
def _digest(body: str, key: bytes | None) -> str:
    if key is not None:
        return "hmac-sha256:" + hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def dumps(kind: str, body: dict[str, Any], *, key: bytes | None = None) -> str:
    """Wrap ``body`` in an envelope whose digest covers the exact body text."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
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


def save_population(
    *,
    session: Session,
    population: PopulationModel,
    scorer: Scorer,
    name: str = "default",
    key: bytes | None = None,
) -> None:
    record = session.get(PopulationModelRecord, name)
    payload = population_to_text(population, scorer, key=key)
    if record is None:
        session.add(PopulationModelRecord(name=name, payload=payload))
    else:
        record.payload = payload
        record.created_at = time.time()
        session.add(record)
    session.commit()


def load_population(
    *, session: Session, name: str = "default", key: bytes | None = None
) -> tuple[PopulationModel, Scorer] | None:
    record = session.get(PopulationModelRecord, name)
    if record is None:
        return None
    return population_from_text(record.payload, key=key)


# -- per-user state -------------------------------------------------------------------------------
def user_state_to_dict(state: UserState) -> dict[str, Any]:
    return {
        "history": list(state.history),
        "counts": _ranked_items(state.order0),
        "contexts": [[list(ctx), row] for ctx, row in state.contexts.items()],
        "frecency": _ranked_items(state.frecency),
        "frecency_weight": state.frecency_weight,
        "last_seen": state.last_seen,
        "clock": state.clock,
        "context_counts": state.context_counts,
    }


def _counter(values: Any, field: str, *, integer: bool) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ModelFormatError(f"user state field {field!r} must be an object")
    for k, v in values.items():
        ok_type = type(v) is int if integer else isinstance(v, int | float)
        if not isinstance(k, str) or isinstance(v, bool) or not ok_type:
            raise ModelFormatError(f"user state field {field!r} has a bad entry {k!r}")
        if not math.isfinite(v) or v < 0:
            raise ModelFormatError(f"user state field {field!r} has a bad entry {k!r}")
    return values


def _ranked_items(counter: RankedCounter) -> list[list[Any]]:
    """The ranked entries first, in their exact order (ties included), then the rest."""
    head = set(counter.order)
    rest = [[c, v] for c, v in counter.value.items() if c not in head]
    return [[c, counter.value[c]] for c in counter.order] + rest


def _ranked(items: Any, field: str) -> RankedCounter:
    """Rebuild a counter with its ranked head in the stored order, checking it is sorted."""
    if not isinstance(items, list):
        raise ModelFormatError(f"user state field {field!r} must be a list of [command, value]")
    counter = RankedCounter()
    previous = math.inf
    for i, item in enumerate(items):
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], str)
            or not isinstance(item[1], int | float)
            or isinstance(item[1], bool)
            or not 0 < item[1] < math.inf
            or (i < counter.cap and item[1] > previous)
            or item[0] in counter.value
        ):
            raise ModelFormatError(f"user state field {field!r} entry {i} is malformed")
        if i < counter.cap:
            previous = item[1]
            counter.order.append(item[0])
        elif item[1] > previous:
            raise ModelFormatError(f"user state field {field!r} entry {i} outranks the head")
        counter.value[item[0]] = float(item[1])
        counter.total += float(item[1])
    return counter


def user_state_from_dict(data: dict[str, Any]) -> UserState:
    state = UserState()
    history = data.get("history")
    if not isinstance(history, list) or not all(isinstance(c, str) for c in history):
        raise ModelFormatError("user state field 'history' must be a list of command ids")
    if len(history) > MAX_ORDER:
        raise ModelFormatError(f"user state field 'history' is longer than {MAX_ORDER}")
    state.history.extend(history)
    state.order0 = _ranked(data.get("counts"), "counts")
    state.frecency = _ranked(data.get("frecency"), "frecency")
    weight = data.get("frecency_weight")
    if not isinstance(weight, int | float) or isinstance(weight, bool) or not weight > 0:
        raise ModelFormatError("user state field 'frecency_weight' must be a positive number")
    state.frecency_weight = float(weight)
    state.last_seen = _counter(data.get("last_seen"), "last_seen", integer=True)
    clock = data.get("clock")
    if type(clock) is not int or clock < 0:
        raise ModelFormatError("user state field 'clock' must be a non-negative integer")
    state.clock = clock
    contexts = data.get("contexts")
    if not isinstance(contexts, list):
        raise ModelFormatError("user state field 'contexts' must be a list")
    for i, item in enumerate(contexts):
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], list)
            or not 1 <= len(item[0]) <= MAX_ORDER
            or not all(isinstance(c, str) for c in item[0])
        ):
            raise ModelFormatError(f"user state field 'contexts' entry {i} is malformed")
        row = _counter(item[1], f"contexts[{i}]", integer=True)
        if not row or 0 in row.values():
            raise ModelFormatError(f"user state field 'contexts' entry {i} has no counts")
        state.contexts[tuple(item[0])] = row
        state.context_totals[tuple(item[0])] = sum(row.values())
    ctx_counts = data.get("context_counts")
    if not isinstance(ctx_counts, dict):
        raise ModelFormatError("user state field 'context_counts' must be an object")
    for item, row in ctx_counts.items():
        state.context_counts[str(item)] = _counter(row, f"context_counts[{item}]", integer=True)
    return state


def save_user_state(
    *, session: Session, predictor: LearnedPredictor, user_id: str, key: bytes | None = None
) -> bool:
    """Store what ``predictor`` learned about ``user_id``; False if it knows nothing."""
    state = predictor.users_.get(user_id)
    if state is None:
        return False
    payload = dumps(
        KIND_USER_STATE,
        {
            "user_id": user_id,
            "state": user_state_to_dict(state),
            "counts": predictor.user_counts_.get(user_id, {}),
        },
        key=key,
    )
    record = session.get(UserModelState, (user_id, predictor.name))
    if record is None:
        record = UserModelState(user_id=user_id, model_name=predictor.name, payload=payload)
    else:
        record.payload = payload
        record.updated_at = time.time()
    session.add(record)
    session.commit()
    return True


def load_user_state(
    *, session: Session, predictor: LearnedPredictor, user_id: str, key: bytes | None = None
) -> bool:
    """Restore a stored user into ``predictor`` (replacing what it had); False if none."""
    record = session.get(UserModelState, (user_id, predictor.name))
    if record is None:
        return False
    data = loads(record.payload, kind=KIND_USER_STATE, key=key)
    if data.get("user_id") != user_id:
        raise ModelFormatError("user state field 'user_id' does not match the row")
    state_data = data.get("state")
    if not isinstance(state_data, dict):
        raise ModelFormatError("user state field 'state' must be an object")
    state = user_state_from_dict(state_data)
    counts = _counter(data.get("counts"), "counts", integer=True)
    predictor.forget(user_id)
    predictor.users_[user_id] = state
    predictor.user_counts_[user_id] = dict(counts)
    for command, n in counts.items():
        predictor.popular_.add(command, float(n))
    return True


def delete_user_state(*, session: Session, user_id: str) -> int:
    """Erase every stored model state of ``user_id``; returns rows deleted."""
    rows = session.exec(select(UserModelState).where(UserModelState.user_id == user_id)).all()
    for row in rows:
        session.delete(row)
    session.commit()
    return len(rows)
