"""Replay real usage logs through a region and compare layout policies on the same replay.

For every event, in order: was the command the person used next already in the visible
slots (and at which 1-based position), then learn it, then re-decide the layout and count
how many items moved (an item moved when its visible slot changed or it entered/left the
visible slots). Policies:

* ``static``: the designer order; a log has none, so the order of first use;
* ``frecency``: commands by exponentially decayed use (half-life 50 events), re-sorted after
  every event, as browsers rank URLs;
* ``adaptive``: :func:`personalization.layout.decide.decide_region_layout` driven by the learned
  model, with a stable frequency zone and a small suggested zone (split menu).

Each user is replayed alone with a fresh model, so results do not depend on how users are
split over worker processes. Usage::

    python -m personalization.simulate --dataset schonlau --slots 8 [--users N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from personalization.layout.decide import Layout, count_moves, decide_region_layout
from personalization.predict import frecency as frecency_weights
from personalization.predict.base import RankedCounter
from personalization.predict.progressive import score_then_learn
from personalization.profile import Level, UserProfile, record_use
from personalization.registry import ApplyOn, Region, RegionKind, RegionPolicy
from personalization.types import Event, Prediction

POLICIES = ("static", "frecency", "adaptive")
PredictorFactory = Callable[[], Any]


@dataclass(frozen=True, slots=True)
class AdaptiveConfig:
    """The adaptive policy's knobs for a replay (the region policy it builds)."""

    suggested_slots: int = 3
    min_confidence: float = 0.2
    hysteresis: float = 0.25
    max_moves: int = 2  # one swap: a suggestion in, the weakest out
    k: int = 10  # predictions asked for per event
    suggested_first: bool = True  # split menu: the suggested zone on top

    def policy(self, order: tuple[str, ...], slots: int) -> RegionPolicy:
        return RegionPolicy(
            default_order=order,
            visible=slots,
            suggested_slots=min(self.suggested_slots, slots),
            min_confidence=self.min_confidence,
            hysteresis=self.hysteresis,
            max_moves=self.max_moves,
            apply_on=(ApplyOn.EVERY_EVENT,),
            suggested_first=self.suggested_first,
        )


@dataclass(slots=True)
class Tally:
    """Running counts for one policy; merged across users before turning into rates."""

    events: int = 0
    found: int = 0
    position_sum: int = 0
    moves: int = 0

    def see(self, command: str, visible: Sequence[str | None]) -> None:
        self.events += 1
        for i, c in enumerate(visible):
            if c == command:
                self.found += 1
                self.position_sum += i + 1
                return

    def add(self, other: Tally) -> None:
        self.events += other.events
        self.found += other.found
        self.position_sum += other.position_sum
        self.moves += other.moves

    def summary(self) -> dict[str, float]:
        return {
            "found_in_slots": self.found / self.events if self.events else 0.0,
            "mean_position": self.position_sum / self.found if self.found else 0.0,
            "churn_per_100": 100.0 * self.moves / self.events if self.events else 0.0,
            "events": self.events,
        }


@dataclass(slots=True)
class UserResult:
    user_id: str
    tallies: dict[str, Tally] = field(default_factory=lambda: {p: Tally() for p in POLICIES})


class _Policy:
    """One policy's visible slots and its tally: scores an event against what is on screen,
    and counts the moves when the slots are re-decided."""

    def __init__(self, tally: Tally, slots: int) -> None:
        self.tally = tally
        self.slots = slots
        self.visible: list[str | None] = [None] * slots

    def show(self, visible: Sequence[str | None]) -> None:
        after = (list(visible) + [None] * self.slots)[: self.slots]
        self.tally.moves += count_moves(self.visible, after)
        self.visible = after


def replay_user(
    user_id: str,
    commands: Sequence[str],
    *,
    slots: int,
    predictor_factory: PredictorFactory,
    config: AdaptiveConfig = AdaptiveConfig(),
) -> UserResult:
    """Replay one person's commands through all three policies: each event is scored
    against the slots shown before it, then learned, then every policy re-decides."""
    result = UserResult(user_id)
    static, frecency, adaptive = (_Policy(result.tallies[p], slots) for p in POLICIES)
    predictor = predictor_factory()
    first_use: list[str] = []
    seen: set[str] = set()
    frec = RankedCounter(cap=max(32, slots))
    frec_weight = 1.0
    step = frecency_weights.growth()
    profile = UserProfile(user_id=user_id, level=Level.FULL)
    region: Region | None = None
    layout: Layout | None = None
    t = 0

    def score(command: str) -> None:
        for policy in (static, frecency, adaptive):
            policy.tally.see(command, policy.visible)

    def learn(command: str) -> None:
        nonlocal frec_weight, profile, region, layout, t
        predictor.partial_fit(Event(user_id=user_id, command=command))
        frec_weight = frecency_weights.add_use(frec, frec_weight, command, step)
        profile = record_use(profile, command=command, at=float(t))
        if command not in seen:
            seen.add(command)
            first_use.append(command)
            order = tuple(first_use)
            region = Region(
                id="sim", kind=RegionKind.TOOLBAR, slots=max(slots, len(order)),
                policy=config.policy(order, slots),
            )  # fmt: skip
        assert region is not None
        static.show(first_use[:slots])
        frecency.show(frec.top(slots))
        predictions: list[Prediction] = predictor.rank(user_id, k=config.k)
        layout = decide_region_layout(
            region=region,
            predictions=predictions,
            profile=profile,
            previous=layout,
            update_counter=t,
            moment=ApplyOn.EVERY_EVENT,
            explain=False,
        )
        adaptive.show(layout.assignment())
        t += 1

    score_then_learn(commands, score=score, learn=learn, first=0)
    return result


