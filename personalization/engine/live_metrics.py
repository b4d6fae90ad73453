"""What the insights page plots, measured live and honestly: every prediction is scored
before the event it predicts is learned (progressive validation), so the live hit@k is the
number a person actually experienced, not a training score.

Every measure is a sum (hits, predictions, probability sums per calibration bin, moves...),
kept as named counters: a worker adds what it saw to ``pending`` and flushes the increments
to the shared counter table, and the page reads the totals, so several workers add up
instead of overwriting each other, and nothing is recomputed from the log at start-up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

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

    def prediction(
        self, predictions: Sequence[Prediction], actual: str, *, events_before: int
    ) -> None:
        ranked = [p.command for p in predictions]
        rank = ranked.index(actual) + 1 if actual in ranked else None
        segment = "experienced" if events_before >= EXPERIENCED_AFTER else "new"
        for group in ("overall", segment):
            self._add(f"hit.{group}.n")
            if rank is not None:
                for k in KS:
                    if rank <= k:
                        self._add(f"hit.{group}.h{k}")
                if rank <= 10:
                    self._add(f"hit.{group}.rr", 1.0 / rank)
        if predictions:
            p = predictions[0].probability
            b = min(BINS - 1, int(p * BINS))
            self._add(f"cal.{b}.n")
            self._add(f"cal.{b}.p", p)
            if rank == 1:
                self._add(f"cal.{b}.h")
            self._add("cal.brier", (p - float(rank == 1)) ** 2)

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


def _hits(totals: Mapping[str, float], group: str) -> dict[str, Any]:
    n = int(totals.get(f"hit.{group}.n", 0))
    out: dict[str, Any] = {"predictions": n}
    for k in KS:
        out[f"hit@{k}"] = totals.get(f"hit.{group}.h{k}", 0.0) / n if n else None
    out["mrr@10"] = totals.get(f"hit.{group}.rr", 0.0) / n if n else None
    return out


def readout(raw: Mapping[str, float]) -> dict[str, Any]:
    """The insights shape (overall, segments, calibration, churn, panels, found_in_slots)
    from counter totals (names with or without the ``metrics.`` prefix)."""
    totals = {k.removeprefix(PREFIX): v for k, v in raw.items()}
    segments = sorted(
        {k.split(".")[1] for k in totals if k.startswith("hit.") and k.endswith(".n")} - {"overall"}
    )
    bins = []
    for b in range(BINS):
        c = int(totals.get(f"cal.{b}.n", 0))
        if c:
            bins.append(
                {
                    "predicted": totals.get(f"cal.{b}.p", 0.0) / c,
                    "observed": totals.get(f"cal.{b}.h", 0.0) / c,
                    "count": c,
                }
            )
    n = sum(x["count"] for x in bins)
    ece = sum(abs(x["predicted"] - x["observed"]) * x["count"] for x in bins) / n if n else None
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
            "brier": totals.get("cal.brier", 0.0) / n if n else None,
            "ece": ece,
        },
        "churn": churn,
        "panels": panels,
        "found_in_slots": found,
    }
