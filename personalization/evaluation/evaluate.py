"""Replay real logs and score every predictor the same way (a stable CLI; scripts use it).

    python -m personalization.evaluate --dataset schonlau|msnbc|PATH.csv [--users N]
        [--json OUT] [--folds 5] [--workers 2]

Progressive validation: each user's events are replayed in time order and, before each
event is learned, every method ranks the whole vocabulary; the user's first event is not
scored (nothing to predict from), so Schonlau's 50 x 5,000 commands give 249,950
predictions. Baselines see only the user's own events, as in the datasets README.

No leakage for the learned model: users are split into ``--folds`` folds (user i goes to
fold i mod folds). For a user in fold f, the population counts AND the scorer come from the
other folds only; the scorer is trained on a few of those users' replays with each one's
own events subtracted from the population while it is replayed. So nothing used to predict
user u ever saw u's events.

``--json`` writes ``{"dataset", "predictions", "model", "methods": {name: {"hit@1",
"hit@3", "hit@5", "mrr@10", "rank_us_p50", "rank_us_p99", "brier", "ece"}}}`` plus
``"folds"`` and ``"users"``. ``brier``/``ece`` judge the top-1 probability.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from personalization.evaluation.datasets import (
    LogFormatError,
    group_by_user,
    iter_log,
    msnbc,
    schonlau,
)
from personalization.evaluation.metrics import PredictionScore, percentile
from personalization.predict import BASELINES, LearnedPredictor
from personalization.predict.learned import DEFAULT_SCORER, Scorer, train_scorer
from personalization.predict.population import PopulationModel
from personalization.predict.progressive import score_then_learn
from personalization.types import Event

LEARNED = LearnedPredictor.name
DEFAULT_MSNBC_USERS = 20000
TRAIN_USERS_PER_FOLD = 6
TRAIN_EVERY = 8
TRAIN_POINTS = 1000

Sequences = list[tuple[str, list[Event]]]


@dataclass
class MethodResult(PredictionScore):
    """One method's scores plus how long each ``rank`` took."""

    latencies_us: list[float] = field(default_factory=list)

    def merge(self, other: PredictionScore) -> None:
        super().merge(other)
        if isinstance(other, MethodResult):
            self.latencies_us.extend(other.latencies_us)

    def summary(self) -> dict[str, float]:
        return {
            "hit@1": self.ranks.hit(1),
            "hit@3": self.ranks.hit(3),
            "hit@5": self.ranks.hit(5),
            "mrr@10": self.ranks.mrr(),
            "rank_us_p50": percentile(self.latencies_us, 50),
            "rank_us_p99": percentile(self.latencies_us, 99),
            "brier": self.calibration.brier(),
            "ece": self.calibration.ece(),
        }


def load_dataset(name: str, users: int | None = None) -> Sequences:
    """``schonlau``, ``msnbc`` or a path to a CSV / JSON Lines log (first ``users`` users)."""
    if name == "schonlau":
        return list(schonlau(users=users))
    if name == "msnbc":
        return list(msnbc(limit_users=users if users is not None else DEFAULT_MSNBC_USERS))
    path = Path(name)
    if not path.is_file():
        raise SystemExit(f"--dataset: {name!r} is not schonlau, msnbc or an existing log file")
    grouped = group_by_user(iter_log(path))
    items = list(grouped.items())
    return items[:users] if users is not None else items


def replay_user(user: str, events: Sequence[Event], model: Any, result: MethodResult) -> None:
    """Score, then learn, over one user's events with one method."""
    clock = time.perf_counter
    latencies = result.latencies_us

    def score(ev: Event) -> None:
        start = clock()
        preds = model.rank(user, ev.context, 10)
        latencies.append((clock() - start) * 1e6)
        result.score(preds, ev.command)

    score_then_learn(events, score=score, learn=model.partial_fit)


# -- work shared with forked workers (set before the pool starts) -----------------------------
_DATA: Sequences = []
_POPULATIONS: list[PopulationModel | None] = []
_FOLDS = 1


