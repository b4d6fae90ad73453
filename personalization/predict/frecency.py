"""Frecency, browser style: a use counts more the more recent it is (half-life in events).

Decaying every count on every event would touch the whole vocabulary, so the weights grow
instead: each use adds ``step`` times the previous use's weight, which ranks exactly as
decay would, and the counter is rescaled before the weights overflow. The frecency
baseline, the learned model's ``frecency`` feature and the simulator's frecency layout all
rank with this one function, so they agree on what "used often and lately" means.
"""

from __future__ import annotations

from personalization.predict.base import RankedCounter

HALF_LIFE = 50.0  # events
RESCALE_AT = 1e150


def growth(half_life: float = HALF_LIFE) -> float:
    """The factor by which each use outweighs the one before it."""
    return 2.0 ** (1.0 / half_life)


def add_use(counter: RankedCounter, weight: float, command: str, step: float) -> float:
    """Count one use of ``command`` after a use that weighed ``weight``; returns this use's
    weight, which the caller keeps for the next call."""
    w = weight * step
    if w > RESCALE_AT:
        counter.rescale(1.0 / w)
        w = 1.0
    counter.add(command, w)
    return w
