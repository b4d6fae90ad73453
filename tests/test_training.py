"""Retraining from the real log: streamed, published as a version every worker serves, once
per cluster (leases), and never publishing a model that may hold an erased person."""

from __future__ import annotations

import threading

import pytest

from personalization.engine.personalizer import Personalizer
from personalization.predict.training import PopulationTrainer, _rank, main
from personalization.store import leases
from personalization.types import EventKind


def _fill(engine: Personalizer, n: int, pattern: str, *, prefix: str = "u") -> None:
    batches = {
        f"{prefix}{i}": [
            {"client_event_id": f"{prefix}{i}-{j}", "command": c}
            for j, c in enumerate(pattern.split() * 6)
        ]
        for i in range(n)
    }
    engine.record_many(batches)


@pytest.fixture
def engine(tmp_path):
    eng = Personalizer(url=f"sqlite:///{tmp_path / 'train.db'}", control_percent=0)
    yield eng
    eng.close()


def test_retrain_publishes_a_version_that_carries_new_people(engine) -> None:
    _fill(engine, 12, "open edit save")
    assert engine.population_version == 0
    progress: list[float] = []
    future = engine.retrain_population()
    while not future.done():
        progress.append(engine.trainer.progress)
    population, _scorer = future.result(timeout=120)
    assert engine.trainer.progress == 1.0 and not engine.trainer.running
    assert all(0.0 <= p <= 1.0 for p in progress)
    assert engine.trainer.runs == 1 and engine.trainer.last_error is None
    assert engine.population_version == 1 and engine.trainer.published is True
    assert population.users_ == 12
    # a brand-new person is now carried by the population prior, in this worker and in a
    # second one that only reads what was published
    engine.record_command("newcomer", "edit")
    assert engine.predictions("newcomer", k=1)[0].command == "save"
    other = Personalizer(url=str(engine.engine.url), control_percent=0)
    assert other.population_version == 1
    assert other.predictions("newcomer", k=3) == engine.predictions("newcomer", k=3)


def test_training_samples_a_bounded_number_of_people(engine) -> None:
    _fill(engine, 30, "a b c")
    trainer = PopulationTrainer(store=engine.store, train_users=5, every=1)
    population, _scorer, info = trainer.train()
    trainer.stop()
    assert population.users_ == 30  # everyone is counted...
    assert info["through_seq"] == engine.store.max_seq()
    assert info["events"] == 30 * 18
    # ...but the scorer trains on five people only, the same five on every run
    expected = sorted((f"u{i}" for i in range(30)), key=_rank)[:5]
    assert sorted(trainer.sampled) == sorted(expected)


def test_a_failed_run_keeps_the_old_model_and_records_the_error(engine) -> None:
    # too little data to train a scorer: the run fails, nothing is published
    engine.record_command("solo", "x")
    with pytest.raises(ValueError, match="not enough events"):
        engine.retrain_population().result(timeout=60)
    assert isinstance(engine.trainer.last_error, ValueError)
    assert engine.population_version == 0 and engine.trainer.runs == 0


def test_an_erasure_during_training_drops_the_run(engine, monkeypatch) -> None:
    _fill(engine, 10, "open edit save")
    started, release = threading.Event(), threading.Event()
    real = engine.store.iter_sequences

    def slow(**kwargs):
        for item in real(**kwargs):
            started.set()
            release.wait(timeout=30)
            yield item

    monkeypatch.setattr(engine.store, "iter_sequences", slow)
    future = engine.retrain_population()
    assert started.wait(timeout=30)
    engine.erase_user("u3")  # its events may already be in the counts being built
    release.set()
    future.result(timeout=120)
    assert engine.trainer.published is False
    assert engine.population_version == 0


def test_erasure_subtracts_the_person_from_the_published_version(engine) -> None:
    _fill(engine, 10, "open edit save")
    engine.retrain_population().result(timeout=120)
    before = engine._artifact.population  # noqa: SLF001
    assert before.users_ == 10
    engine.erase_user("u4")
    after = engine._artifact.population  # noqa: SLF001
    assert engine.population_version == 2
    assert after.users_ == 9
    assert after.totals_[""] == before.totals_[""] - 18
    # exactly what training on everyone but u4 counts
    fresh, _scorer, _info = engine.trainer.train()
    assert fresh.counts_ == after.counts_


def test_the_retrain_job_runs_once_per_cluster(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    workers = [Personalizer(url=url, control_percent=0) for _ in range(3)]
    _fill(workers[0], 12, "open edit save")
    try:
        for w in workers:
            w.start_jobs(retrain_every_s=3600, retention_every_s=0)
        deadline = threading.Event()
        for _ in range(600):
            if sum(w.trainer.runs for w in workers) >= 1:
                break
            deadline.wait(0.1)
        deadline.wait(1.0)  # give the others their chance to (wrongly) run too
        assert sum(w.trainer.runs for w in workers) == 1
        holder = next(w for w in workers if w.trainer.runs == 1)
        assert not leases.acquire(workers[0].engine, "retrain", "someone-else", 60)
        assert leases.acquire(holder.engine, "retrain", holder.worker, 60)
    finally:
        for w in workers:
            w.close()


def test_the_training_command_publishes_for_every_worker(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    eng = Personalizer(url=url, control_percent=0)
    _fill(eng, 12, "open edit save")
    assert main(["--db", url]) == 0
    assert "published population version 1" in capsys.readouterr().out
    eng.sync(force=True)
    assert eng.population_version == 1
    assert eng.store.count() == 12 * 18
    assert all(e.kind is EventKind.INVOKE for e in eng.store.iter_events())
    eng.close()
