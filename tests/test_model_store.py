"""Model persistence: JSON round trips on real SQLite files, and tampering is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session

from personalization.db import make_engine
from personalization.model_store import (
    ModelFormatError,
    PopulationModelRecord,
    UserModelState,
    delete_user_state,
    load_population,
    load_population_file,
    load_user_state,
    save_population,
    save_population_file,
    save_user_state,
)
from personalization.predict import LearnedPredictor, PopulationModel
from personalization.predict.learned import train_scorer
from personalization.types import Context, Event

CROWD = [
    [Event(f"p{i}", c, context=Context(route="/r")) for c in ["open", "edit", "save", "close"] * 5]
    for i in range(6)
]


@pytest.fixture(scope="module")
def parts():
    population = PopulationModel().fit(CROWD)
    scorer = train_scorer(CROWD, population=population, every=1)
    return population, scorer


def _ranks(model: LearnedPredictor, user: str) -> list[tuple[str, float, str]]:
    return [(p.command, p.probability, p.reason) for p in model.rank(user, Context(route="/r"))]


def test_population_file_round_trip(tmp_path: Path, parts) -> None:
    population, scorer = parts
    path = tmp_path / "population.json"
    save_population_file(path=path, population=population, scorer=scorer)
    loaded_pop, loaded_scorer = load_population_file(path=path)
    assert loaded_pop.counts_ == population.counts_
    assert loaded_scorer.to_dict() == scorer.to_dict()
    a = LearnedPredictor(population=population, scorer=scorer).fit(CROWD[0][:7])
    b = LearnedPredictor(population=loaded_pop, scorer=loaded_scorer).fit(CROWD[0][:7])
    assert _ranks(a, "p0") == _ranks(b, "p0")


def _tamper(path: Path, edit) -> None:
    envelope = json.loads(path.read_text())
    edit(envelope)
    path.write_text(json.dumps(envelope))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e: e.update(body=e["body"].replace('"open"', '"rm -rf"')), "digest"),
        (lambda e: e.update(kind="user_state"), "field 'kind'"),
        (lambda e: e.update(format="pickle"), "field 'format'"),
        (lambda e: e.update(version=99), "field 'version'"),
        (lambda e: e.pop("digest"), "'digest' must be strings"),
    ],
)
def test_tampered_population_file_is_rejected(tmp_path: Path, parts, edit, message) -> None:
    population, scorer = parts
    path = tmp_path / "population.json"
    save_population_file(path=path, population=population, scorer=scorer)
    _tamper(path, edit)
    with pytest.raises(ModelFormatError, match=message):
        load_population_file(path=path)


def test_malformed_content_with_valid_digest_is_rejected(tmp_path: Path, parts) -> None:
    from personalization.model_store import KIND_POPULATION, dumps

    population, scorer = parts
    bad = {"population": population.to_dict(), "scorer": scorer.to_dict()}
    bad["scorer"]["weights"] = ["__import__('os')"] * len(scorer.weights)
    path = tmp_path / "population.json"
    path.write_text(dumps(KIND_POPULATION, bad))
    with pytest.raises(ModelFormatError, match="'weights' must be a list of finite numbers"):
        load_population_file(path=path)
    bad = {"population": population.to_dict(), "scorer": scorer.to_dict()}
    bad["population"]["counts"][""]["open"] = -3
    path.write_text(dumps(KIND_POPULATION, bad))
    with pytest.raises(ModelFormatError, match="must be a positive int"):
        load_population_file(path=path)


def test_not_json_and_pickle_bytes_are_rejected(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "population.json"
    path.write_bytes(pickle.dumps({"format": "adaptive-model"}))
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        load_population_file(path=path)


def test_hmac_key_must_match(tmp_path: Path, parts) -> None:
    population, scorer = parts
    path = tmp_path / "population.json"
    save_population_file(path=path, population=population, scorer=scorer, key=b"secret")
    assert load_population_file(path=path, key=b"secret")[0].counts_ == population.counts_
    with pytest.raises(ModelFormatError, match="digest"):
        load_population_file(path=path, key=b"other")
    with pytest.raises(ModelFormatError, match="digest"):
        load_population_file(path=path)


def test_population_table_round_trip(tmp_path: Path, parts) -> None:
    population, scorer = parts
    engine = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    with Session(engine) as session:
        assert load_population(session=session) is None
        save_population(session=session, population=population, scorer=scorer)
        save_population(session=session, population=population, scorer=scorer)  # replace
    with Session(engine) as session:
        loaded = load_population(session=session)
        assert loaded is not None and loaded[0].counts_ == population.counts_
        assert len(session.exec(__import__("sqlmodel").select(PopulationModelRecord)).all()) == 1


def test_user_state_round_trip_and_erasure(tmp_path: Path, parts) -> None:
    population, scorer = parts
    assert UserModelState.__user_data__ is True
    engine = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    live = LearnedPredictor(population=population, scorer=scorer)
    events = [
        Event("ann", c, context=Context(route="/r" if i % 2 else "/s"))
        for i, c in enumerate(["open", "edit", "save", "open", "edit", "close", "open", "edit"])
    ]
    live.fit(events)
    with Session(engine) as session:
        assert save_user_state(session=session, predictor=live, user_id="ann")
        assert not save_user_state(session=session, predictor=live, user_id="nobody")
    restored = LearnedPredictor(population=population, scorer=scorer)
    with Session(engine) as session:
        assert load_user_state(session=session, predictor=restored, user_id="ann")
    assert _ranks(restored, "ann") == _ranks(live, "ann")
    # both keep learning identically after the restore
    for model in (live, restored):
        model.partial_fit(Event("ann", "save", context=Context(route="/r")))
    assert _ranks(restored, "ann") == _ranks(live, "ann")
    with Session(engine) as session:
        assert delete_user_state(session=session, user_id="ann") == 1
        assert not load_user_state(session=session, predictor=restored, user_id="ann")


def test_tampered_user_state_row_is_rejected(tmp_path: Path, parts) -> None:
    population, scorer = parts
    engine = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    live = LearnedPredictor(population=population, scorer=scorer).fit(CROWD[0][:5])
    with Session(engine) as session:
        save_user_state(session=session, predictor=live, user_id="p0")
        row = session.get(UserModelState, ("p0", live.name))
        row.payload = row.payload.replace("open", "oPen")
        session.add(row)
        session.commit()
    with Session(engine) as session, pytest.raises(ModelFormatError, match="digest"):
        load_user_state(session=session, predictor=live, user_id="p0")
