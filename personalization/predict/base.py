"""The contract every next-command predictor keeps, and the small structures they share.

One contract (scikit-learn's ``fit``/``partial_fit`` plus river's online style) lets the
layout engine, the API and the evaluator swap a baseline for the learned model without
knowing which is which. ``rank`` answers for the user's NEXT command given what that user
did so far: each predictor keeps every user's recent sequence itself from ``partial_fit``.

Speed rule: a request must not pay for the length of a user's history, so predictors keep
incrementally sorted counters (``RankedCounter``) and never rescan past events.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from operator import itemgetter
from typing import ClassVar, Self

from personalization.types import Context, Event, EventKind, Prediction


class RankedCounter:
    """Non-negative weights plus their exact top ``cap`` entries, kept sorted as they change.

    Predictors change one weight per event and read only the first few entries, so only
    those are kept in order: an update costs O(cap) however many commands exist (sorting
    all of them, or bubbling a jump through a long list, grows with the vocabulary). Exact
    because weights only rise between reads: an entry outside the list can only enter by
    being raised, and that raise is checked. A decrease rebuilds the list (erasure only).
    Ties go to the entry changed most recently, which doubles as a recency tie-break.
    """

    __slots__ = ("order", "value", "total", "cap")

    def __init__(self, cap: int = 32) -> None:
        self.order: list[str] = []
        self.value: dict[str, float] = {}
        self.total: float = 0.0
        self.cap = cap

    def __len__(self) -> int:
        return len(self.value)

    def __contains__(self, key: str) -> bool:
        return key in self.value

    def get(self, key: str) -> float:
        return self.value.get(key, 0.0)

    def add(self, key: str, delta: float) -> None:
        value = self.value
        v = value.get(key, 0.0) + delta
        self.total += delta
        if v <= 0.0:
            value.pop(key, None)
            if key in self.order:
                self._rebuild()
            return
        value[key] = v
        order = self.order
        if delta < 0:
            if key in order:
                self._rebuild()
            return
        if key in order:
            order.remove(key)
        elif len(order) >= self.cap and value[order[-1]] > v:
            return
        # first position whose weight is <= v: the newest change goes before its equals
        i = 0
        n = len(order)
        while i < n and value[order[i]] > v:
            i += 1
        order.insert(i, key)
        if n >= self.cap:
            order.pop()

    def _rebuild(self) -> None:
        value = self.value
        self.order = sorted(value, key=value.__getitem__, reverse=True)[: self.cap]

    def discard(self, key: str) -> None:
        if key in self.value:
            self.total -= self.value.pop(key)
            if key in self.order:
                self._rebuild()

    def rescale(self, factor: float) -> None:
        """Multiply every weight (order is unchanged); keeps exponential weights finite."""
        for key in self.value:
            self.value[key] *= factor
        self.total *= factor

    def top(self, k: int) -> list[str]:
        if k <= len(self.order) or len(self.order) == len(self.value):
            return self.order[:k]
        value = self.value
        head = set(self.order)
        rest = sorted((c for c in value if c not in head), key=value.__getitem__, reverse=True)
        return (self.order + rest)[:k]

    def copy(self) -> RankedCounter:
        other = RankedCounter(self.cap)
        other.order = list(self.order)
        other.value = dict(self.value)
        other.total = self.total
        return other


_by_score = itemgetter(1)


def top_k(scores: dict[str, float], k: int) -> list[tuple[str, float]]:
    """The k best (command, score) pairs, highest first. The sort is stable, so ties keep
    the candidates' insertion order and every run ranks identically."""
    return sorted(scores.items(), key=_by_score, reverse=True)[:k]


_new = object.__new__
_set_command = Prediction.__dict__["command"].__set__
_set_probability = Prediction.__dict__["probability"].__set__
_set_reason = Prediction.__dict__["reason"].__set__


def make_prediction(command: str, probability: float, reason: str) -> Prediction:
    """Same object as ``Prediction(command, probability, reason)`` at a third of the cost:
    a frozen dataclass's ``__init__`` goes through ``object.__setattr__`` per field, and
    ``rank`` builds ten of these per request."""
    pred = _new(Prediction)
    _set_command(pred, command)
    _set_probability(pred, probability)
    _set_reason(pred, reason)
    return pred


class Predictor(ABC):
    """Learns from a stream of events and ranks each user's likely next commands.

    Subclasses implement ``_learn``, ``_scores`` and ``_forget_user``; this base keeps a
    population frequency table so an unknown user still gets a sensible (``POPULAR``)
    answer, and removes a user's share of it on ``forget``.
    """

    name: ClassVar[str] = "predictor"
    reason: ClassVar[str] = "FREQUENT"

    def __init__(self) -> None:
        self._reset_base()

    def _reset_base(self) -> None:
        self.popular_ = RankedCounter()
        self.user_counts_: dict[str, dict[str, int]] = {}

    # -- the public contract -------------------------------------------------------------
    def fit(self, events: Iterable[Event]) -> Self:
        """Forget everything, then learn ``events`` in the order given."""
        self._reset_base()
        self._reset()
        for event in events:
            self.partial_fit(event)
        return self

    def partial_fit(self, event: Event) -> Self:
        """Learn one event online. Only ``INVOKE`` events are commands; others are ignored."""
        if event.kind != EventKind.INVOKE:
            return self
        counts = self.user_counts_.setdefault(event.user_id, {})
        counts[event.command] = counts.get(event.command, 0) + 1
        self.popular_.add(event.command, 1.0)
        self._learn(event)
        return self

    def rank(self, user_id: str, context: Context | None = None, k: int = 10) -> list[Prediction]:
        """Up to ``k`` distinct commands, most likely first, each with its probability of
        being the user's next command and a reason code."""
        if k <= 0:
            return []
        if user_id in self.user_counts_:
            scores = self._scores(user_id, context)
            if scores:
                reason = self.reason
                return [
                    make_prediction(c, p if p < 1.0 else 1.0, reason) for c, p in top_k(scores, k)
                ]
        return self._popular(k)

    def forget(self, user_id: str) -> Self:
        """Erase everything learned from ``user_id`` (their share of population counts too)."""
        counts = self.user_counts_.pop(user_id, None)
        if counts:
            for command, n in counts.items():
                self.popular_.add(command, -float(n))
        self._forget_user(user_id)
        return self

    def known_commands(self) -> set[str]:
        """Every command this predictor has seen from anyone."""
        return set(self.popular_.value)

    # -- helpers and hooks ---------------------------------------------------------------
    def _popular(self, k: int) -> list[Prediction]:
        total = self.popular_.total
        if total <= 0:
            return []
        return [
            make_prediction(c, self.popular_.value[c] / total, "POPULAR")
            for c in self.popular_.top(k)
        ]

    @abstractmethod
    def _reset(self) -> None:
        """Drop all per-user state."""

    @abstractmethod
    def _learn(self, event: Event) -> None:
        """Update the user's state with one INVOKE event."""

    @abstractmethod
    def _scores(self, user_id: str, context: Context | None) -> dict[str, float]:
        """Probabilities (summing to at most 1) for enough candidates to fill any top-10."""

    @abstractmethod
    def _forget_user(self, user_id: str) -> None:
        """Drop the user's own state."""
