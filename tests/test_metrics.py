"""Metrics against answers computed by hand."""

from __future__ import annotations

import doctest

import pytest

import personalization.evaluation.metrics as metrics_module
from personalization.evaluation.metrics import (
    Calibration,
    PredictionScore,
    RankMetrics,
    percentile,
)
from personalization.predict.progressive import score_then_learn
from personalization.types import Prediction


def test_hits_and_mrr_by_hand() -> None:
    m = RankMetrics()
    for rank in (1, 2, 5, None, 11, 1):
        m.update(rank)
    # hits: ranks 1,1 at 1; +2 at 3; +5 at 5; None and 11 never
    assert m.count == 6
    assert m.hit(1) == pytest.approx(2 / 6)
    assert m.hit(3) == pytest.approx(3 / 6)
    assert m.hit(5) == pytest.approx(4 / 6)
    assert m.mrr() == pytest.approx((1 + 0.5 + 0.2 + 1) / 6)


def test_merge_equals_one_pass() -> None:
    a, b, both = RankMetrics(), RankMetrics(), RankMetrics()
    for r in (1, 3):
        a.update(r)
        both.update(r)
    for r in (None, 2):
        b.update(r)
        both.update(r)
    a.merge(b)
    assert (a.count, a.hits_at, a.mrr()) == (both.count, both.hits_at, both.mrr())


def test_rank_and_k_validation() -> None:
    m = RankMetrics()
    with pytest.raises(ValueError, match="rank must be >= 1"):
        m.update(0)
    with pytest.raises(ValueError, match="k must be in 1..10"):
        m.hit(11)


def test_brier_and_ece_by_hand() -> None:
    c = Calibration(bins=10)
    c.update(0.9, True)  # bin 9
    c.update(0.9, False)  # bin 9
    c.update(0.25, False)  # bin 2
    c.update(1.0, True)  # last bin
    # Brier: (0.01 + 0.81 + 0.0625 + 0) / 4
    assert c.brier() == pytest.approx(0.8825 / 4)
    # bin 9: 3 items conf 2.8 correct 2 -> |2-2.8| ; bin 2: |0-0.25|
    assert c.ece() == pytest.approx((0.8 + 0.25) / 4)


def test_perfectly_calibrated_has_zero_ece() -> None:
    c2 = Calibration()
    c2.update(0.5, True)
    c2.update(0.5, False)
    assert c2.ece() == pytest.approx(0.0)
    assert c2.brier() == pytest.approx(0.25)


def test_calibration_rejects_bad_probability() -> None:
    with pytest.raises(ValueError, match="probability must be in"):
        Calibration().update(1.5, True)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([], 50) == 0.0


def test_doctests_pass() -> None:
    result = doctest.testmod(metrics_module)
    assert result.attempted >= 2 and result.failed == 0


def test_counters_round_trip_gives_the_same_numbers() -> None:
    ranks, cal = RankMetrics(), Calibration()
    for rank, p in ((1, 0.9), (2, 0.4), (None, 0.2), (5, 0.05), (1, 0.7)):
        ranks.update(rank)
        cal.update(p, rank == 1)
    again = RankMetrics.from_counters(ranks.counters((1, 3, 5)), (1, 3, 5))
    assert [again.hit(k) for k in (1, 3, 5)] == [ranks.hit(k) for k in (1, 3, 5)]
    assert (again.count, again.mrr()) == (ranks.count, ranks.mrr())
    back = Calibration.from_counters(cal.counters())
    assert (back.count, back.brier(), back.ece()) == (cal.count, cal.brier(), cal.ece())


def test_prediction_score_skips_calibration_without_predictions() -> None:
    score = PredictionScore()
    assert score.score([Prediction("a", 0.5), Prediction("b", 0.2)], "b") == 2
    assert score.score([], "a") is None
    assert (score.ranks.count, score.calibration.count) == (2, 1)
    assert score.ranks.hit(3) == pytest.approx(0.5)


def test_score_then_learn_scores_each_event_before_learning_it() -> None:
    seen: list[str] = []
    trace: list[tuple[str, str, tuple[str, ...]]] = []
    events = ["a", "b", "c", "d", "e"]

    def score(e: str) -> None:
        trace.append(("score", e, tuple(seen)))

    def learn(e: str) -> None:
        trace.append(("learn", e, tuple(seen)))
        seen.append(e)

    assert score_then_learn(events, score=score, learn=learn, every=2) == 2
    assert [t for t in trace if t[0] == "score"] == [
        ("score", "c", ("a", "b")),
        ("score", "e", ("a", "b", "c", "d")),
    ]
    assert seen == events
    trace.clear()
    seen.clear()
    assert score_then_learn(events, score=score, learn=learn, first=0) == 5
    assert trace[0] == ("score", "a", ())
