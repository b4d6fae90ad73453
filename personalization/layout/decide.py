"""The layout decision: a pure function from (registry, policy, predictions, profile,
previous layout) to where every item goes, whether it is visible, and why.

Lessons behind the shape (``python -m personalization.simulate`` measures them; the README
has the numbers): moving things costs people their spatial memory, so adaptation happens
inside a bounded "suggested" zone (split menus) and every update starts from the *previous*
layout and may make at most ``policy.max_moves`` moves. A challenger only displaces
something already on screen when it beats it by ``policy.hysteresis``, which stops flicker
between two near-equal guesses. Items are replaced in place, so nothing else shifts.

Rules that always hold:

* designer pins sit at their index in ``default_order`` in every layout;
* every member is in the layout exactly once; anything not visible is listed in ``overflow``
  ("More" and the command palette), so hidden never means unreachable;
* model-driven moves per update are ``<= policy.max_moves`` (``moves - forced_moves``); forced
  moves come only from user controls or a changed registry, which must show at once;
* ``interacting=True`` returns the previous layout object unchanged;
* personalization level ``off`` gives exactly the designer default;
* same inputs, same layout (exploration uses a hash of user, region and update counter).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from personalization.layout.reasons import Reason, sentence
from personalization.profile import Level, UserProfile
from personalization.registry import ApplyOn, Region, Registry
from personalization.types import Prediction

PINNED, SUGGESTED, STATIC, OVERFLOW = "pinned", "suggested", "static", "overflow"
_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class LayoutItem:
    command: str
    position: int  # slot index when visible; visible slots first, then overflow order
    visible: bool
    zone: str  # "pinned" | "suggested" | "static" | "overflow"
    reason: Reason
    probability: float | None = None
    sentence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "position": self.position,
            "visible": self.visible,
            "zone": self.zone,
            "reason": str(self.reason),
            "probability": self.probability,
            "sentence": self.sentence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayoutItem:
        return cls(
            command=str(data["command"]),
            position=int(data["position"]),
            visible=bool(data["visible"]),
            zone=str(data["zone"]),
            reason=Reason(data["reason"]),
            probability=data.get("probability"),
            sentence=str(data.get("sentence", "")),
        )


@dataclass(frozen=True, slots=True)
class Layout:
    region: str
    items: tuple[LayoutItem, ...]
    overflow: tuple[str, ...]
    slots: int  # number of visible slots
    moves: int = 0  # items whose visible slot changed, or that entered/left the visible slots
    forced_moves: int = 0  # of those, moves forced by user controls / registry changes
    update_counter: int = 0
    level: Level = Level.FULL
    registry_version: int = 0

    @property
    def visible(self) -> tuple[str, ...]:
        """Visible commands in slot order."""
        return tuple(i.command for i in sorted(self.items, key=_pos) if i.visible)

    def assignment(self) -> list[str | None]:
        """Slot index -> command (``None`` for an empty slot)."""
        out: list[str | None] = [None] * self.slots
        for item in self.items:
            if item.visible and item.position < self.slots:
                out[item.position] = item.command
        return out

    def item(self, command: str) -> LayoutItem | None:
        return next((i for i in self.items if i.command == command), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "items": [i.to_dict() for i in self.items],
            "overflow": list(self.overflow),
            "slots": self.slots,
            "moves": self.moves,
            "forced_moves": self.forced_moves,
            "update_counter": self.update_counter,
            "level": str(self.level),
            "registry_version": self.registry_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        return cls(
            region=str(data["region"]),
            items=tuple(LayoutItem.from_dict(i) for i in data["items"]),
            overflow=tuple(data["overflow"]),
            slots=int(data["slots"]),
            moves=int(data.get("moves", 0)),
            forced_moves=int(data.get("forced_moves", 0)),
            update_counter=int(data.get("update_counter", 0)),
            level=Level(data.get("level", "full")),
            registry_version=int(data.get("registry_version", 0)),
        )


def _pos(item: LayoutItem) -> int:
    return item.position


def decide_layout(
    *,
    registry: Registry,
    region_id: str,
    predictions: Sequence[Prediction],
    profile: UserProfile,
    previous: Layout | None = None,
    interacting: bool = False,
    update_counter: int = 0,
    moment: ApplyOn = ApplyOn.PAGE_LOAD,
    now: float | None = None,
) -> Layout:
    """Lay out one region of ``registry`` for one person (see the module docstring).

    ``moment`` says why we are re-deciding; if the region's policy does not allow changes at
    that moment only forced changes (user controls) are applied. ``now`` (seconds) drives
    "unused for N days"; by default the profile's latest use, which keeps this pure.
    """
    return decide_region_layout(
        region=registry.region(region_id),
        predictions=predictions,
        profile=profile,
        previous=previous,
        interacting=interacting,
        update_counter=update_counter,
        moment=moment,
        now=now,
        label=registry.label,
        registry_version=registry.version,
    )


def decide_region_layout(
    *,
    region: Region,
    predictions: Sequence[Prediction],
    profile: UserProfile,
    previous: Layout | None = None,
    interacting: bool = False,
    update_counter: int = 0,
    moment: ApplyOn = ApplyOn.PAGE_LOAD,
    now: float | None = None,
    label: Callable[[str], str] = str,
    registry_version: int = 0,
    explain: bool = True,
) -> Layout:
    """:func:`decide_layout` for a bare region. ``explain=False`` skips sentences and
    overflow item records (``overflow`` is still listed) for fast replays."""
    if interacting and previous is not None:
        return previous
    if previous is not None and (previous.region != region.id):
        previous = None
    planner = _Planner(region, predictions, profile, update_counter, now)
    if profile.level is Level.OFF:
        planner.use_default()
    else:
        budget = region.policy.max_moves if moment in region.policy.apply_on else 0
        planner.evolve(previous, budget)
    return planner.result(previous, label, registry_version, explain)


class _Planner:
    """Working state of one decision; split into steps so each rule is readable."""

    def __init__(
        self,
        region: Region,
        predictions: Sequence[Prediction],
        profile: UserProfile,
        update_counter: int,
        now: float | None,
    ) -> None:
        pol = region.policy
        self.region, self.pol, self.profile = region, pol, profile
        self.update_counter = update_counter
        self.n = pol.visible
        self.order = {c: i for i, c in enumerate(pol.default_order)}
        self.fixed = {self.order[c]: c for c in pol.pinned if self.order.get(c, self.n) < self.n}
        self.designer_pins = set(self.fixed.values())
        self.prob: dict[str, float] = {}
        self.model_reason: dict[str, str] = {}
        for p in predictions:
            if p.command in self.order and p.command not in self.prob:
                self.prob[p.command] = p.probability
                self.model_reason[p.command] = p.reason
        protected = self.designer_pins | set(pol.never_hide)
        self.user_pins = [
            c for c in profile.pinned_in(region.id) if c in self.order and c not in self.fixed
        ]
        user_pin_set = set(self.user_pins)
        self.user_hidden = [
            c
            for c in profile.hidden_in(region.id)
            if c in self.order and c not in protected and c not in user_pin_set
        ]
        self.auto_hidden: dict[str, float | None] = {}
        if profile.level is Level.FULL:
            self._find_unused(now, protected | user_pin_set | set(self.user_hidden))
        self.blocked = self.designer_pins | set(self.user_hidden) | set(self.auto_hidden)
        free = [i for i in range(self.n) if i not in self.fixed]
        n_sugg = min(pol.suggested_slots, len(free)) if profile.level is not Level.OFF else 0
        if pol.suggested_first:
            self.sugg_slots, self.static_slots = free[:n_sugg], free[n_sugg:]
        else:
            self.static_slots = free[: len(free) - n_sugg]
            self.sugg_slots = free[len(free) - n_sugg :]
        self.cur: list[str | None] = [None] * self.n
        self.forced = 0
        self.all_forced = False
        self.emptied: set[int] = set()  # slots a forced removal emptied in this decision
        self._static: list[str] | None = None
        self.explored: str | None = None

    # ------------------------------------------------------------------ rules

    def _find_unused(self, now: float | None, keep: set[str]) -> None:
        pol, prof = self.pol, self.profile
        if pol.hide_unused_after_days is None and pol.hide_below_probability is None:
            return
        if prof.first_seen is None:
            return  # a new person: nothing is "unused" yet
        if now is None:
            now = max(prof.last_used.values(), default=prof.first_seen)
        for c in self.order:
            if c in keep or self.prob.get(c, 0.0) >= pol.min_confidence:
                continue
            if pol.hide_unused_after_days is not None:
                since = max(prof.last_used.get(c, prof.first_seen), prof.first_seen)
                if now - since <= pol.hide_unused_after_days * _DAY:
                    continue
            if (
                pol.hide_below_probability is not None
                and self.prob.get(c, 0.0) >= pol.hide_below_probability
            ):
                continue
            self.auto_hidden[c] = pol.hide_unused_after_days

    def _static_key(self, c: str) -> tuple[int, int]:
        if self.profile.level is Level.FULL:
            return (-self.profile.counts.get(c, 0), self.order[c])
        return (0, self.order[c])

    def _static_order(self) -> list[str]:
        """Designer order (``subtle``), or most used first with designer order breaking ties
        (``full``: a stable sort of items already in designer order). Computed once."""
        if self._static is None:
            pins = set(self.user_pins)
            items = [c for c in self.order if c not in self.blocked and c not in pins]
            if self.profile.level is Level.FULL:
                counts = self.profile.counts
                items.sort(key=lambda c: -counts.get(c, 0))
            self._static = items
        return self._static

    def use_default(self) -> None:
        for c, i in self.order.items():
            if i < self.n:
                self.cur[i] = c

    def evolve(self, previous: Layout | None, budget: int) -> None:
        if previous is None or previous.slots != self.n or previous.level != self.profile.level:
            # First paint, a resized region or a new personalization level: start from the
            # designer default. A change the person asked for (or a designer's) shows at once.
            self.use_default()
            budget = 10**9
            self.all_forced = previous is not None
        else:
            self.cur = previous.assignment()
        self._force_legal()
        self._place_designer_pins()
        self._place_user_pins()
        static_order = self._static_order()
        budget = self._fill(self.static_slots, static_order, budget)
        budget = self._suggest(budget)
        budget = self._explore(budget, static_order)
        if self.profile.level is Level.FULL:
            budget = self._hide_unused(budget, static_order)
            budget = self._rebalance_static(budget, static_order)
        self._fill(self.sugg_slots + self.static_slots, static_order, budget)

    def _force_legal(self) -> None:
        """Remove what may no longer be shown here (a user hid it, the registry changed)."""
        hidden = set(self.user_hidden)
        seen: set[str] = set()
        for i, c in enumerate(self.cur):
            if c is None:
                continue
            wrong_pin_slot = (i in self.fixed and self.fixed[i] != c) or (
                c in self.designer_pins and self.fixed.get(i) != c
            )
            if c not in self.order or c in hidden or wrong_pin_slot or c in seen:
                self.cur[i] = None
                self.emptied.add(i)
                self.forced += 1
            seen.add(c)

    def _place_designer_pins(self) -> None:
        for i, c in self.fixed.items():
            if self.cur[i] != c:
                self.forced += 1 + (self.cur[i] is not None)
                self.cur[i] = c

    def _place_user_pins(self) -> None:
        visible = set(self.cur)
        pins = set(self.user_pins)
        for c in self.user_pins:
            if c in visible:
                continue
            slot = self._weakest(self.static_slots + self.sugg_slots, avoid=pins, static=True)
            if slot is None:
                continue  # more pins than slots: the rest stay under More
            self.forced += 1 + (self.cur[slot] is not None)
            self.cur[slot] = c
            visible.add(c)

    def _weakest(self, slots: list[int], *, avoid: set[str], static: bool) -> int | None:
        """The slot whose occupant matters least (empty slots first)."""
        best, best_key = None, None
        for i in slots:
            c = self.cur[i]
            if c in avoid:
                continue
            if c is None:
                key: tuple[float, ...] = (float("-inf"),)
            elif static:
                count, idx = self._static_key(c)
                key = (float(-count), float(-idx))
            else:
                key = (self.prob.get(c, 0.0), float(-self.order.get(c, 0)))
            if best_key is None or key < best_key:
                best, best_key = i, key
        return best

    def _fill(self, slots: list[int], static_order: list[str], budget: int) -> int:
        """Empty slots take the next items in static order. Filling a gap that a forced
        removal just made is forced too; filling an old gap is a model move like any other."""
        empty = [i for i in slots if self.cur[i] is None]
        if not empty:
            return budget
        visible = set(self.cur)
        rest = (c for c in static_order if c not in visible)
        for i in sorted(empty):
            forced = i in self.emptied
            if not forced and budget < 1:
                continue
            nxt = next(rest, None)
            if nxt is None:
                break
            self.cur[i] = nxt
            if forced:
                self.forced += 1
            else:
                budget -= 1
        return budget

    def _suggest(self, budget: int) -> int:
        pol = self.pol
        if not self.sugg_slots:
            return budget
        visible = set(self.cur)
        pins = set(self.user_pins)
        cands = sorted(
            (
                c
                for c, p in self.prob.items()
                if p >= pol.min_confidence
                and c not in visible
                and c not in self.blocked
                and c not in pins
            ),
            key=lambda c: (-self.prob[c], self.order[c]),
        )
        for c in cands[: len(self.sugg_slots)]:
            slot = self._weakest(self.sugg_slots, avoid=pins, static=False)
            if slot is None:
                break
            occupant = self.cur[slot]
            if occupant is not None and self.prob[c] <= self.prob.get(occupant, 0.0) + (
                pol.hysteresis
            ):
                break  # candidates are sorted: no later one can win either
            cost = 1 + (occupant is not None)
            if cost > budget:
                break
            self.cur[slot] = c
            budget -= cost
        return budget

    def _explore(self, budget: int, static_order: list[str]) -> int:
        rate = self.pol.exploration_rate
        if rate <= 0 or not self.sugg_slots or budget < 2:
            return budget
        key = f"{self.profile.user_id}|{self.region.id}|{self.update_counter}"
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        if int.from_bytes(digest[:8]) / 2.0**64 >= rate:
            return budget
        visible = set(self.cur)
        pool = [c for c in static_order if c not in visible]
        if not pool:
            return budget
        choice = pool[int.from_bytes(digest[8:]) % len(pool)]
        slot = self._weakest(self.sugg_slots, avoid=set(self.user_pins), static=False)
        if slot is None:
            return budget
        cost = 1 + (self.cur[slot] is not None)
        self.cur[slot] = choice
        self.explored = choice
        return budget - cost

    def _hide_unused(self, budget: int, static_order: list[str]) -> int:
        """Full level: a long-unused item on screen gives its slot to the next item."""
        for i in self.static_slots + self.sugg_slots:
            c = self.cur[i]
            if c is None or c not in self.auto_hidden or budget < 1:
                continue
            visible = set(self.cur)
            nxt = next((x for x in static_order if x not in visible), None)
            cost = 1 + (nxt is not None)
            if cost > budget:
                break
            self.cur[i] = nxt
            budget -= cost
        return budget

    def _rebalance_static(self, budget: int, static_order: list[str]) -> int:
        """Full level: a much more used item replaces the least used static one, in place."""
        visible = set(self.cur)
        pins = set(self.user_pins)
        counts = self.profile.counts
        for c in static_order:
            if budget < 1:
                break
            if c in visible:
                continue
            slot = self._weakest(self.static_slots, avoid=pins, static=True)
            if slot is None:
                break
            occupant = self.cur[slot]
            if occupant is not None:
                mine, theirs = counts.get(c, 0), counts.get(occupant, 0)
                if mine <= theirs * (1 + self.pol.hysteresis) + 1:
                    break  # sorted by use: no later item can win either
            cost = 1 + (occupant is not None)
            if cost > budget:
                break
            self.cur[slot] = c
            visible.add(c)
            visible.discard(occupant)
            budget -= cost
        return budget

    # ------------------------------------------------------------------ output

    def result(
        self,
        previous: Layout | None,
        label: Callable[[str], str],
        registry_version: int,
        explain: bool,
    ) -> Layout:
        moves = count_moves(previous.assignment(), self.cur) if previous is not None else 0
        forced = min(self.forced, moves) if previous is not None else 0
        if self.profile.level is Level.OFF or self.all_forced:
            forced = moves  # the person's own choice, or a changed registry
        items: list[LayoutItem] = []
        visible = set()
        for i, c in enumerate(self.cur):
            if c is None:
                continue
            visible.add(c)
            zone, reason = self._visible_reason(i, c)
            items.append(self._item(c, i, True, zone, reason, label, explain))
        overflow = [c for c in self._static_order() if c not in visible]
        overflow += [c for c in self.user_pins if c not in visible]
        overflow += [c for c in self.auto_hidden if c not in visible]
        overflow += [c for c in self.user_hidden if c not in visible]
        if self.profile.level is Level.OFF:
            overflow = [c for c in self.order if c not in visible]
        if explain:
            hidden = set(self.user_hidden)
            for k, c in enumerate(overflow):
                if self.profile.level is not Level.OFF and c in hidden:
                    reason = Reason.USER_HIDDEN
                elif self.profile.level is not Level.OFF and c in self.auto_hidden:
                    reason = Reason.HIDDEN_UNUSED
                else:
                    reason = Reason.OVERFLOW
                items.append(self._item(c, self.n + k, False, OVERFLOW, reason, label, True))
        return Layout(
            region=self.region.id,
            items=tuple(items),
            overflow=tuple(overflow),
            slots=self.n,
            moves=moves,
            forced_moves=forced,
            update_counter=self.update_counter,
            level=self.profile.level,
            registry_version=registry_version,
        )

    def _visible_reason(self, i: int, c: str) -> tuple[str, Reason]:
        if i in self.fixed:
            return PINNED, Reason.PINNED
        if self.profile.level is Level.OFF:
            return STATIC, Reason.DEFAULT
        if c in self.user_pins:
            return PINNED, Reason.USER_PINNED
        if c == self.explored:
            return SUGGESTED, Reason.EXPLORATION
        if i in self.sugg_slots and self.prob.get(c, 0.0) > 0 and self.order[c] != i:
            return SUGGESTED, Reason.PREDICTED
        if self.profile.level is Level.FULL and self.order[c] != i:
            if self.profile.counts.get(c, 0) > 0:
                return STATIC, Reason.FREQUENT
            if c in self.profile.last_used:
                return STATIC, Reason.RECENT
        return STATIC, Reason.DEFAULT

    def _item(
        self,
        c: str,
        position: int,
        visible: bool,
        zone: str,
        reason: Reason,
        label: Callable[[str], str],
        explain: bool,
    ) -> LayoutItem:
        text = ""
        if explain:
            last = self.profile.last_command
            text = sentence(
                reason,
                label=label(c),
                probability=self.prob.get(c),
                model_reason=self.model_reason.get(c),
                after_label=label(last) if last else None,
                count=self.profile.counts.get(c, 0),
                days=self.auto_hidden.get(c),
                personalization_off=self.profile.level is Level.OFF,
            )
        return LayoutItem(c, position, visible, zone, reason, self.prob.get(c), text)


def count_moves(before: Sequence[str | None], after: Sequence[str | None]) -> int:
    """Items whose visible slot changed or that entered/left the visible slots, between two
    slot assignments. The one churn measure: a layout's ``moves``, the live churn counters
    and the simulator's policies (which are not all layouts) all count with it."""
    old = {c: i for i, c in enumerate(before) if c is not None}
    new = {c: i for i, c in enumerate(after) if c is not None}
    changed = sum(1 for c, i in new.items() if old.get(c) != i)
    return changed + sum(1 for c in old if c not in new)


def moves_between(before: Layout, after: Layout) -> int:
    """The churn measure used by the simulation and the benchmarks."""
    return count_moves(before.assignment(), after.assignment())
