"""Retrain the population part in the background, on demand, on a schedule, or as a job.

Requests must never wait for training: a single worker thread streams everyone's events
from the log (one person at a time, in arrival order, so memory holds one person and the
counts, never the log), counts the population prior, trains the scorer on a bounded sample
of people, and hands the pair to ``on_trained``, which publishes it as a new artifact
version that every worker then serves. A failed run keeps the old model and records the
error. Per-user state is untouched.

Run once per cluster: the facade's job loop takes a lease first, and ``python -m
personalization.training`` runs one retraining from the command line (cron, a Kubernetes
job) against ``ADAPTIVE_DB_URL``.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tqdm import tqdm

from personalization.predict.learned import Scorer, train_scorer
from personalization.predict.population import PopulationModel
from personalization.store import counters
from personalization.store.event_store import EventStore
from personalization.types import CommandMeta, Event, EventKind

DEFAULT_TRAIN_USERS = 200
MAX_TRAIN_EVENTS = 5_000  # per sampled person (their latest), bounds the scorer's memory

Publish = Callable[..., bool]


def _rank(user_id: str) -> bytes:
    """A stable pseudo-random rank: the same people are sampled whatever the log's order."""
    return hashlib.blake2b(user_id.encode(), digest_size=8).digest()


class PopulationTrainer:
    """Owns the population model's retraining for one engine.

    ``on_trained(population, scorer, through_seq=, erasure_mark=, events=)`` publishes a
    finished run and returns whether it was published."""

    def __init__(
        self,
        *,
        store: EventStore,
        commands: Sequence[CommandMeta] = (),
        train_users: int = DEFAULT_TRAIN_USERS,
        every: int = 4,
        on_trained: Publish | None = None,
    ) -> None:
        self.store = store
        self.commands = tuple(commands)
        self.train_users = train_users
        self.every = every
        self.on_trained = on_trained
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="population")
        self._lock = threading.Lock()
        self._future: Future[tuple[PopulationModel, Scorer] | None] | None = None
        self._progress = 0.0
        self.last_error: BaseException | None = None
        self.runs = 0
        self.finished_at: float | None = None
        self.published: bool | None = None
        self.sampled: list[str] = []  # who the last run trained the scorer on

    @property
    def progress(self) -> float:
        """0..1 for the run in progress (1.0 when idle after a run)."""
        return self._progress

    @property
    def running(self) -> bool:
        future = self._future
        return future is not None and not future.done()

    def retrain_now(self) -> Future[tuple[PopulationModel, Scorer] | None]:
        """Start a run unless one is already going; returns that run's future either way."""
        with self._lock:
            if self._future is not None and not self._future.done():
                return self._future
            self._progress = 0.0
            self._future = self._executor.submit(self._run)
            return self._future

    def stop(self, *, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def _run(self) -> tuple[PopulationModel, Scorer] | None:
        try:
            result = self.train(progress=self._report)
            population, scorer, info = result
            self.published = (
                self.on_trained(population, scorer, **info) if self.on_trained else None
            )
            self.last_error = None
            self.runs += 1
            self.finished_at = time.time()
            return population, scorer
        except BaseException as exc:
            self.last_error = exc
            raise
        finally:
            self._progress = 1.0

    def _report(self, fraction: float) -> None:
        self._progress = fraction

    def train(
        self, *, progress: Callable[[float], None] | None = None
    ) -> tuple[PopulationModel, Scorer, dict[str, Any]]:
        """One full retraining from the log as it is now; returns the model and what it
        includes (``through_seq``, ``erasure_mark``, ``events``) for publishing."""
        with self.store.engine.connect() as conn:
            mark = int(counters.value(conn, counters.ERASURES))
        through = self.store.max_seq()
        total = max(1, self.store.count())
        population = PopulationModel()
        sample: list[tuple[bytes, int, str, list[Event]]] = []  # max-heap by rank (inverted)
        seen = 0
        for n, (user, events) in enumerate(self.store.iter_sequences(through_seq=through)):
            invocations = [e for e in events if e.kind is EventKind.INVOKE]
            if not invocations:
                continue
            population.add_user(invocations)
            seen += len(events)
            key = bytes(255 - b for b in _rank(user))  # heapq is a min-heap: keep the smallest
            item = (key, n, user, invocations[-MAX_TRAIN_EVENTS:])
            if len(sample) < self.train_users:
                heapq.heappush(sample, item)
            elif key > sample[0][0]:
                heapq.heapreplace(sample, item)
            if progress is not None:
                progress(0.3 * min(1.0, seen / total))
        population.precompute()
        picked = sorted(sample, key=lambda t: t[1])
        self.sampled = [user for _k, _n, user, _e in picked]
        chosen = [events for _k, _n, _u, events in picked]
        events_total = sum(population.counts_.get("", {}).values())

        def report(fraction: float) -> None:
            if progress is not None:
                progress(0.3 + 0.69 * fraction)

        scorer = train_scorer(
            chosen,
            population=population,
            commands=self.commands,
            every=self.every,
            progress=report,
            total=len(chosen),
        )
        info = {"through_seq": through, "erasure_mark": mark, "events": events_total}
        return population, scorer, info


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m personalization.training``: retrain once and publish for every worker."""
    parser = argparse.ArgumentParser(prog="python -m personalization.training")
    parser.add_argument("--db", default=None, help="database URL (default: ADAPTIVE_DB_URL)")
    args = parser.parse_args(argv)
    from personalization.engine.personalizer import (
        Personalizer,  # the facade publishes the artifact
    )

    engine = Personalizer(url=args.db)
    bar = tqdm(total=100, desc="retrain", unit="%", file=sys.stderr)
    done = 0

    def show(fraction: float) -> None:
        nonlocal done
        step = int(fraction * 100) - done
        if step > 0:
            bar.update(step)
            done += step

    try:
        population, scorer, info = engine.trainer.train(progress=show)
    except ValueError as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bar.close()
    published = engine._publish_trained(population, scorer, **info)  # noqa: SLF001
    if not published:
        print("not published: a person was erased while training read the log; run again")
        return 1
    print(f"published population version {engine.population_version} ({info['events']} events)")
    engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
