"""Background retraining: progress, atomic swap into a live predictor, schedule, errors."""

from __future__ import annotations

import threading
import time

import pytest

from personalization.predict import LearnedPredictor, PopulationModel
from personalization.training import PopulationTrainer
from personalization.types import Event


def _crowd(n: int, pattern: str) -> list[list[Event]]:
    return [[Event(f"u{i}", c) for c in pattern.split() * 6] for i in range(n)]


def test_retrain_now_swaps_a_trained_population_into_the_live_predictor() -> None:
    predictor = LearnedPredictor()
    seen: list[tuple[PopulationModel, object]] = []
    progress: list[float] = []
    trainer = PopulationTrainer(
        load_sequences=lambda: _crowd(12, "open edit save"),
        predictor=predictor,
        every=1,
        on_swap=lambda pop, scorer: seen.append((pop, scorer)),
    )
    try:
        future = trainer.retrain_now()
        while not future.done():
            progress.append(trainer.progress)
            time.sleep(0.001)
        population, scorer = future.result(timeout=60)
    finally:
        trainer.stop()
    assert trainer.progress == 1.0 and not trainer.running
    assert all(0.0 <= p <= 1.0 for p in progress)
    assert trainer.runs == 1 and trainer.last_error is None
    assert seen == [(population, scorer)]
    assert predictor.population is population and predictor.scorer is scorer
    assert population.users_ == 12
    # a brand-new user is now carried by the population prior
    predictor.partial_fit(Event("newcomer", "edit"))
    assert predictor.rank("newcomer", k=1)[0].command == "save"


def test_requests_are_served_while_training_runs() -> None:
    release = threading.Event()

    def slow_loader():
        release.wait(timeout=30)
        return _crowd(8, "a b c")

    predictor = LearnedPredictor().fit([Event("me", "x"), Event("me", "y"), Event("me", "x")])
    trainer = PopulationTrainer(load_sequences=slow_loader, predictor=predictor, every=1)
    try:
        future = trainer.retrain_now()
        assert trainer.running
        # a second request for a run joins the one in progress
        assert trainer.retrain_now() is future
        # the live model answers from the old parts meanwhile
        assert predictor.rank("me", k=1)[0].command == "y"
        assert trainer.progress < 1.0
        release.set()
        future.result(timeout=60)
    finally:
        release.set()
        trainer.stop()
    assert predictor.population is not None and predictor.population.users_ == 8


def test_failed_run_keeps_the_old_model_and_records_the_error() -> None:
    predictor = LearnedPredictor()

    def broken():
        raise OSError("database is gone")

    trainer = PopulationTrainer(load_sequences=broken, predictor=predictor)
    try:
        with pytest.raises(OSError, match="database is gone"):
            trainer.retrain_now().result(timeout=30)
    finally:
        trainer.stop()
    assert isinstance(trainer.last_error, OSError)
    assert predictor.population is None and trainer.runs == 0


def test_schedule_retrains_repeatedly_until_stopped() -> None:
    runs = threading.Semaphore(0)

    def loader():
        runs.release()
        return _crowd(5, "a b")

    trainer = PopulationTrainer(load_sequences=loader, every=1)
    with pytest.raises(ValueError, match="interval_s must be positive"):
        trainer.start_schedule(0)
    trainer.start_schedule(0.05)
    try:
        for _ in range(2):
            assert runs.acquire(timeout=30)
    finally:
        trainer.stop()
    assert trainer.runs >= 1
    assert trainer.current is not None
