"""Retrain the population part in the background, on demand or on a schedule.

Requests must never wait for training: a single worker thread rebuilds the population
counts and the scorer from a fresh snapshot of everyone's events, reports progress (0..1)
as it goes, and only then swaps the new pair into the live predictor in one assignment.
A failed run keeps the old model and records the error. Per-user state is untouched:
each user's own history keeps overriding the prior exactly as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from personalization.predict.learned import LearnedPredictor, Scorer, train_scorer
from personalization.predict.population import PopulationModel
from personalization.types import CommandMeta, Event

SequenceLoader = Callable[[], Iterable[Sequence[Event]]]
DEFAULT_TRAIN_USERS = 200


class PopulationTrainer:
    """Owns the population model's lifecycle for one live ``LearnedPredictor``.

    ``load_sequences`` returns every user's events (each in time order); it runs on the
    worker thread, so it may read the database. ``on_swap`` is called with the new
    (population, scorer) after each successful swap, e.g. to persist it.
    """

    def __init__(
        self,
        *,
        load_sequences: SequenceLoader,
        predictor: LearnedPredictor | None = None,
        commands: Sequence[CommandMeta] = (),
        train_users: int = DEFAULT_TRAIN_USERS,
        every: int = 4,
        on_swap: Callable[[PopulationModel, Scorer], None] | None = None,
    ) -> None:
        self.load_sequences = load_sequences
        self.predictor = predictor
        self.commands = tuple(commands)
        self.train_users = train_users
        self.every = every
        self.on_swap = on_swap
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="population")
        self._lock = threading.Lock()
        self._future: Future[tuple[PopulationModel, Scorer]] | None = None
        self._progress = 0.0
        self._stop = threading.Event()
        self._schedule: threading.Thread | None = None
        self.current: tuple[PopulationModel, Scorer] | None = None
        self.last_error: BaseException | None = None
        self.runs = 0
        self.finished_at: float | None = None

    @property
    def progress(self) -> float:
        """0..1 for the run in progress (1.0 when idle after a run)."""
        return self._progress

    @property
    def running(self) -> bool:
        future = self._future
        return future is not None and not future.done()

    def retrain_now(self) -> Future[tuple[PopulationModel, Scorer]]:
        """Start a run unless one is already going; returns that run's future either way."""
        with self._lock:
            if self._future is not None and not self._future.done():
                return self._future
            self._progress = 0.0
            self._future = self._executor.submit(self._run)
            return self._future

    def start_schedule(self, interval_s: float) -> None:
        """Retrain now and then every ``interval_s`` seconds until ``stop()``."""
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        if self._schedule is not None and self._schedule.is_alive():
            raise RuntimeError("a schedule is already running")
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                self.retrain_now()
                self._stop.wait(interval_s)

        self._schedule = threading.Thread(target=loop, name="population-schedule", daemon=True)
        self._schedule.start()

    def stop(self, *, wait: bool = True) -> None:
        """End the schedule and the worker (waiting for a run in progress if ``wait``)."""
        self._stop.set()
        if self._schedule is not None:
            self._schedule.join()
            self._schedule = None
        self._executor.shutdown(wait=wait, cancel_futures=True)

    # -- the worker ---------------------------------------------------------------------------
    def _run(self) -> tuple[PopulationModel, Scorer]:
        try:
            sequences = [list(events) for events in self.load_sequences()]
            sequences = [events for events in sequences if events]
            population = PopulationModel()
            for i, events in enumerate(sequences, start=1):
                population.add_user(events)
                self._progress = 0.3 * i / len(sequences)
            population.precompute()
            step = max(1, len(sequences) // self.train_users)
            chosen = sequences[::step][: self.train_users]

            def report(fraction: float) -> None:
                self._progress = 0.3 + 0.69 * fraction

            scorer = train_scorer(
                chosen,
                population=population,
                commands=self.commands,
                every=self.every,
                progress=report,
                total=len(chosen),
            )
            if self.predictor is not None:
                self.predictor.set_population(population, scorer)
            self.current = (population, scorer)
            if self.on_swap is not None:
                self.on_swap(population, scorer)
            self.last_error = None
            self.runs += 1
            self.finished_at = time.time()
            return population, scorer
        except BaseException as exc:
            self.last_error = exc
            raise
        finally:
            self._progress = 1.0
