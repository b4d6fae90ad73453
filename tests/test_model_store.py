"""Model persistence: JSON round trips on real SQLite files, and tampering is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session

from personalization.predict import LearnedPredictor, PopulationModel
from personalization.predict.learned import train_scorer
from personalization.store.db import make_engine
from personalization.store.models import (
    KEEP_VERSIONS,
    ModelFormatError,
    PopulationArtifact,
    latest_version,
    load_population,
    load_population_file,
    publish_population,
    save_population_file,
)
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
    from personalization.store.models import KIND_POPULATION, dumps

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


def test_population_versions_publish_and_compare_and_set(tmp_path: Path, parts) -> None:
    population, scorer = parts
    engine = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    info = {"through_seq": 40, "erasure_mark": 0, "events": 120}
    with Session(engine) as session:
        assert latest_version(session=session) == 0
        assert load_population(session=session) is None
        v1 = publish_population(session=session, population=population, scorer=scorer, **info)
        assert v1 == 1
        # a publisher that started from version 0 lost the race: it must re-read and retry
        stale = publish_population(
            session=session, population=population, scorer=scorer, base_version=0, **info
        )
        assert stale is None
        v2 = publish_population(
            session=session, population=population, scorer=scorer, base_version=1, **info
        )
        assert v2 == 2
    with Session(engine) as session:
        loaded = load_population(session=session)
        assert loaded is not None and loaded.version == 2
        assert loaded.population.counts_ == population.counts_
        assert (loaded.through_seq, loaded.erasure_mark, loaded.events) == (40, 0, 120)
        assert load_population(session=session, version=1).version == 1
    with Session(engine) as session:
        for _ in range(KEEP_VERSIONS + 2):
            publish_population(session=session, population=population, scorer=scorer, **info)
        kept = session.exec(__import__("sqlmodel").select(PopulationArtifact)).all()
        assert len(kept) == KEEP_VERSIONS  # old versions are pruned
        assert latest_version(session=session) == KEEP_VERSIONS + 4


def test_tampered_population_row_is_rejected(tmp_path: Path, parts) -> None:
    population, scorer = parts
    engine = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    info = {"through_seq": 1, "erasure_mark": 0, "events": 1}
    with Session(engine) as session:
        publish_population(session=session, population=population, scorer=scorer, **info)
        row = session.get(PopulationArtifact, 1)
        row.payload = row.payload.replace("open", "oPen")
        session.add(row)
        session.commit()
    with Session(engine) as session, pytest.raises(ModelFormatError, match="digest"):
        load_population(session=session)
