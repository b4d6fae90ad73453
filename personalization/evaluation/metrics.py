"""Online ranking and calibration metrics, river-style: ``update()`` one prediction at a time.

Accuracy alone cannot gate adaptation: the layout acts only when the top guess is
confident, so the top-1 probability must mean what it says. ``Calibration`` reports the
Brier score and expected calibration error (ECE) of that probability beside hit@k.

The offline evaluation and the engine's live metrics both score with ``PredictionScore``,
so "hit@1" means the same on the insights page as in the benchmark tables. The live side
keeps its sums as named counters shared by workers (``counters()``/``from_counters()``),
since a database adds increments where objects would overwrite each other.

>>> m = RankMetrics()
>>> m.update(1); m.update(3); m.update(None)
>>> round(m.hit(1), 3), round(m.hit(3), 3), round(m.mrr(), 3)
(0.333, 0.667, 0.444)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from personalization.types import Prediction

MRR_CUTOFF = 10


@dataclass
class RankMetrics:
    """hit@k and MRR@10 from the 1-based rank of the true command (``None`` = not in the
    top 10 or not predicted at all)."""

    count: int = 0
    hits_at: list[int] = field(default_factory=lambda: [0] * (MRR_CUTOFF + 1))
    reciprocal_sum: float = 0.0

    def update(self, rank: int | None) -> None:
        self.count += 1
        if rank is None or rank > MRR_CUTOFF:
            return
        if rank < 1:
            raise ValueError(f"rank must be >= 1, got {rank}")
        self.hits_at[rank] += 1
        self.reciprocal_sum += 1.0 / rank

    def hit(self, k: int) -> float:
        """Share of predictions whose true command was among the first ``k``."""
        if not 1 <= k <= MRR_CUTOFF:
            raise ValueError(f"k must be in 1..{MRR_CUTOFF}, got {k}")
        return sum(self.hits_at[1 : k + 1]) / self.count if self.count else 0.0

    def mrr(self) -> float:
        """Mean reciprocal rank, counting ranks past 10 as 0."""
        return self.reciprocal_sum / self.count if self.count else 0.0

    def merge(self, other: RankMetrics) -> None:
        self.count += other.count
        self.hits_at = [a + b for a, b in zip(self.hits_at, other.hits_at, strict=True)]
        self.reciprocal_sum += other.reciprocal_sum

    def counters(self, ks: Sequence[int]) -> dict[str, float]:
        """The sums as named counters: ``n``, ``h<k>`` (hits within the first k) for each k
        in ``ks``, and ``rr`` (the reciprocal-rank sum)."""
        out = {"n": float(self.count)}
        for k in ks:
            out[f"h{k}"] = float(sum(self.hits_at[1 : k + 1]))
        out["rr"] = self.reciprocal_sum
        return out

    @classmethod
    def from_counters(cls, totals: Mapping[str, float], ks: Sequence[int]) -> RankMetrics:
        """Back from ``counters(ks)`` totals (missing names are 0). Only ``hit(k)`` for k in
        ``ks`` and ``mrr()`` are known from them; other k are not."""
        out = cls(count=int(totals.get("n", 0)), reciprocal_sum=totals.get("rr", 0.0))
        below = 0
        for k in sorted(ks):
            within = int(totals.get(f"h{k}", 0))
            out.hits_at[k] = within - below
            below = within
        return out


@dataclass
class Calibration:
    """Brier score and ECE of a probability against what happened (1 = it was right).

    ECE uses ``bins`` equal-width bins: the count-weighted mean |accuracy - confidence|.

    >>> c = Calibration()
    >>> c.update(0.8, True); c.update(0.8, False)
    >>> round(c.brier(), 3), round(c.ece(), 3)
    (0.34, 0.3)
    """

    bins: int = 10
    count: int = 0
    squared_error: float = 0.0
    bin_count: list[int] = field(default_factory=list)
    bin_confidence: list[float] = field(default_factory=list)
    bin_correct: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.bin_count:
            self.bin_count = [0] * self.bins
            self.bin_confidence = [0.0] * self.bins
            self.bin_correct = [0] * self.bins

    def update(self, probability: float, correct: bool) -> None:
        if not (0.0 <= probability <= 1.0) or math.isnan(probability):
            raise ValueError(f"probability must be in [0, 1], got {probability}")
        outcome = 1.0 if correct else 0.0
        self.count += 1
        self.squared_error += (probability - outcome) ** 2
        b = min(int(probability * self.bins), self.bins - 1)
        self.bin_count[b] += 1
        self.bin_confidence[b] += probability
        self.bin_correct[b] += int(correct)

    def brier(self) -> float:
        return self.squared_error / self.count if self.count else 0.0

    def ece(self) -> float:
        if not self.count:
            return 0.0
        gap = 0.0
        for n, conf, correct in zip(
            self.bin_count, self.bin_confidence, self.bin_correct, strict=True
        ):
            if n:
                gap += abs(correct - conf)
        return gap / self.count

    def merge(self, other: Calibration) -> None:
        if other.bins != self.bins:
            raise ValueError("cannot merge calibrations with different bin counts")
        self.count += other.count
        self.squared_error += other.squared_error
        for i in range(self.bins):
            self.bin_count[i] += other.bin_count[i]
            self.bin_confidence[i] += other.bin_confidence[i]
            self.bin_correct[i] += other.bin_correct[i]

    def counters(self) -> dict[str, float]:
        """The sums as named counters: ``<bin>.n``, ``<bin>.p`` (confidence sum) and
        ``<bin>.h`` (right answers) for each bin in use, and ``brier`` (squared-error sum)."""
        out: dict[str, float] = {}
        for b in range(self.bins):
            if self.bin_count[b]:
                out[f"{b}.n"] = float(self.bin_count[b])
                out[f"{b}.p"] = self.bin_confidence[b]
                out[f"{b}.h"] = float(self.bin_correct[b])
        if self.count:
            out["brier"] = self.squared_error
        return out

    @classmethod
    def from_counters(cls, totals: Mapping[str, float], bins: int = 10) -> Calibration:
        """Back from ``counters()`` totals (missing names are 0)."""
        out = cls(bins=bins)
        for b in range(bins):
            out.bin_count[b] = int(totals.get(f"{b}.n", 0))
            out.bin_confidence[b] = totals.get(f"{b}.p", 0.0)
            out.bin_correct[b] = int(totals.get(f"{b}.h", 0))
        out.count = sum(out.bin_count)
        out.squared_error = totals.get("brier", 0.0)
        return out


def rank_of(predictions: Sequence[Prediction], actual: str) -> int | None:
    """The 1-based position of ``actual`` among ``predictions`` (``None``: not there)."""
    for i, p in enumerate(predictions):
        if p.command == actual:
            return i + 1
    return None


@dataclass
class PredictionScore:
    """The scoring step of "score, then learn": what one ranked list says about the ranking
    (hit@k, MRR) and about the top-1 probability (Brier, ECE).

    An empty list counts as a miss but not for calibration: there is no probability to
    judge. (In a replay the first event is the only point that can have none.)

    >>> s = PredictionScore()
    >>> s.score([Prediction("a", 0.6), Prediction("b", 0.3)], "b")
    2
    >>> s.ranks.hit(1), s.ranks.hit(3), round(s.calibration.brier(), 2)
    (0.0, 1.0, 0.36)
    """

    ranks: RankMetrics = field(default_factory=RankMetrics)
    calibration: Calibration = field(default_factory=Calibration)

    def score(self, predictions: Sequence[Prediction], actual: str) -> int | None:
        """Add one prediction point; returns the rank of ``actual`` for callers that split
        it further (segments)."""
        rank = rank_of(predictions, actual)
        self.ranks.update(rank)
        if predictions:
            # a model's float arithmetic may round a certain guess a hair above 1
            self.calibration.update(min(1.0, predictions[0].probability), rank == 1)
        return rank

    def merge(self, other: PredictionScore) -> None:
        self.ranks.merge(other.ranks)
        self.calibration.merge(other.calibration)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be in [0, 100], got {q}")
    ordered = sorted(values)
    index = max(0, math.ceil(q / 100.0 * len(ordered)) - 1)
    return float(ordered[index])
