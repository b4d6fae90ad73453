"""The learned hybrid model: expert features scored by a scikit-learn logistic regression.

Learning-to-rank by pointwise classification: for each past prediction point every
candidate becomes a row (label 1 if it was the command that came next), a
``LogisticRegression`` learns how much to trust each expert, and at request time the
candidates' logits are normalised with a softmax and scaled by the share of next commands
that the candidate set covers, so the probabilities are over the whole vocabulary and
calibrated. The scorer is trained on OTHER users' replays (population knowledge); each
user's own history enters through the features, so it overrides the prior as it grows.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from personalization.predict.base import Predictor, make_prediction, top_k
from personalization.predict.features import FEATURES, N_FEATURES, FeatureBuilder, UserState
from personalization.predict.population import PopulationModel
from personalization.predict.progressive import score_then_learn
from personalization.types import CommandMeta, Context, Event, Prediction

FORMAT_VERSION = 1
CALIBRATION_POINTS = 21  # the isotonic curve sampled on a grid: small and monotone
FLOOR_SHARE = 0.5  # of the uncovered mass, spread over known commands outside the candidates


class Scorer:
    """Linear weights over ``FEATURES`` plus the candidate-set coverage (plain data)."""

    def __init__(
        self,
        weights: Sequence[float],
        bias: float,
        coverage: float,
        calibration: Sequence[Sequence[float]] = (),
    ) -> None:
        if len(weights) != N_FEATURES:
            raise ValueError(f"scorer field 'weights' needs {N_FEATURES} values")
        if not 0.0 < coverage <= 1.0:
            raise ValueError("scorer field 'coverage' must be in (0, 1]")
        points = [(float(a), float(b)) for a, b in calibration]
        if any(not (0.0 <= a <= 1.0 and 0.0 <= b <= 1.0) for a, b in points) or any(
            p[0] > q[0] or p[1] > q[1] for p, q in zip(points, points[1:], strict=False)
        ):
            raise ValueError("scorer field 'calibration' must be increasing points in [0,1]^2")
        self.weights = np.asarray(weights, dtype=float)
        self.bias = float(bias)
        self.coverage = float(coverage)
        self.calibration = points
        self._cal_x = [a for a, _ in points]
        self._cal_y = [b for _, b in points]

    def calibrate(self, p: float) -> float:
        """The top-1 probability mapped through the isotonic curve (identity without one)."""
        xs, ys = self._cal_x, self._cal_y
        if not xs:
            return p
        if p <= xs[0]:
            return ys[0]
        if p >= xs[-1]:
            return ys[-1]
        i = bisect.bisect_right(xs, p)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (p - x0) / (x1 - x0)

    def probabilities(self, rows: list[list[float]]) -> list[float]:
        """Softmax over the candidates, scaled by coverage, with a calibrated top-1: the
        rest share what is left in proportion and never exceed the top one."""
        logits = np.asarray(rows, dtype=float) @ self.weights
        logits -= logits.max()
        e = np.exp(logits)
        probs = (e * (self.coverage / e.sum())).tolist()
        if not self._cal_x:
            return probs
        best = max(range(len(probs)), key=probs.__getitem__)
        raw = probs[best]
        top = self.calibrate(raw)
        rest = self.coverage - raw
        # what the other candidates share: never nothing, so a wrong top guess can recover
        remaining = max(self.coverage - top, (1.0 - top) * FLOOR_SHARE)
        scale = remaining / rest if rest > 1e-12 else 0.0
        out = [min(p * scale, top) for p in probs]
        out[best] = top
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "scorer",
            "version": FORMAT_VERSION,
            "features": list(FEATURES),
            "weights": [float(w) for w in self.weights],
            "bias": self.bias,
            "coverage": self.coverage,
            "calibration": [list(p) for p in self.calibration],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Scorer:
        if not isinstance(data, dict) or data.get("format") != "scorer":
            raise ValueError("not a scorer: field 'format' must be 'scorer'")
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"scorer field 'version' must be {FORMAT_VERSION}")
        if data.get("features") != list(FEATURES):
            raise ValueError("scorer field 'features' does not match this version's features")
        weights = data.get("weights")
        if not isinstance(weights, list) or not all(
            isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w)
            for w in weights
        ):
            raise ValueError("scorer field 'weights' must be a list of finite numbers")
        bias, coverage = data.get("bias"), data.get("coverage")
        for name, value in (("bias", bias), ("coverage", coverage)):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"scorer field {name!r} must be a number")
            if not math.isfinite(value):
                raise ValueError(f"scorer field {name!r} must be finite")
        curve = data.get("calibration", [])
        if not isinstance(curve, list) or not all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
            for p in curve
        ):
            raise ValueError("scorer field 'calibration' must be a list of [x, y] pairs")
        return cls(weights, bias, coverage, curve)


# Trained by ``train_scorer`` on 10 Schonlau users and 3,000 MSNBC visitors (population of
# both, each user left out while replayed). ``user_context``, ``pop_context`` and
# ``same_group`` carry hand-set priors because those logs have no context or catalogue;
# a deployment's own ``PopulationTrainer`` run replaces all of it with weights fitted there.
_DEFAULT_WEIGHTS = {
    "log_blend": 0.231914,
    "blend": 4.392716,
    "p_longest": -1.5254,
    "p_order1": 0.566033,
    "frecency": 0.741074,
    "frequency": -1.76748,
    "log_gap": -1.418118,
    "never_used": 1.508681,
    "log_pop_order2": 0.084497,
    "log_pop_order0": -0.071362,
    "cold_x_log_pop_order1": 0.422744,
    "cold_x_log_blend": -0.295868,
    "user_context": 2.0,
    "pop_context": 1.0,
    "same_group": 1.0,
    "is_last": -0.39826,
}
DEFAULT_SCORER = Scorer(
    weights=[_DEFAULT_WEIGHTS[name] for name in FEATURES],
    bias=-1.064435,
    coverage=0.9422,
    calibration=[
        [0.0, 0.001],
        [0.05, 0.001],
        [0.1, 0.001],
        [0.15, 0.1236],
        [0.2, 0.2066],
        [0.25, 0.2273],
        [0.3, 0.3285],
        [0.35, 0.336],
        [0.4, 0.3548],
        [0.45, 0.4087],
        [0.5, 0.4598],
        [0.55, 0.4598],
        [0.6, 0.5016],
        [0.65, 0.5495],
        [0.7, 0.6074],
        [0.75, 0.6559],
        [0.8, 0.6606],
        [0.85, 0.8244],
        [0.9, 0.942],
        [0.95, 0.995],
        [1.0, 0.995],
    ],
)


_P_LONGEST = FEATURES.index("p_longest")
_P_ORDER1 = FEATURES.index("p_order1")
_LOG_GAP = FEATURES.index("log_gap")
_NEVER_USED = FEATURES.index("never_used")
_USER_CONTEXT = FEATURES.index("user_context")
_POP_CONTEXT = FEATURES.index("pop_context")
_SAME_GROUP = FEATURES.index("same_group")


def _reason(row: list[float]) -> str:
    """The expert that speaks loudest for this candidate, as a reason code."""
    if row[_P_LONGEST] or row[_P_ORDER1] >= 0.2:
        return "SEQUENCE"
    if row[_USER_CONTEXT] >= 0.2 or row[_POP_CONTEXT] >= 0.2:
        return "CONTEXT"
    if row[_NEVER_USED] == 0.0:
        return "RECENT" if row[_LOG_GAP] < 0.3 else "FREQUENT"
    if row[_SAME_GROUP]:
        return "SIMILAR"
    return "POPULAR"


class LearnedPredictor(Predictor):
    """Hybrid next-command model: the user's sequence, decayed statistics and context,
    a population prior for cold start, and catalogue metadata for never-used commands."""

    name: ClassVar[str] = "learned"
    reason: ClassVar[str] = "SEQUENCE"

    def __init__(
        self,
        commands: Sequence[CommandMeta] = (),
        population: PopulationModel | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self.commands = tuple(commands)
        self.population = population
        self.scorer = scorer
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self.users_: dict[str, UserState] = {}
        scorer = self.scorer if self.scorer is not None else DEFAULT_SCORER
        self.parts_ = (FeatureBuilder(self.population, self.commands), scorer)

    @property
    def scorer_(self) -> Scorer:
        return self.parts_[1]

    def set_population(
        self, population: PopulationModel | None, scorer: Scorer | None = None
    ) -> None:
        """Swap in a retrained population part; per-user state is kept. The pair is one
        attribute, so a concurrent ``rank`` sees the old or the new model, never a mix."""
        new_scorer = scorer if scorer is not None else self.parts_[1]
        self.parts_ = (FeatureBuilder(population, self.commands), new_scorer)
        self.population = population
        self.scorer = new_scorer

    def _learn(self, event: Event) -> None:
        state = self.users_.get(event.user_id)
        if state is None:
            state = self.users_[event.user_id] = UserState()
        state.learn(event.command, event.context)

    def features(
        self, user_id: str, context: Context | None = None
    ) -> tuple[list[str], list[list[float]]]:
        """Candidates for the user's next command and one feature row each."""
        return self.parts_[0].candidates(self.users_.get(user_id), context)

    def rank(self, user_id: str, context: Context | None = None, k: int = 10) -> list[Prediction]:
        return self.rank_state(self.users_.get(user_id), context, k)

    def may_rank(self, state: UserState | None, commands: set[str]) -> bool:
        """False when none of ``commands`` can get a probability above 0 for this person."""
        return self.parts_[0].may_rank(state, commands)

    def rank_state(
        self, state: UserState | None, context: Context | None = None, k: int = 10
    ) -> list[Prediction]:
        """``rank`` for a person whose state is held elsewhere (the engine's per-user store):
        it reads nothing but ``state`` and the shared population part, so the engine serves
        exactly what the in-memory learner that ``evaluate`` measures would answer."""
        if k <= 0:
            return []
        builder, scorer = self.parts_
        names, rows = builder.candidates(state, context)
        own = state.order0 if state is not None else None
        if not names:
            if own is None or own.total <= 0:
                return []
            return [make_prediction(c, own.value[c] / own.total, "POPULAR") for c in own.top(k)]
        probs = scorer.probabilities(rows)
        scores = dict(zip(names, probs, strict=True))
        index = {c: i for i, c in enumerate(names)}
        out = [
            make_prediction(c, p if p < 1.0 else 1.0, _reason(rows[index[c]]))
            for c, p in top_k(scores, k)
        ]
        if len(out) < k and own is not None:
            # the person's own other commands, at the floor the scorer leaves for them
            others = max(1, len(own) - len(names))
            floor = (1.0 - scorer.coverage) * FLOOR_SHARE / others
            known = [c for c in own.top(k + len(names)) if c not in scores]
            out.extend(make_prediction(c, floor, "POPULAR") for c in known[: k - len(out)])
        return out

    def _scores(self, user_id: str, context: Context | None) -> dict[str, float]:
        builder, scorer = self.parts_
        names, rows = builder.candidates(self.users_.get(user_id), context)
        return dict(zip(names, scorer.probabilities(rows), strict=True)) if names else {}

    def _forget_user(self, user_id: str) -> None:
        # the population part holds only aggregates; it forgets the user at its next
        # retraining (PopulationTrainer reads the store, which erasure has emptied)
        self.users_.pop(user_id, None)

    def known_commands(self) -> set[str]:
        known = super().known_commands()
        known.update(meta.id for meta in self.commands)
        if self.population is not None:
            known.update(self.population.commands())
        return known


