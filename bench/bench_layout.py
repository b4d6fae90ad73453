"""How long one layout decision takes (it runs on every page load and task completion).

    .venv/bin/python bench/bench_layout.py [--decisions 2000]

Prints per-decision latency (median and p95, microseconds) for the demo registry's regions
and for a 300-item region, chained so each decision starts from the previous layout as it
does in production, with and without explanation sentences.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace

from tqdm import tqdm

from app.registry import demo_registry
from personalization.layout.decide import Layout, decide_region_layout
from personalization.profile import UserProfile, pin, record_use
from personalization.registry import ApplyOn, Region, RegionKind, RegionPolicy
from personalization.types import Prediction


def _bench(region: Region, decisions: int, *, explain: bool, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    members = list(region.policy.default_order)
    profile = pin(UserProfile("bench"), region=region.id, command=members[-1])
    for t in range(200):
        profile = record_use(profile, command=rng.choice(members), at=float(t))
    streams = []
    for _ in range(decisions):
        picks = rng.sample(members, min(10, len(members)))
        probs = sorted((rng.random() for _ in picks), reverse=True)
        total = sum(probs) or 1.0
        streams.append(
            [Prediction(c, p / total, "SEQUENCE") for c, p in zip(picks, probs, strict=True)]
        )
    previous: Layout | None = None
    times: list[float] = []
    for n, predictions in enumerate(tqdm(streams, file=sys.stderr, desc=region.id, leave=False)):
        start = time.perf_counter()
        previous = decide_region_layout(
            region=region,
            predictions=predictions,
            profile=profile,
            previous=previous,
            update_counter=n,
            moment=ApplyOn.EVERY_EVENT,
            explain=explain,
        )
        times.append(time.perf_counter() - start)
    times.sort()
    return {
        "median_us": statistics.median(times) * 1e6,
        "p95_us": times[int(0.95 * (len(times) - 1))] * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=2000)
    args = parser.parse_args()
    reg = demo_registry()
    regions = [
        replace(r, policy=replace(r.policy, apply_on=(ApplyOn.EVERY_EVENT,))) for r in reg.regions
    ]
    big_order = tuple(f"cmd{i}" for i in range(300))
    regions.append(
        Region(
            id="big-300",
            kind=RegionKind.PALETTE,
            slots=300,
            policy=RegionPolicy(
                default_order=big_order,
                visible=12,
                suggested_slots=4,
                max_moves=2,
                hide_unused_after_days=30,
                apply_on=(ApplyOn.EVERY_EVENT,),
            ),
        )
    )
    print(f"{'region':<10} {'items':>5} {'explain':>7} {'median µs':>10} {'p95 µs':>8}")
    for region in regions:
        for explain in (True, False):
            r = _bench(region, args.decisions, explain=explain)
            print(
                f"{region.id:<10} {len(region.policy.default_order):>5} {str(explain):>7} "
                f"{r['median_us']:>10.0f} {r['p95_us']:>8.0f}"
            )


if __name__ == "__main__":
    main()