def _train_fold(fold: int) -> dict[str, Any]:
    others = [i for i in range(len(_DATA)) if i % _FOLDS != fold]
    step = max(1, len(others) // TRAIN_USERS_PER_FOLD)
    chosen = [_DATA[i][1] for i in others[::step][:TRAIN_USERS_PER_FOLD]]
    if len(others) > TRAIN_USERS_PER_FOLD * 50:
        # many short users (web logs): sample more of them so enough points are seen
        chosen = [_DATA[i][1] for i in others[:: max(1, len(others) // 2000)]]
    every = TRAIN_EVERY if sum(len(evs) for evs in chosen) > 20 * TRAIN_POINTS else 1
    try:
        scorer = train_scorer(chosen, population=_POPULATIONS[fold], every=every)
    except ValueError:  # too little data in the other folds: use the shipped scorer
        scorer = DEFAULT_SCORER
    return scorer.to_dict()


def _evaluate_user(task: tuple[int, dict[str, Any] | None, tuple[str, ...]]) -> dict[str, Any]:
    index, scorer_data, methods = task
    user, events = _DATA[index]
    results: dict[str, MethodResult] = {}
    for name in methods:
        if name == LEARNED:
            scorer = Scorer.from_dict(scorer_data)
            model: Any = LearnedPredictor(population=_POPULATIONS[index % _FOLDS], scorer=scorer)
        else:
            model = BASELINES[name]()
        result = results[name] = MethodResult()
        replay_user(user, events, model, result)
    return {"results": results}


def evaluate(
    data: Sequences,
    *,
    folds: int = 5,
    workers: int = 1,
    methods: Sequence[str] | None = None,
    progress: bool = True,
) -> tuple[int, dict[str, MethodResult]]:
    """Replay every user with every method; returns (predictions, results by method)."""
    global _DATA, _POPULATIONS, _FOLDS
    methods = tuple(methods) if methods is not None else (*BASELINES, LEARNED)
    unknown = [m for m in methods if m != LEARNED and m not in BASELINES]
    if unknown:
        raise ValueError(f"unknown method(s): {', '.join(unknown)}")
    if not data:
        raise ValueError("the dataset has no users")
    folds = max(1, min(folds, len(data)))
    _DATA, _FOLDS = data, folds
    _POPULATIONS = []
    scorers: list[dict[str, Any] | None] = [None] * folds
    single = folds < 2  # one user: no one else to learn a prior from, use the shipped scorer
    if single:
        _POPULATIONS.append(None)
        scorers = [DEFAULT_SCORER.to_dict()]
    elif LEARNED in methods:
        for fold in tqdm(range(folds), desc="population", file=sys.stderr, disable=not progress):
            pop = PopulationModel().fit(evs for i, (_, evs) in enumerate(data) if i % folds != fold)
            _POPULATIONS.append(pop)
    # park the loaded data in the permanent GC generation: full collections then skip it,
    # which keeps collector pauses out of the measured rank latencies
    gc.collect()
    gc.freeze()
    pool = None
    if workers > 1:
        pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        mapper = pool.imap if pool is not None else map
        if LEARNED in methods and not single:
            trained = tqdm(
                mapper(_train_fold, range(folds)),
                total=folds,
                desc="train scorer",
                file=sys.stderr,
                disable=not progress,
            )
            scorers = list(trained)
        tasks = [(i, scorers[i % folds], methods) for i in range(len(data))]
        mapper = pool.imap_unordered if pool is not None else map
        total: dict[str, MethodResult] = {name: MethodResult() for name in methods}
        bar = tqdm(total=sum(max(0, len(evs) - 1) for _, evs in data), desc="replay",
                   unit="ev", file=sys.stderr, disable=not progress)  # fmt: skip
        for out in mapper(_evaluate_user, tasks, **({"chunksize": 1} if pool else {})):
            for name, result in out["results"].items():
                total[name].merge(result)
            bar.update(out["results"][methods[0]].ranks.count)
        bar.close()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        gc.unfreeze()
    predictions = total[methods[0]].ranks.count
    return predictions, total


def report(dataset: str, predictions: int, results: dict[str, MethodResult]) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "predictions": predictions,
        "model": LEARNED,
        "methods": {name: result.summary() for name, result in results.items()},
    }


def format_table(data: dict[str, Any]) -> str:
    cols = ("hit@1", "hit@3", "hit@5", "mrr@10", "brier", "ece", "rank_us_p50", "rank_us_p99")
    lines = [
        f"{data['dataset']}: {data['predictions']} predictions",
        f"{'method':16s} " + " ".join(f"{c:>11s}" for c in cols),
    ]
    for name, row in data["methods"].items():
        lines.append(f"{name:16s} " + " ".join(f"{row[c]:11.3f}" for c in cols))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m personalization.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dataset", required=True, help="schonlau, msnbc, or a CSV/JSONL path")
    parser.add_argument("--users", type=int, default=None, help="only the first N users")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--folds", type=int, default=5, help="user folds for the prior")
    parser.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes"
    )
    parser.add_argument("--methods", nargs="+", default=None, help="subset of methods")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.users is not None and args.users < 1:
        parser.error("--users must be at least 1")
    try:
        data = load_dataset(args.dataset, args.users)
    except (LogFormatError, FileNotFoundError, UnicodeDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not data:
        print(f"error: {args.dataset} has no events", file=sys.stderr)
        return 2
    started = time.perf_counter()
    predictions, results = evaluate(
        data, folds=args.folds, workers=args.workers, methods=args.methods, progress=not args.quiet
    )
    out = report(args.dataset, predictions, results)
    out["folds"] = min(args.folds, len(data))
    out["users"] = len(data)
    out["seconds"] = round(time.perf_counter() - started, 2)
    print(format_table(out))
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
