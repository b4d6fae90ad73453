"""Per-user online state and the per-candidate features the learned scorer reads.

Several cheap experts each propose candidates and a score (the user's PPM contexts of
orders 1..6, decayed frequency, recency, the population after the last one or two commands,
the context fields, the command catalogue's groups). The scorer learns how far to trust
each; this module only measures. Every update touches O(1) entries per order, so the cost of
learning or ranking does not grow with the length of a user's history.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

from personalization.predict import frecency
from personalization.predict.base import RankedCounter
from personalization.predict.baselines import blend_scores, count_contexts
from personalization.predict.population import POPULATION_FIELDS, PopulationModel, context_items
from personalization.types import CommandMeta, Context

MAX_ORDER = 6
_FRECENCY_STEP = frecency.growth()
BLEND_CANDIDATES = 8
FRECENCY_CANDIDATES = 3
POPULATION_CANDIDATES = 3
GROUP_CANDIDATES = 5
COLD_EVENTS = 20  # below this many own events, also offer the most popular commands
MAX_CONTEXTS = 6144
"""Sequence contexts kept per person. Past it, the rarest long contexts (seen once, longest
first, oldest first) are dropped down to ``PRUNE_TO``: a person's model must stay small
enough to store after every batch and to cache for thousands of people, and a context of
five commands seen once almost never predicts anything again."""
PRUNE_TO = 4608
USER_CONTEXT_FIELDS = POPULATION_FIELDS
"""Context fields a person's own model counts commands under. Session and task ids are left
out: they are new on every visit, so counting under them would only grow the state."""

FEATURES = (
    "log_blend",
    "blend",
    "p_longest",
    "p_order1",
    "frecency",
    "frequency",
    "log_gap",
    "never_used",
    "log_pop_order2",
    "log_pop_order0",
    "cold_x_log_pop_order1",
    "cold_x_log_blend",
    "user_context",
    "pop_context",
    "same_group",
    "is_last",
)
N_FEATURES = len(FEATURES)


class UserState:
    """Everything the learned model keeps about one user, updated once per command."""

    __slots__ = (
        "history",
        "order0",
        "contexts",
        "context_totals",
        "frecency",
        "frecency_weight",
        "last_seen",
        "clock",
        "context_counts",
    )

    def __init__(self) -> None:
        self.history: deque[str] = deque(maxlen=MAX_ORDER)
        self.order0 = RankedCounter()
        self.contexts: dict[tuple[str, ...], dict[str, int]] = {}
        self.context_totals: dict[tuple[str, ...], int] = {}
        self.frecency = RankedCounter()
        self.frecency_weight = 1.0
        self.last_seen: dict[str, int] = {}
        self.clock = 0
        self.context_counts: dict[str, dict[str, int]] = {}

    def learn(self, command: str, context: Context | None) -> None:
        count_contexts(self.contexts, self.context_totals, tuple(self.history), command)
        self.order0.add(command, 1.0)
        self.frecency_weight = frecency.add_use(
            self.frecency, self.frecency_weight, command, _FRECENCY_STEP
        )
        self.last_seen[command] = self.clock
        self.clock += 1
        for item in context_items(context, USER_CONTEXT_FIELDS):
            row = self.context_counts.setdefault(item, {})
            row[command] = row.get(command, 0) + 1
        self.history.append(command)
        if len(self.contexts) > MAX_CONTEXTS:
            self.prune()

    def prune(self) -> None:
        """Drop contexts seen once, longest first and oldest first within a length, until
        ``PRUNE_TO`` remain (or only contexts of one command or seen more than once are
        left). Deterministic, so a stored state and a replayed one stay identical."""
        excess = len(self.contexts) - PRUNE_TO
        totals = self.context_totals
        for order in range(MAX_ORDER, 1, -1):
            if excess <= 0:
                return
            doomed = [k for k in self.contexts if len(k) == order and totals[k] == 1][:excess]
            for key in doomed:
                del self.contexts[key]
                del totals[key]
            excess -= len(doomed)


class FeatureBuilder:
    """Turns (user state, context) into candidates and their feature rows."""

    def __init__(
        self,
        population: PopulationModel | None = None,
        commands: tuple[CommandMeta, ...] = (),
    ) -> None:
        self.population = population
        self.commands = commands
        self.group_of = {meta.id: meta.group for meta in commands if meta.group}
        self.by_group: dict[str, list[str]] = {}
        for meta in commands:
            if meta.group:
                self.by_group.setdefault(meta.group, []).append(meta.id)
        self.population_commands = population.commands() if population is not None else set()
        self.first_commands = {meta.id for meta in commands[:10]}

    def may_rank(self, state: UserState | None, wanted: set[str]) -> bool:
        """Whether any of ``wanted`` can be among this person's candidates now (False
        means each has probability 0): a cheap check that spares a full ranking when the
        answer cannot matter, e.g. task triggers a web visitor never comes near."""
        if not wanted:
            return False
        if state is not None and not wanted.isdisjoint(state.order0.value):
            return True
        if not wanted.isdisjoint(self.population_commands):
            return True
        last = state.history[-1] if state is not None and state.history else None
        group = self.group_of.get(last) if last is not None else None
        if group and not wanted.isdisjoint(self.by_group[group][:GROUP_CANDIDATES]):
            return True
        # the catalogue's first commands stand in when nothing else proposes candidates
        nothing_else = (state is None or state.order0.total <= 0) and not self.population_commands
        return nothing_else and not wanted.isdisjoint(self.first_commands)

    def candidates(
        self, state: UserState | None, context: Context | None
    ) -> tuple[list[str], list[list[float]]]:
        pop = self.population
        hist: tuple[str, ...] = tuple(state.history) if state is not None else ()
        blend: dict[str, float] = {}
        rows: list[dict[str, int]] = []
        row_totals: list[int] = []
        if state is not None and state.order0.total > 0:
            blend = blend_scores(state.order0, state.contexts, state.context_totals, hist, 10)
            for k in range(1, len(hist) + 1):
                key = hist[-k:]
                row = state.contexts.get(key)
                if row is None:
                    break
                rows.append(row)
                row_totals.append(state.context_totals[key])
        cands: dict[str, None] = {}
        if len(blend) > BLEND_CANDIDATES:
            for c in heapq.nlargest(BLEND_CANDIDATES, blend, key=blend.__getitem__):
                cands[c] = None
        else:
            for c in blend:
                cands[c] = None
        if state is not None:
            for c in state.frecency.top(FRECENCY_CANDIDATES):
                cands[c] = None
        pop_keys: list[str] = []
        ctx_items = context_items(context, USER_CONTEXT_FIELDS)
        if pop is not None:
            key1 = "1|" + hist[-1] if hist else ""
            key2 = f"2|{hist[-2]}|{hist[-1]}" if len(hist) >= 2 else ""
            pop_keys = [key2, key1, ""]
            for key in pop_keys:
                if key or not hist:
                    for c in pop.top(key, POPULATION_CANDIDATES):
                        cands[c] = None
            if state is None or state.clock < COLD_EVENTS:
                for c in pop.top("", 3):
                    cands[c] = None
            for item in ctx_items:
                for c in pop.top("c|" + item, 3):
                    cands[c] = None
        last_group = self.group_of.get(hist[-1]) if hist else None
        if last_group:
            for c in self.by_group[last_group][:GROUP_CANDIDATES]:
                cands[c] = None
        if not cands:
            for meta in self.commands[:10]:
                cands[meta.id] = None
        names = list(cands)
        return names, self._rows(
            names, state, hist, blend, rows, row_totals, pop_keys, ctx_items, last_group
        )

    def _rows(
        self,
        names: list[str],
        state: UserState | None,
        hist: tuple[str, ...],
        blend: dict[str, float],
        rows: list[dict[str, int]],
        row_totals: list[int],
        pop_keys: list[str],
        ctx_items: list[str],
        last_group: str | None,
    ) -> list[list[float]]:
        pop = self.population
        n_user = state.order0.total if state is not None else 0.0
        cold = 1.0 / (1.0 + n_user / 50.0)
        longest = rows[-1] if rows else None
        longest_n = row_totals[-1] if rows else 0
        row1 = rows[0] if rows else None
        row1_n = row_totals[0] if rows else 0
        frec_total = state.frecency.total if state is not None else 0.0
        order0 = state.order0.value if state is not None else {}
        frec = state.frecency.value if state is not None else {}
        last_seen = state.last_seen if state is not None else {}
        clock = state.clock if state is not None else 0
        user_ctx_rows = []
        if state is not None:
            for item in ctx_items:
                row = state.context_counts.get(item)
                if row:
                    user_ctx_rows.append((row, sum(row.values())))
        last = hist[-1] if hist else None
        key2, key1 = (pop_keys[0], pop_keys[1]) if pop_keys else ("", "")
        empty: dict[str, int] = {}
        if pop is not None:
            pop_rows = [
                (pop.counts_.get(key, empty), pop.totals_.get(key, 1)) for key in (key1, key2, "")
            ]
            pop_ctx_rows = [
                (pop.counts_.get("c|" + item, empty), pop.totals_.get("c|" + item, 1))
                for item in ctx_items
            ]
        else:
            pop_rows = [(empty, 1)] * 3
            pop_ctx_rows = []
        (r1, t1), (r2, t2), (r0, t0) = pop_rows
        if not key1:
            r1 = empty
        if not key2:
            r2 = empty
        log = math.log
        log1p = math.log1p
        longest_get = longest.get if longest is not None else empty.get
        row1_get = row1.get if row1 is not None else empty.get
        group_of = self.group_of
        out: list[list[float]] = []
        for c in names:
            b = blend.get(c, 0.0)
            seen = last_seen.get(c)
            lb = log(b + 1e-5)
            out.append(
                [
                    lb,
                    b,
                    longest_get(c, 0) / longest_n if longest_n else 0.0,
                    row1_get(c, 0) / row1_n if row1_n else 0.0,
                    frec.get(c, 0.0) / frec_total if frec_total else 0.0,
                    order0.get(c, 0.0) / n_user if n_user else 0.0,
                    log1p(clock - seen) / 8.0 if seen is not None else 1.5,
                    0.0 if seen is not None else 1.0,
                    log(r2.get(c, 0) / t2 + 1e-4),
                    log(r0.get(c, 0) / t0 + 1e-4),
                    cold * log(r1.get(c, 0) / t1 + 1e-4),
                    cold * lb,
                    max([row.get(c, 0) / tot for row, tot in user_ctx_rows])
                    if user_ctx_rows
                    else 0.0,
                    max([row.get(c, 0) / tot for row, tot in pop_ctx_rows])
                    if pop_ctx_rows
                    else 0.0,
                    1.0 if last_group and group_of.get(c) == last_group else 0.0,
                    1.0 if c == last else 0.0,
                ]
            )
        return out
