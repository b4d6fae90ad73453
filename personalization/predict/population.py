"""What everyone does: the population prior that carries a new user (cold start).

Counts of commands after the previous one and two commands, overall, and per context field
value (route, device, ...), summed over many users. A new visitor has no history, so these
counts are the only evidence; as the user's own history grows the learned scorer weighs it
over the population. Counts are additive, so a user's share can be subtracted again
(leave-one-out training, erasure) without retraining from scratch.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

from personalization.types import Context, Event, EventKind

# session and task ids are per-visit: they say nothing about other people
POPULATION_FIELDS = ("route", "device", "region", "component")
TOP = 8
FORMAT_VERSION = 1


def _top_key(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def context_items(context: Context | None, fields: tuple[str, ...]) -> list[str]:
    """The context as ``field=value`` keys (only fields that are set)."""
    if context is None:
        return []
    out = []
    for name in fields:
        value = getattr(context, name)
        if value:
            out.append(f"{name}={value}")
    return out


class PopulationModel:
    """Additive command counts by context, over many users.

    Keys: ``""`` overall; ``"1|prev"`` after one command; ``"2|prev2|prev1"`` after two;
    ``"c|field=value"`` under a context value.
    """

    def __init__(self) -> None:
        self.counts_: dict[str, dict[str, int]] = {}
        self.totals_: dict[str, int] = {}
        self.users_: int = 0
        self._tops: dict[str, list[str]] = {}

    # -- learning ------------------------------------------------------------------------
    @staticmethod
    def _keys(prev2: str | None, prev1: str | None, context: Context | None) -> list[str]:
        keys = [""]
        if prev1 is not None:
            keys.append("1|" + prev1)
            if prev2 is not None:
                keys.append(f"2|{prev2}|{prev1}")
        keys.extend("c|" + item for item in context_items(context, POPULATION_FIELDS))
        return keys

    def _apply(self, events: Iterable[Event], sign: int) -> None:
        prev2: str | None = None
        prev1: str | None = None
        counts, totals = self.counts_, self.totals_
        tops = self._tops
        for ev in events:
            if ev.kind != EventKind.INVOKE:
                continue
            for key in self._keys(prev2, prev1, ev.context):
                tops.pop(key, None)
                row = counts.get(key)
                if row is None:
                    row = counts[key] = {}
                n = row.get(ev.command, 0) + sign
                if n > 0:
                    row[ev.command] = n
                else:
                    row.pop(ev.command, None)
                    if not row:
                        del counts[key]
                totals[key] = totals.get(key, 0) + sign
                if totals[key] <= 0:
                    totals.pop(key, None)
            prev2, prev1 = prev1, ev.command
        self.users_ += sign

    def add_user(self, events: Iterable[Event]) -> PopulationModel:
        """Count one user's events (in their time order)."""
        self._apply(events, +1)
        return self

    def subtract_user(self, events: Iterable[Event]) -> PopulationModel:
        """Remove exactly what ``add_user`` added for these events."""
        self._apply(events, -1)
        return self

    def fit(self, sequences: Iterable[Iterable[Event]]) -> PopulationModel:
        self.counts_.clear()
        self.totals_.clear()
        self._tops.clear()
        self.users_ = 0
        for events in sequences:
            self.add_user(events)
        return self.precompute()

    def precompute(self) -> PopulationModel:
        """Sort every context's top commands now, so no request pays for a first sort."""
        for key in self.counts_:
            self.top(key)
        return self

    # -- reading -------------------------------------------------------------------------
    def prob(self, key: str, command: str) -> float:
        row = self.counts_.get(key)
        if not row:
            return 0.0
        return row.get(command, 0) / self.totals_[key]

    def top(self, key: str, k: int = TOP) -> list[str]:
        cached = self._tops.get(key)
        if cached is None:
            row = self.counts_.get(key, {})
            cached = [c for c, _ in heapq.nsmallest(TOP, row.items(), key=_top_key)]
            self._tops[key] = cached
        return cached[:k]

    def commands(self) -> set[str]:
        return set(self.counts_.get("", {}))

    # -- persistence (plain JSON-able data; see model_store) -----------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "population",
            "version": FORMAT_VERSION,
            "users": self.users_,
            "counts": {key: dict(row) for key, row in self.counts_.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> PopulationModel:
        """Rebuild from ``to_dict`` output, rejecting anything else with a clear error."""
        if not isinstance(data, dict) or data.get("format") != "population":
            raise ValueError("not a population model: field 'format' must be 'population'")
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"population model field 'version' must be {FORMAT_VERSION}")
        users = data.get("users")
        if not isinstance(users, int) or users < 0:
            raise ValueError("population model field 'users' must be a non-negative integer")
        counts = data.get("counts")
        if not isinstance(counts, dict):
            raise ValueError("population model field 'counts' must be an object")
        model = cls()
        for key, row in counts.items():
            if not isinstance(key, str) or not isinstance(row, dict):
                raise ValueError(f"population model 'counts' entry {key!r} is malformed")
            clean: dict[str, int] = {}
            for command, n in row.items():
                if not isinstance(command, str) or type(n) is not int or n <= 0:
                    raise ValueError(
                        f"population model count for {key!r}/{command!r} must be a positive int"
                    )
                clean[command] = n
            if clean:
                model.counts_[key] = clean
                model.totals_[key] = sum(clean.values())
        model.users_ = users
        return model.precompute()
