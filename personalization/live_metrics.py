"""What the insights page plots, measured live and honestly: every prediction is scored
before the event it predicts is learned (progressive validation), so the live hit@k is the
number a person actually experienced, not a training score.

Kept in memory and small (counters and fixed bins); rebuilt on start-up by replaying the
stored log through the same code path.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from personalization.types import Prediction

KS = (1, 3, 5)
BINS = 10
EXPERIENCED_AFTER = 50  # events; below this a user counts as "new"


@dataclass
class HitCounter:
    """hit@k and MRR@10 over a stream of (predictions, actual) pairs."""

    n: int = 0
    hits: Counter[int] = field(default_factory=Counter)
    rr: float = 0.0

    def update(self, ranked: Sequence[str], actual: str) -> int | None:
        self.n += 1
        rank = ranked.index(actual) + 1 if actual in ranked else None
        if rank is not None:
            for k in KS:
                if rank <= k:
                    self.hits[k] += 1
            if rank <= 10:
                self.rr += 1.0 / rank
        return rank

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"predictions": self.n}
        for k in KS:
            out[f"hit@{k}"] = self.hits[k] / self.n if self.n else None
        out["mrr@10"] = self.rr / self.n if self.n else None
        return out


@dataclass
class Calibration:
    """Reliability of the top-1 probability: per bin, mean predicted vs observed hit rate."""

    count: list[int] = field(default_factory=lambda: [0] * BINS)
    prob_sum: list[float] = field(default_factory=lambda: [0.0] * BINS)
    hit_sum: list[int] = field(default_factory=lambda: [0] * BINS)
    brier_sum: float = 0.0

    def update(self, probability: float, hit: bool) -> None:
        b = min(BINS - 1, int(probability * BINS))
        self.count[b] += 1
        self.prob_sum[b] += probability
        self.hit_sum[b] += int(hit)
        self.brier_sum += (probability - float(hit)) ** 2

    def to_dict(self) -> dict[str, Any]:
        n = sum(self.count)
        bins = [
            {
                "predicted": self.prob_sum[b] / c,
                "observed": self.hit_sum[b] / c,
                "count": c,
            }
            for b, c in enumerate(self.count)
            if c
        ]
        ece = sum(abs(x["predicted"] - x["observed"]) * x["count"] for x in bins) / n if n else None
        return {"bins": bins, "brier": self.brier_sum / n if n else None, "ece": ece}


class LiveMetrics:
    """All live counters behind ``Personalizer.live_metrics()``."""

    def __init__(self) -> None:
        self.overall = HitCounter()
        self.segments: dict[str, HitCounter] = defaultdict(HitCounter)
        self.calibration = Calibration()
        self.moves: Counter[str] = Counter()  # region -> items moved
        self.updates: Counter[str] = Counter()  # region -> layout updates
        self.panels: Counter[str] = Counter()  # event kind -> count
        # found-in-visible-slots by group: adaptive users vs the control group
        self.found: dict[str, list[int]] = {"adaptive": [0, 0], "control": [0, 0]}

    def prediction(
        self, predictions: Sequence[Prediction], actual: str, *, events_before: int
    ) -> None:
        ranked = [p.command for p in predictions]
        rank = self.overall.update(ranked, actual)
        segment = "experienced" if events_before >= EXPERIENCED_AFTER else "new"
        self.segments[segment].update(ranked, actual)
        if predictions:
            self.calibration.update(predictions[0].probability, rank == 1)

    def layout_update(self, region: str, moves: int) -> None:
        self.updates[region] += 1
        self.moves[region] += moves

    def visible_check(self, *, control: bool, found: bool) -> None:
        slot = self.found["control" if control else "adaptive"]
        slot[0] += int(found)
        slot[1] += 1

    def panel_event(self, kind: str) -> None:
        self.panels[kind] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "segments": {name: c.to_dict() for name, c in sorted(self.segments.items())},
            "calibration": self.calibration.to_dict(),
            "churn": {
                region: {
                    "updates": self.updates[region],
                    "moves": self.moves[region],
                    "moves_per_update": self.moves[region] / self.updates[region],
                }
                for region in sorted(self.updates)
            },
            "panels": dict(sorted(self.panels.items())),
            "found_in_slots": {
                group: {"found": f, "events": n, "rate": f / n if n else None}
                for group, (f, n) in self.found.items()
            },
        }
