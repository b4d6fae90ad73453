"""Progressive validation, "score, then learn": the one replay loop every measurement uses.

A model may only be judged on an event it has not learned yet, or its score is a training
score. The offline evaluation, the scorer's training rows, the layout simulator and the
engine's live metrics all walk a person's events with this loop, so none of them can score
an event after learning it, or skip learning one it scored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

E = TypeVar("E")


def score_then_learn(
    events: Iterable[E],
    *,
    score: Callable[[E], object],
    learn: Callable[[E], object],
    first: int = 1,
    every: int = 1,
) -> int:
    """Walk ``events`` in order: ``score`` event i (from what was learned before it) when
    ``i >= first`` and ``i % every == 0``, then ``learn`` it. The default skips event 0,
    which nothing can predict; ``every`` samples points when scoring costs more than
    learning. Returns how many events were scored."""
    scored = 0
    for i, event in enumerate(events):
        if i >= first and i % every == 0:
            score(event)
            scored += 1
        learn(event)
    return scored