# --------------------------------------------------------------------------- datasets


def load_dataset(dataset: str, users: int | None) -> Iterator[tuple[str, list[str]]]:
    """``schonlau`` (first 5,000 commands per user) or a CSV/JSONL log path."""
    from personalization.evaluation import datasets

    if dataset == "schonlau":
        for user, events in datasets.schonlau(users=users):
            yield user, [e.command for e in events]
        return
    path = Path(dataset)
    if not path.is_file():
        raise SystemExit(f"--dataset: {dataset!r} is neither 'schonlau' nor an existing file")
    grouped = datasets.group_by_user(datasets.iter_log(path))
    for n, (user, events) in enumerate(grouped.items()):
        if users is not None and n >= users:
            return
        yield user, [e.command for e in events if e.kind == "invoke"]


def predictor_factory(model: str) -> PredictorFactory:
    """``default`` is the project's learned model; any other name is a baseline."""
    from personalization import predict

    if model == "default":
        factory = getattr(predict, "default_predictor", None)
        if factory is None:
            raise SystemExit("personalization.predict.default_predictor is not available")
        return factory
    if model not in predict.BASELINES:
        names = ", ".join(["default", *sorted(predict.BASELINES)])
        raise SystemExit(f"--model: unknown model {model!r}; choose one of {names}")
    return predict.BASELINES[model]


class _Job:
    """Picklable per-user work item for the process pool."""

    def __init__(self, slots: int, model: str, config: AdaptiveConfig) -> None:
        self.slots, self.model, self.config = slots, model, config

    def __call__(self, item: tuple[str, list[str]]) -> UserResult:
        user, commands = item
        return replay_user(
            user,
            commands,
            slots=self.slots,
            predictor_factory=predictor_factory(self.model),
            config=self.config,
        )


def simulate(
    logs: Sequence[tuple[str, list[str]]],
    *,
    slots: int,
    model: str = "default",
    config: AdaptiveConfig = AdaptiveConfig(),
    workers: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Replay every user and merge the tallies into the JSON report's ``policies``."""
    job = _Job(slots, model, config)
    total = {p: Tally() for p in POLICIES}
    bar = tqdm(total=sum(len(c) for _, c in logs), unit="ev", disable=not progress, file=sys.stderr)
    if workers > 1 and len(logs) > 1:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers) as pool:
            results: Iterator[UserResult] = pool.imap_unordered(job, logs)
            for res in results:
                _merge(total, res, bar)
    else:
        for item in logs:
            _merge(total, job(item), bar)
    bar.close()
    return {p: total[p].summary() for p in POLICIES}


def _merge(total: dict[str, Tally], res: UserResult, bar: tqdm) -> None:
    for p in POLICIES:
        total[p].add(res.tallies[p])
    bar.update(res.tallies["static"].events)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m personalization.simulate", description=__doc__)
    parser.add_argument("--dataset", required=True, help="'schonlau' or a CSV/JSONL log path")
    parser.add_argument("--slots", type=int, default=8, help="visible slots in the region")
    parser.add_argument("--users", type=int, default=None, help="only the first N users")
    parser.add_argument("--json", dest="json_out", default=None, help="write the report here")
    parser.add_argument("--model", default="default", help="'default' or a baseline name")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    d = AdaptiveConfig()
    parser.add_argument("--suggested", type=int, default=d.suggested_slots)
    parser.add_argument("--min-confidence", type=float, default=d.min_confidence)
    parser.add_argument("--hysteresis", type=float, default=d.hysteresis)
    parser.add_argument("--max-moves", type=int, default=d.max_moves)
    args = parser.parse_args(argv)
    if args.slots < 1:
        parser.error("--slots: must be >= 1")
    if args.users is not None and args.users < 1:
        parser.error("--users: must be >= 1")
    config = AdaptiveConfig(
        suggested_slots=args.suggested,
        min_confidence=args.min_confidence,
        hysteresis=args.hysteresis,
        max_moves=args.max_moves,
    )
    logs = list(load_dataset(args.dataset, args.users))
    if not logs:
        raise SystemExit(f"--dataset: no events in {args.dataset!r}")
    policies = simulate(
        logs, slots=args.slots, model=args.model, config=config, workers=args.workers
    )
    report = {
        "dataset": args.dataset,
        "slots": args.slots,
        "users": len(logs),
        "events": sum(len(c) for _, c in logs),
        "model": args.model,
        "adaptive_config": asdict(config),
        "policies": policies,
    }
    text = json.dumps(report, indent=2)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    print(text)
    for name, row in policies.items():
        if any(math.isnan(v) for v in row.values()):
            raise SystemExit(f"policy {name}: NaN in results")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
