"""Simple, strong baselines: the bar the learned model has to clear in the same run.

Each keeps per-user state that changes in O(1) per event (``RankedCounter`` instead of
rescanning history), so they are also usable in production as cheap fallbacks.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from personalization.predict import frecency
from personalization.predict.base import Predictor, RankedCounter
from personalization.types import Context, Event

CANDIDATES = 10  # enough candidates for any top-10 request without scanning everything
_SCALE_FLOOR = 1.0 / 1e150  # IPAM's row decay: rescale before the factor underflows


class MostFrequent(Predictor):
    """The user's most used commands so far. ``Frecency`` reuses the per-user counters and
    the scoring, and changes only how much a use counts."""

    name: ClassVar[str] = "most_frequent"
    reason: ClassVar[str] = "FREQUENT"

    def __init__(self) -> None:
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self.users_: dict[str, RankedCounter] = {}

    def _counter(self, user_id: str) -> RankedCounter:
        counter = self.users_.get(user_id)
        if counter is None:
            counter = self.users_[user_id] = RankedCounter()
        return counter

    def _learn(self, event: Event) -> None:
        self._counter(event.user_id).add(event.command, 1.0)

    def _scores(self, user_id: str, context: Context | None) -> dict[str, float]:
        counter = self.users_.get(user_id)
        if counter is None or counter.total <= 0:
            return {}
        total = counter.total
        return {c: counter.value[c] / total for c in counter.top(CANDIDATES)}

    def _forget_user(self, user_id: str) -> None:
        self.users_.pop(user_id, None)


class MostRecent(Predictor):
    """The user's most recently used distinct commands, newest first.

    Probabilities come from how often the user's next command really was at each recency
    position so far (made non-increasing), so they are honest rather than invented.
    """

    name: ClassVar[str] = "most_recent"
    reason: ClassVar[str] = "RECENT"

    def __init__(self) -> None:
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self.recent_: dict[str, list[str]] = {}
        self.position_hits_: dict[str, list[int]] = {}
        self.seen_: dict[str, int] = {}

    def _learn(self, event: Event) -> None:
        user = event.user_id
        recent = self.recent_.setdefault(user, [])
        hits = self.position_hits_.setdefault(user, [0] * (CANDIDATES + 1))
        self.seen_[user] = self.seen_.get(user, 0) + 1
        try:
            i = recent.index(event.command)
        except ValueError:
            hits[CANDIDATES] += 1
        else:
            hits[min(i, CANDIDATES)] += 1
            del recent[i]
        recent.insert(0, event.command)

    def _scores(self, user_id: str, context: Context | None) -> dict[str, float]:
        recent = self.recent_.get(user_id)
        if not recent:
            return {}
        hits = self.position_hits_[user_id]
        n = self.seen_[user_id] + CANDIDATES + 1
        out: dict[str, float] = {}
        cap = 1.0
        for i, command in enumerate(recent[:CANDIDATES]):
            # a small decreasing prior keeps the first events' order strictly by recency
            cap = min(cap, (hits[i] + 1.0 / (i + 2)) / n)
            out[command] = cap * (1.0 - 1e-6 * i)
        return out

    def _forget_user(self, user_id: str) -> None:
        self.recent_.pop(user_id, None)
        self.position_hits_.pop(user_id, None)
        self.seen_.pop(user_id, None)


class Frecency(MostFrequent):
    """Frequency decayed by age in events (half-life ``half_life`` events), like browser
    frecency: a command used often AND lately ranks first."""

    name: ClassVar[str] = "frecency"
    reason: ClassVar[str] = "FREQUENT"

    def __init__(self, half_life: float = frecency.HALF_LIFE) -> None:
        self.half_life = half_life
        self.step = frecency.growth(half_life)
        super().__init__()

    def _reset(self) -> None:
        super()._reset()
        self.weight_: dict[str, float] = {}

    def _learn(self, event: Event) -> None:
        user = event.user_id
        last = self.weight_.get(user, 1.0)
        self.weight_[user] = frecency.add_use(self._counter(user), last, event.command, self.step)

    def _forget_user(self, user_id: str) -> None:
        super()._forget_user(user_id)
        self.weight_.pop(user_id, None)


class IPAM(Predictor):
    """Incremental Probabilistic Action Modeling (Davison & Hirsh 1998).

    One probability row per previous command; on each event the row of the previous command
    decays by ``alpha`` and the observed command gains ``1 - alpha``. A row first seen is
    copied from the default row, which learns the same way from every event. Decay is a
    per-row scale factor, so an update touches one entry, not the whole row.
    """

    name: ClassVar[str] = "ipam"
    reason: ClassVar[str] = "SEQUENCE"

    def __init__(self, alpha: float = 0.8) -> None:
        self.alpha = alpha
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self.rows_: dict[str, dict[str, tuple[RankedCounter, list[float]]]] = {}
        self.default_: dict[str, tuple[RankedCounter, list[float]]] = {}
        self.last_: dict[str, str] = {}

    def _update(self, row: tuple[RankedCounter, list[float]], command: str) -> None:
        counter, scale = row
        scale[0] *= self.alpha
        if scale[0] < _SCALE_FLOOR:
            counter.rescale(scale[0])
            scale[0] = 1.0
        counter.add(command, (1.0 - self.alpha) / scale[0])

    def _learn(self, event: Event) -> None:
        user = event.user_id
        default = self.default_.get(user)
        if default is None:
            default = self.default_[user] = (RankedCounter(), [1.0])
        prev = self.last_.get(user)
        if prev is not None:
            rows = self.rows_.setdefault(user, {})
            row = rows.get(prev)
            if row is None:
                row = rows[prev] = (default[0].copy(), [default[1][0]])
            self._update(row, event.command)
        self._update(default, event.command)
        self.last_[user] = event.command

    def _scores(self, user_id: str, context: Context | None) -> dict[str, float]:
        prev = self.last_.get(user_id)
        row = self.rows_.get(user_id, {}).get(prev) if prev is not None else None
        if row is None:
            row = self.default_.get(user_id)
        if row is None:
            return {}
        counter, scale = row
        s = scale[0]
        return {c: counter.value[c] * s for c in counter.top(CANDIDATES)}

    def _forget_user(self, user_id: str) -> None:
        self.rows_.pop(user_id, None)
        self.default_.pop(user_id, None)
        self.last_.pop(user_id, None)


class ContextBlend(Predictor):
    """PPM-like blend of the user's command contexts of orders 0..``max_order``.

    P_k(c) = (n_k(c) + d_k * P_{k-1}(c)) / (N_k + d_k) for the last k commands as context,
    where d_k is the number of distinct commands seen after it (PPM method C escape); an
    unseen context passes P_{k-1} through. Order 0 is the user's overall frequency.
    """

    name: ClassVar[str] = "context_blend"
    reason: ClassVar[str] = "SEQUENCE"

    def __init__(self, max_order: int = 6) -> None:
        self.max_order = max_order
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        self.order0_: dict[str, RankedCounter] = {}
        self.contexts_: dict[str, dict[tuple[str, ...], dict[str, int]]] = {}
        self.totals_: dict[str, dict[tuple[str, ...], int]] = {}
        self.history_: dict[str, deque[str]] = {}

    def _learn(self, event: Event) -> None:
        user = event.user_id
        command = event.command
        history = self.history_.get(user)
        if history is None:
            history = self.history_[user] = deque(maxlen=self.max_order)
            self.order0_[user] = RankedCounter()
            self.contexts_[user] = {}
            self.totals_[user] = {}
        count_contexts(self.contexts_[user], self.totals_[user], tuple(history), command)
        self.order0_[user].add(command, 1.0)
        history.append(command)

    def _scores(self, user_id: str, context: Context | None) -> dict[str, float]:
        order0 = self.order0_.get(user_id)
        if order0 is None or order0.total <= 0:
            return {}
        return blend_scores(
            order0,
            self.contexts_[user_id],
            self.totals_[user_id],
            tuple(self.history_[user_id]),
            CANDIDATES,
        )

    def _forget_user(self, user_id: str) -> None:
        self.order0_.pop(user_id, None)
        self.contexts_.pop(user_id, None)
        self.totals_.pop(user_id, None)
        self.history_.pop(user_id, None)


def count_contexts(
    contexts: dict[tuple[str, ...], dict[str, int]],
    totals: dict[tuple[str, ...], int],
    hist: tuple[str, ...],
    command: str,
) -> None:
    """Count ``command`` after each suffix of ``hist`` (orders 1..len(hist))."""
    for k in range(1, len(hist) + 1):
        key = hist[-k:]
        row = contexts.get(key)
        if row is None:
            contexts[key] = {command: 1}
            totals[key] = 1
        else:
            row[command] = row.get(command, 0) + 1
            totals[key] += 1


def blend_scores(
    order0: RankedCounter,
    contexts: dict[tuple[str, ...], dict[str, int]],
    totals: dict[tuple[str, ...], int],
    hist: tuple[str, ...],
    fill: int,
) -> dict[str, float]:
    """The PPM-C blend over every command seen in a matching context, plus the ``fill``
    most frequent others (whose blended probability is order 0 scaled, so they are the
    only other possible top entries)."""
    rows = []
    for k in range(1, len(hist) + 1):
        key = hist[-k:]
        row = contexts.get(key)
        if row is None:
            break
        rows.append((row, totals[key]))
    # weight of each order's relative frequency: walk from the longest context down
    scores: dict[str, float] = {}
    carry = 1.0
    for row, n in reversed(rows):
        d = len(row)
        w = carry / (n + d)
        for c, cnt in row.items():
            scores[c] = scores.get(c, 0.0) + w * cnt
        carry *= d / (n + d)
    w0 = carry / order0.total
    value = order0.value
    for c in scores:
        scores[c] += w0 * value[c]
    added = 0
    for c in order0.order:
        if added >= fill:
            break
        if c not in scores:
            scores[c] = w0 * value[c]
            added += 1
    return scores


class Markov(ContextBlend):
    """First-order Markov chain on the previous command, escaping to frequency (PPM-C)."""

    name: ClassVar[str] = "markov"

    def __init__(self) -> None:
        super().__init__(max_order=1)


class ContextBlend3(ContextBlend):
    """The order-3 context blend."""

    name: ClassVar[str] = "context_blend3"

    def __init__(self) -> None:
        super().__init__(max_order=3)
