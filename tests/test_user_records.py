"""A person's model as a stored record: exact round trips, bounded size, refused tampering,
and the engine's persisted path predicting exactly what the in-memory learner predicts on
real users (so the evaluation numbers describe what is served)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from personalization.engine.personalizer import Personalizer
from personalization.predict import LearnedPredictor
from personalization.predict.features import MAX_CONTEXTS, UserState
from personalization.store import user_records
from personalization.store.models import ModelFormatError, UserModelState
from personalization.store.user_records import UserRecord, dump_record, load_record
from personalization.types import Context


def _ranks(predictions):
    return [(p.command, p.probability, p.reason) for p in predictions]


def _learned(events) -> UserRecord:
    record = UserRecord(user_id="u1", epoch="e1")
    for i, ev in enumerate(events, start=1):
        record.state.learn(ev.command, ev.context)
        record.usage.record(ev.command, float(i))
        record.seq = i
    return record


def test_round_trip_is_exact_on_a_real_user(schonlau_users) -> None:
    _uid, events = schonlau_users[0]
    record = _learned(events[:3000])
    again = load_record(dump_record(record), user_id="u1")
    model = LearnedPredictor()
    for ctx in (None, Context(route="/r")):
        assert _ranks(model.rank_state(again.state, ctx, 40)) == _ranks(
            model.rank_state(record.state, ctx, 40)
        )
    # and both keep learning identically after the reload
    for ev in events[3000:3200]:
        for r in (record, again):
            r.state.learn(ev.command, ev.context)
        assert _ranks(model.rank_state(again.state, None, 10)) == _ranks(
            model.rank_state(record.state, None, 10)
        )
    assert (again.seq, again.epoch, again.usage.counts) == (3000, "e1", record.usage.counts)


def test_state_stays_bounded_however_long_the_history(schonlau_users) -> None:
    state = UserState()
    for _uid, events in schonlau_users[:3]:
        for ev in events:
            state.learn(ev.command, ev.context)
    assert state.clock == 15_000
    assert len(state.contexts) <= MAX_CONTEXTS
    # session and task ids never become keys of a person's model
    state.learn("ls", Context(session_id="s-123", task_id="t-9", route="/files"))
    assert not any("session_id" in k or "task_id" in k for k in state.context_counts)
    assert "route=/files" in state.context_counts


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('"seq":50', '"seq":49', 1), "digest"),
        (lambda t: "garbage\n" + t.partition("\n")[2], "unknown format"),
        (lambda t: t.partition("\n")[0], "unknown format"),
    ],
)
def test_a_changed_record_is_refused(schonlau_users, change, message) -> None:
    text = dump_record(_learned(schonlau_users[0][1][:50]))
    with pytest.raises(ModelFormatError, match=message):
        load_record(change(text), user_id="u1")


def test_a_record_names_its_owner() -> None:
    text = dump_record(UserRecord(user_id="u1"))
    with pytest.raises(ModelFormatError, match="user_id"):
        load_record(text, user_id="u2")


def test_an_older_checkpoint_never_overwrites_a_newer_one(tmp_path, schonlau_users) -> None:
    engine = Personalizer(url=f"sqlite:///{tmp_path / 'r.db'}").engine
    events = schonlau_users[0][1]
    newer, older = _learned(events[:20]), _learned(events[:10])
    with engine.begin() as conn:
        user_records.store(conn, [newer], now=1.0)
        user_records.store(conn, [older], now=2.0)  # a slow worker, late
        assert user_records.fetch(conn, ["u1"])["u1"][1] == 20
        # a new epoch (reset, retention) always wins, whatever its seq
        fresh = UserRecord(user_id="u1", epoch="e2", seq=3)
        user_records.store(conn, [fresh], now=3.0)
        assert user_records.fetch(conn, ["u1"])["u1"][:2] == ("e2", 3)


@pytest.mark.parametrize("trained", [False, True], ids=["no-prior", "with-prior"])
def test_served_predictions_equal_the_in_memory_learner(tmp_path, schonlau_users, trained):
    """Three real users interleaved; a cache of one person, so almost every request loads a
    checkpoint and replays a tail, and checkpoints land every few events."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    if trained:
        crowd = Personalizer(url=url, control_percent=0)
        crowd.record_many(
            {
                f"crowd{n}": [
                    {"client_event_id": f"c{n}-{i}", "command": ev.command}
                    for i, ev in enumerate(events[:600])
                ]
                for n, (_u, events) in enumerate(schonlau_users[5:15])
            }
        )
        crowd.retrain_population().result(timeout=300)
        crowd.close()
    engine = Personalizer(url=url, control_percent=0, cache_users=1)
    population = engine._artifact.population if trained else None  # noqa: SLF001
    assert (population is not None) == trained
    memory = LearnedPredictor(
        commands=engine.registry.command_meta(), population=population, scorer=engine._scorer
    )
    users = schonlau_users[:3]
    stream = [
        (f"real{n}", ev)
        for step in itertools.zip_longest(*[events[:500] for _u, events in users])
        for n, ev in enumerate(step)
        if ev is not None
    ]
    checked = 0
    for i, (user, ev) in enumerate(stream):
        engine.record_command(user, ev.command, client_event_id=f"e{i}")
        memory.partial_fit(type(ev)(user, ev.command))
        if i % 7 == 0 or i > len(stream) - 10:
            assert _ranks(engine.predictions(user, k=10)) == _ranks(memory.rank(user, None, 10))
            checked += 1
    assert checked > 200
    with engine.engine.connect() as conn:
        stored = conn.execute(select(UserModelState.__table__.c.user_id)).scalars().all()
    assert {"real0", "real1", "real2"} <= set(stored)  # checkpoints were really used
