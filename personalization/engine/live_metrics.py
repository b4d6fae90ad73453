"""What the insights page plots, measured live and honestly: every prediction is scored
before the event it predicts is learned (progressive validation), so the live hit@k is the
number a person actually experienced, not a training score.

Every measure is a sum (hits, predictions, probability sums per calibration bin, moves...),
kept as named counters: a worker adds what it saw to ``pending`` and flushes the increments
to the shared counter table, and the page reads the totals, so several workers add up
instead of overwriting each other, and nothing is recomputed from the log at start-up.

The measures themselves are the evaluation's (``PredictionScore``): each prediction is
scored into a fresh one whose counters become the increments, and the readout rebuilds the
metric objects from the totals, so live and offline numbers are computed the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from personalization.evaluation.metrics import Calibration, PredictionScore, RankMetrics
from personalization.types import Prediction

KS = (1, 3, 5)
BINS = 10
EXPERIENCED_AFTER = 50  # events; below this a user counts as "new"
PREFIX = "metrics."
GROUPS = ("adaptive", "control")


class LiveMetrics:
    """Pending increments of the live counters, and the readout built from totals."""

    def __init__(self) -> None:
        self.pending: defaultdict[str, float] = defaultdict(float)

    def _add(self, name: str, delta: float = 1.0) -> None:
        self.pending[PREFIX + name] += delta

    def _add_all(self, prefix: str, counts: Mapping[str, float]) -> None:
        for name, delta in counts.items():
            if delta:  # a zero would only create a counter row
                self._add(prefix + name, delta)

    def prediction(
        self, predictions: Sequence[Prediction], actual: str, *, events_before: int
    ) -> None:
        point = PredictionScore(calibration=Calibration(bins=BINS))
        point.score(predictions, actual)
        segment = "experienced" if events_before >= EXPERIENCED_AFTER else "new"
        hits = point.ranks.counters(KS)
        for group in ("overall", segment):
            self._add_all(f"hit.{group}.", hits)
        self._add_all("cal.", point.calibration.counters())

    def layout_update(self, region: str, moves: int) -> None:
        self._add(f"churn.{region}.updates")
        if moves:
            self._add(f"churn.{region}.moves", moves)

    def visible_check(self, *, control: bool, found: bool) -> None:
        group = "control" if control else "adaptive"
        self._add(f"found.{group}.events")
        if found:
            self._add(f"found.{group}.found")

    def panel_event(self, kind: str) -> None:
        self._add(f"panels.{kind}")

    def take(self) -> dict[str, float]:
        """The pending increments, handed over for a flush (and cleared here)."""
        out = dict(self.pending)
        self.pending.clear()
        return out

    def restore(self, deltas: Mapping[str, float]) -> None:
        """Put back increments whose flush failed, so a later flush still adds them."""
        for name, delta in deltas.items():
            self.pending[name] += delta


def _within(totals: Mapping[str, float], prefix: str) -> dict[str, float]:
    return {k.removeprefix(prefix): v for k, v in totals.items() if k.startswith(prefix)}


def _hits(totals: Mapping[str, float], group: str) -> dict[str, Any]:
    ranks = RankMetrics.from_counters(_within(totals, f"hit.{group}."), KS)
    n = ranks.count
    out: dict[str, Any] = {"predictions": n}
    for k in KS:
        out[f"hit@{k}"] = ranks.hit(k) if n else None
    out["mrr@10"] = ranks.mrr() if n else None
    return out


def readout(raw: Mapping[str, float]) -> dict[str, Any]:
    """The insights shape (overall, segments, calibration, churn, panels, found_in_slots)
    from counter totals (names with or without the ``metrics.`` prefix)."""
    totals = {k.removeprefix(PREFIX): v for k, v in raw.items()}
    segments = sorted(
        {k.split(".")[1] for k in totals if k.startswith("hit.") and k.endswith(".n")} - {"overall"}
    )
    cal = Calibration.from_counters(_within(totals, "cal."), BINS)
    bins = [
        {"predicted": p / c, "observed": h / c, "count": c}
        for c, p, h in zip(cal.bin_count, cal.bin_confidence, cal.bin_correct, strict=True)
        if c
    ]
    regions = sorted(
        k.removeprefix("churn.").removesuffix(".updates")
        for k in totals
        if k.startswith("churn.") and k.endswith(".updates")
    )
    churn = {}
    for region in regions:
        updates = int(totals[f"churn.{region}.updates"])
        moves = int(totals.get(f"churn.{region}.moves", 0))
        churn[region] = {
            "updates": updates,
            "moves": moves,
            "moves_per_update": moves / updates if updates else 0.0,
        }
    panels = {
        k.removeprefix("panels."): int(v)
        for k, v in sorted(totals.items())
        if k.startswith("panels.")
    }
    found = {}
    for group in GROUPS:
        f = int(totals.get(f"found.{group}.found", 0))
        e = int(totals.get(f"found.{group}.events", 0))
        found[group] = {"found": f, "events": e, "rate": f / e if e else None}
    return {
        "overall": _hits(totals, "overall"),
        "segments": {name: _hits(totals, name) for name in segments},
        "calibration": {
            "bins": bins,
            "brier": cal.brier() if cal.count else None,
            "ece": cal.ece() if cal.count else None,
        },
        "churn": churn,
        "panels": panels,
        "found_in_slots": found,
    }
