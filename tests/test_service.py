"""The engine facade against real databases (SQLite, and PostgreSQL + Redis): what every
host relies on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.registry import demo_registry
from personalization.engine.personalizer import Personalizer
from personalization.profile import Level
from personalization.registry import RegistryError
from tests.support.clock import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(backend, clock) -> Personalizer:
    """Every test runs on embedded SQLite and on PostgreSQL + Redis."""
    eng = Personalizer(
        url=backend.db_url,
        redis_url=backend.redis_url,
        registry=demo_registry(),
        clock=clock,
        control_percent=0,
        metrics_sample=1.0,
    )
    yield eng
    eng.close()


def _use(engine: Personalizer, user: str, commands: list[str], clock: Clock) -> None:
    for command in commands:
        result = engine.record_command(user, command, region="toolbar")
        assert result.accepted == 1, result.to_dict()
        clock.advance(5)


def _default_visible(engine: Personalizer, region: str) -> tuple[str, ...]:
    return engine.layout("nobody-yet", region, commit=False).visible


def _overflowed(engine: Personalizer, region: str) -> str:
    """A command of ``region`` that the designer default does not show."""
    layout = engine.layout("nobody-yet", region, commit=False)
    return layout.overflow[0]


def test_usage_adapts_the_toolbar_suggested_zone(engine, clock):
    default = _default_visible(engine, "toolbar")
    target = _overflowed(engine, "toolbar")
    _use(engine, "alice", [target, "save"] * 15, clock)
    layout = engine.layout("alice", "toolbar")
    assert target in layout.visible
    item = layout.item(target)
    assert item is not None and item.visible and item.sentence
    # Bob's layout is his own: Alice's usage does not leak into his toolbar.
    assert engine.layout("bob", "toolbar").visible == default


def test_erase_returns_designer_default_and_removes_everything(engine, clock):
    default = _default_visible(engine, "toolbar")
    target = _overflowed(engine, "toolbar")
    _use(engine, "alice", [target, "save"] * 15, clock)
    engine.pin("alice", region="toolbar", command=target)
    assert engine.layout("alice", "toolbar").visible != default
    deleted = engine.erase_user("alice")
    assert deleted["usage_event"] >= 30
    assert engine.store.count("alice") == 0
    assert engine.export_user("alice")["tables"]["usage_event"] == []
    assert engine.layout("alice", "toolbar").visible == default
    assert all(p.command != target or p.probability < 0.5 for p in engine.predictions("alice"))


def test_opted_out_user_is_not_recorded(engine, clock):
    engine.set_recording("carol", False)
    result = engine.record_command("carol", "save", region="toolbar")
    assert result.accepted == 0 and result.rejected == 1
    assert result.rejections[0].field == "user_id"
    assert engine.store.count("carol") == 0


def test_batch_rejects_events_for_another_user_but_keeps_the_rest(engine):
    batch = [
        {"client_event_id": "e1", "command": "save"},
        {"client_event_id": "e2", "command": "save", "user_id": "mallory"},
        {"client_event_id": "e3", "command": "bad command with spaces"},
        {"client_event_id": "e4", "command": "undo"},
    ]
    result = engine.record("alice", batch)
    assert result.codes == ["accepted", "rejected", "rejected", "accepted"]
    assert [r.field for r in result.rejections] == ["user_id", "command"]
    assert engine.store.count("mallory") == 0
    again = engine.record("alice", batch)
    assert again.codes == ["duplicate", "rejected", "rejected", "duplicate"]
    assert engine.store.count("alice") == 2


def test_reset_forgets_learning_but_keeps_history(engine, backend, clock):
    default = _default_visible(engine, "toolbar")
    target = _overflowed(engine, "toolbar")
    _use(engine, "alice", [target, "save"] * 15, clock)
    engine.reset("alice")
    assert engine.store.count("alice") == 30
    assert engine.layout("alice", "toolbar").visible == default
    # A restart replays the log but honours the reset.
    clock.advance(10)
    again = Personalizer(
        url=backend.db_url, redis_url=backend.redis_url, clock=clock, control_percent=0
    )
    assert again.layout("alice", "toolbar").visible == default
    again.close()


def test_level_off_and_control_group_get_designer_default(tmp_path, clock):
    eng = Personalizer(
        url=f"sqlite:///{tmp_path / 'c.db'}",
        registry=demo_registry(),
        clock=clock,
        control_percent=50,
    )
    users = [f"user{i}" for i in range(40)]
    control = [u for u in users if eng.in_control_group(u)]
    assert 0 < len(control) < len(users)
    assert control == [u for u in users if eng.in_control_group(u)]  # stable
    default = eng.layout("nobody-yet", "toolbar", commit=False).visible
    target = _overflowed(eng, "toolbar")
    _use(eng, control[0], [target, "save"] * 15, clock)
    assert eng.layout(control[0], "toolbar").visible == default
    treated = next(u for u in users if not eng.in_control_group(u))
    _use(eng, treated, [target, "save"] * 15, clock)
    eng.set_level(treated, Level.OFF)
    assert eng.layout(treated, "toolbar").visible == default


def test_task_panel_runs_to_completion_and_is_recorded(engine, clock):
    task = engine.registry.tasks[0]
    assert task.trigger.command
    engine.record_command("alice", task.trigger.command, region="toolbar", session_id="s1")
    views = engine.panels("alice", session_id="s1")
    assert [(v.task_id, v.state) for v in views] == [(task.id, "open")]
    for command in task.completion:
        clock.advance(2)
        engine.record_command("alice", command, region="toolbar", session_id="s1")
    done = engine.panels("alice", session_id="s1")
    assert [v.state for v in done] == ["completed"]
    assert done[0].progress == 1.0
    kinds = [e.kind.value for e in engine.store.iter_events(user_id="alice")]
    assert "panel_completed" in kinds
    assert engine.live_metrics()["panels"]["panel_completed"] == 1


def test_dismissal_is_recorded_as_feedback(engine):
    task = engine.registry.tasks[0]
    engine.record_command("alice", task.trigger.command, region="toolbar")
    views = engine.panel_action("alice", task.id, "dismiss")
    assert views == []
    assert engine.profile("alice").dismissals == {task.id: 1}
    with pytest.raises(ValueError, match="action must be one of"):
        engine.panel_action("alice", task.id, "explode")


def test_registry_changes_are_versioned_and_validated(engine):
    before = engine.registry.version
    data = demo_registry().to_dict()
    data["regions"][0]["policy"]["max_moves"] = -1
    with pytest.raises(RegistryError, match="max_moves"):
        engine.save_registry(data)
    assert engine.registry.version == before
    data["regions"][0]["policy"]["max_moves"] = 1
    version = engine.save_registry(data, note="fewer moves")
    assert version > before and engine.registry.version == version
    assert engine.registry.regions[0].policy.max_moves == 1


def test_live_metrics_and_usage_series(engine, clock):
    _use(engine, "alice", ["save", "undo"] * 10, clock)
    metrics = engine.live_metrics()
    assert metrics["overall"]["predictions"] == 20
    assert metrics["overall"]["hit@1"] > 0.5  # an alternating pair is easy to learn
    series = engine.usage_series()
    assert {(r["command"], r["count"]) for r in series} == {("save", 10), ("undo", 10)}


def test_palette_reaches_hidden_commands_and_says_why(engine):
    engine.layout("alice", "toolbar")
    engine.hide("alice", region="toolbar", command="bold")
    engine.layout("alice", "toolbar")
    assert "bold" not in engine.layout("alice", "toolbar").visible
    entries = {e.command: e for e in engine.palette("alice", "bold")}
    assert entries["bold"].hidden and entries["bold"].reason == "USER_HIDDEN"
    assert entries["bold"].sentence
    assert len(engine.palette("alice", "")) == len(engine.registry.commands)


def test_adaptive_vs_control_counts_survive_a_restart(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'f.db'}"
    eng = Personalizer(url=url, registry=demo_registry(), clock=clock, control_percent=0)
    eng.layout("alice", "toolbar")
    shown = eng.layout("alice", "toolbar").visible
    _use(eng, "alice", [shown[0], "find"], clock)  # 'find' is not on the default toolbar
    assert eng.live_metrics()["found_in_slots"]["adaptive"] == {
        "found": 1,
        "events": 2,
        "rate": 0.5,
    }
    eng.flush_metrics()
    again = Personalizer(url=url, clock=clock, control_percent=0)
    assert again.live_metrics()["found_in_slots"]["adaptive"]["events"] == 2


def test_iso_and_millisecond_client_times_are_learned(engine):
    batch = [
        {"client_event_id": "iso", "command": "save", "client_time": "2027-01-15T10:00:00Z"},
        {"client_event_id": "ms", "command": "undo", "client_time": 1_800_000_000_000},
    ]
    assert engine.record("alice", batch).codes == ["accepted", "accepted"]
    assert engine.profile("alice").last_used["undo"] == 1_800_000_000.0
    expected = datetime(2027, 1, 15, 10, tzinfo=UTC).timestamp()
    assert engine.profile("alice").last_used["save"] == expected


def test_designer_protected_commands_cannot_be_hidden(engine):
    from personalization.profile import ControlError

    pinned = engine.registry.region("toolbar").policy.pinned[0]
    with pytest.raises(ControlError, match="designer keeps it"):
        engine.hide("alice", region="toolbar", command=pinned)
    assert pinned in engine.layout("alice", "toolbar").visible


def _population(eng: Personalizer, clock: Clock) -> None:
    habits = [["crop", "resize", "save"], ["bold", "italic", "save"], ["find", "replace"]]
    for i in range(6):
        _use(eng, f"u{i}", habits[i % 3] * 12, clock)


def test_population_retrains_in_background_and_survives_restart(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'pop.db'}"
    eng = Personalizer(url=url, registry=demo_registry(), clock=clock, control_percent=0)
    _population(eng, clock)
    assert eng.training_status()["runs"] == 0
    eng.retrain_population().result(timeout=120)
    status = eng.training_status()
    assert status["runs"] == 1 and status["progress"] == 1.0 and status["error"] is None
    # A newcomer who just cropped gets the population's habit (resize next), with an honest
    # probability: too few events to replace the shipped scorer, so it is kept.
    eng.record_command("newcomer", "crop", region="toolbar")
    top = eng.predictions("newcomer", k=1)[0]
    assert top.command == "resize" and top.probability < 0.9
    again = Personalizer(url=url, clock=clock, control_percent=0)
    assert again._scorer is not None  # the trained scorer was stored safely and reloaded
    eng.trainer.stop()
    again.trainer.stop()


def test_erasure_removes_the_person_from_the_population_prior(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'erase.db'}"
    eng = Personalizer(url=url, registry=demo_registry(), clock=clock, control_percent=0)
    _population(eng, clock)
    _use(eng, "unusual", ["rotate", "flip"] * 30, clock)
    eng.retrain_population().result(timeout=120)
    eng.record_command("newcomer", "rotate", region="toolbar")
    learned = eng.predictions("newcomer", k=1)[0]
    assert learned.command == "flip"
    eng.erase_user("unusual")
    eng.erase_user("newcomer")
    eng.record_command("newcomer2", "rotate", region="toolbar")
    flip = {p.command: p for p in eng.predictions("newcomer2", k=40)}.get("flip")
    # Only the catalogue's similarity (same group as rotate) can still suggest it, weakly.
    assert flip is None or flip.probability < learned.probability / 2
    eng.trainer.stop()


def _retrain_in_child(parent_id: int, queue) -> None:
    from personalization.engine.personalizer import get_personalizer

    engine = get_personalizer()
    engine.retrain_population().result(timeout=120)
    queue.put((id(engine) != parent_id, engine.training_status()["runs"]))


def test_a_forked_worker_gets_its_own_engine_with_a_working_trainer(tmp_path, monkeypatch):
    """Reflex forks backend workers after building pages: an engine inherited through the
    fork has no training thread, so the worker must build its own."""
    import multiprocessing

    from personalization.engine.personalizer import get_personalizer, set_personalizer

    monkeypatch.setenv("ADAPTIVE_DB_URL", f"sqlite:///{tmp_path / 'fork.db'}")
    monkeypatch.setenv("ADAPTIVE_RETRAIN_INTERVAL_S", "0")
    set_personalizer(None)
    parent = get_personalizer()
    clock = Clock()
    parent.clock = clock
    _population(parent, clock)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_retrain_in_child, args=(id(parent), queue))
    child.start()
    fresh, runs = queue.get(timeout=180)
    child.join(timeout=60)
    assert child.exitcode == 0 and fresh and runs == 1
    assert get_personalizer() is parent  # the parent keeps its own
    parent.trainer.stop()
    set_personalizer(None)


def test_workers_follow_the_newest_registry_and_never_write_an_old_one_back(backend, clock):
    """Worker A starts from code's registry; a designer saves a newer version through worker
    B; a worker restarted from the same (now older) code must not write it back, and A
    picks the new version up on its next sync."""
    code = demo_registry()
    a = Personalizer(url=backend.db_url, redis_url=backend.redis_url, registry=code, clock=clock)
    b = Personalizer(url=backend.db_url, redis_url=backend.redis_url, clock=clock)
    first = a.registry.version
    assert b.registry.version == first
    edited = code.to_dict()
    edited["name"] = code.name + " (designer edit)"
    newer = b.save_registry(edited, note="designer")
    assert newer == first + 1
    restarted = Personalizer(
        url=backend.db_url, redis_url=backend.redis_url, registry=code, clock=clock
    )
    assert restarted.registry.version == newer  # the old content was not saved again
    assert [v.version for v in restarted.registry_history()] == [first, newer]
    a.sync(force=True)
    assert a.registry.version == newer and a.registry.name.endswith("(designer edit)")
    for eng in (a, b, restarted):
        eng.close()


def test_a_new_persons_first_batch_offers_a_task_from_what_it_taught(engine, clock):
    """Offers by probability after a batch come from the model that learned the batch, also
    for someone the engine has never seen (whose record is created by that very batch)."""
    commands = ["save", "export_pdf"] * 12 + ["save"]
    events = [
        {"client_event_id": f"b{i}", "command": c, "client_time": clock() + i}
        for i, c in enumerate(commands)
    ]
    result = engine.record_many({"erin": events})["erin"]
    assert result.accepted == len(commands)
    top = engine.predictions("erin")[0]
    assert top.command == "export_pdf" and top.probability >= 0.5
    offered = [p.task_id for p in engine.panels("erin")]
    assert "export" in offered, offered