def replay_rows(
    events: Iterable[Event],
    *,
    population: PopulationModel | None,
    commands: Sequence[CommandMeta] = (),
    every: int = 1,
) -> tuple[list[list[float]], list[int], list[int], int]:
    """Replay one user, score-then-learn, and collect (rows, labels) at every ``every``-th
    point; also each point's candidate count (a point whose answer is not among its
    candidates has only 0 labels) and how many points were sampled in all."""
    model = LearnedPredictor(commands=commands, population=population)
    rows: list[list[float]] = []
    labels: list[int] = []
    groups: list[int] = []

    def collect(ev: Event) -> None:
        names, feats = model.features(ev.user_id, ev.context)
        if names:
            rows.extend(feats)
            labels.extend(int(c == ev.command) for c in names)
            groups.append(len(names))

    points = score_then_learn(events, score=collect, learn=model.partial_fit, every=every)
    return rows, labels, groups, points


def train_scorer(
    sequences: Iterable[Sequence[Event]],
    *,
    population: PopulationModel | None,
    commands: Sequence[CommandMeta] = (),
    leave_one_out: bool = True,
    every: int = 2,
    progress: Callable[[float], None] | None = None,
    total: int | None = None,
) -> Scorer:
    """Fit the scorer on users' replays. With ``leave_one_out`` each user's own events are
    subtracted from ``population`` while that user is replayed, so the scorer never learns
    to trust a population that already knows the answer."""
    # imported here: serving and the table registry never pay scikit-learn's import time
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    all_rows: list[list[float]] = []
    all_labels: list[int] = []
    all_groups: list[int] = []
    points = 0
    for done, events in enumerate(sequences, start=1):
        if leave_one_out and population is not None:
            population.subtract_user(events)
        try:
            rows, labels, groups, p = replay_rows(
                events, population=population, commands=commands, every=every
            )
        finally:
            if leave_one_out and population is not None:
                population.add_user(events)
        all_rows.extend(rows)
        all_labels.extend(labels)
        all_groups.extend(groups)
        points += p
        if progress is not None and total:
            progress(min(1.0, done / total) * 0.9)
    if not all_labels or len(set(all_labels)) < 2:
        raise ValueError("not enough events to train the scorer (need repeated commands)")
    x = np.asarray(all_rows, dtype=float)
    y = np.asarray(all_labels, dtype=int)
    # standardise so the solver converges quickly, then fold the scaling into the weights
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std < 1e-9] = 1.0
    clf = LogisticRegression(C=1.0, max_iter=1000)
    clf.fit((x - mean) / std, y)
    weights = clf.coef_[0] / std
    bias = float(clf.intercept_[0] - (weights * mean).sum())
    # pointwise training fixes the direction of the weights, not the sharpness of the
    # softmax across candidates: pick the temperature that best predicts the real next
    # command (grouped log-likelihood), which is what calibrates the top-1 probability
    sizes = np.asarray(all_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(int)
    has_answer = np.add.reduceat(y, starts) > 0
    coverage = max(1e-3, float(has_answer.sum()) / points) if points else 1.0
    weights = weights / _temperature(x @ weights, y, sizes, starts, has_answer)
    # the softmax is still over- or under-confident in places: map the top-1 probability
    # through an isotonic fit of how often the top guess was right (all sampled points)
    z = x @ weights
    zmax = np.maximum.reduceat(z, starts)
    e = np.exp(z - np.repeat(zmax, sizes))
    top1 = coverage / np.add.reduceat(e, starts)  # the max entry of each group's softmax
    first_best = np.array(
        [int(np.argmax(z[a : a + n])) + a for a, n in zip(starts, sizes, strict=True)]
    )
    hit = y[first_best].astype(float)
    # never fully certain either way: every command keeps some mass
    iso = IsotonicRegression(y_min=0.001, y_max=0.995, out_of_bounds="clip").fit(top1, hit)
    grid = np.linspace(0.0, 1.0, CALIBRATION_POINTS)
    curve = [
        [round(float(a), 4), round(float(b), 4)]
        for a, b in zip(grid, iso.predict(grid), strict=True)
    ]
    if progress is not None:
        progress(1.0)
    return Scorer(weights=weights.tolist(), bias=bias, coverage=coverage, calibration=curve)


def _temperature(
    logits: np.ndarray,
    labels: np.ndarray,
    sizes: np.ndarray,
    starts: np.ndarray,
    has_answer: np.ndarray,
) -> float:
    best_t, best_nll = 1.0, math.inf
    for t in np.exp(np.linspace(math.log(0.25), math.log(4.0), 41)):
        z = logits / t
        zmax = np.maximum.reduceat(z, starts)
        lse = np.log(np.add.reduceat(np.exp(z - np.repeat(zmax, sizes)), starts)) + zmax
        nll = float(lse[has_answer].sum() - z[labels == 1].sum())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t
