"""Ephemeral task panels: short-lived helpers that appear when a task starts and go away once
it is done.

People accept a temporary panel only if it never vanishes under their hands, closes with Esc,
can be re-opened, can be pinned to stay, and does not nag. So: interaction resets the idle
timer; ``close`` keeps the panel re-openable for the session; ``dismiss`` is negative feedback
(each dismissal raises the probability a trigger needs, and enough of them suppress it);
cooldown and a daily cap bound how often a task is offered.

State machine (every other action raises :class:`PanelTransitionError`)::

    action     from                                  to
    suggest    (none, or a terminal state)           suggested
    open       suggested                             open
    interact   open / in_progress / pinned           in_progress (pinned stays pinned)
    observe    open / in_progress / pinned           in_progress; completed when all done
    pin        open / in_progress                    pinned (never expires)
    unpin      pinned                                open / in_progress
    close/Esc  open / in_progress / pinned           closed (re-openable this session)
    close      completed                             dissolved
    reopen     closed                                open / in_progress (progress kept)
    dismiss    suggested / open / closed             dismissed (negative feedback)
    dissolve   completed                             dissolved
    tick       suggested / open / in_progress idle   expired;  completed -> dissolved

Time comes from an injectable ``clock`` (seconds) so tests control it. Methods return the
:class:`~personalization.types.Event` records the caller should store; this module never
touches the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from personalization.errors import PanelTransitionError
from personalization.registry import Registry, Task
from personalization.types import Context, Event, EventKind, Prediction

DAY = 86400.0
DISSOLVE_AFTER_S = 3.0  # a completed panel lingers briefly so the person sees it finish
THRESHOLD_STEP = 0.1  # each dismissal raises a probability trigger by this much


class PanelState(StrEnum):
    SUGGESTED = "suggested"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DISSOLVED = "dissolved"
    DISMISSED = "dismissed"
    EXPIRED = "expired"
    PINNED = "pinned"
    CLOSED = "closed"


TERMINAL = frozenset({PanelState.DISSOLVED, PanelState.DISMISSED, PanelState.EXPIRED})
ACTIVE = frozenset({PanelState.OPEN, PanelState.IN_PROGRESS, PanelState.PINNED})


@dataclass(slots=True)
class Panel:
    task_id: str
    state: PanelState
    suggested_at: float
    last_activity: float
    done: list[str] = field(default_factory=list)  # completion commands seen so far
    completed_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "state": self.state.value,
            "suggested_at": self.suggested_at,
            "last_activity": self.last_activity,
            "done": list(self.done),
            "completed_at": self.completed_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Panel:
        return cls(
            task_id=str(data["task_id"]),
            state=PanelState(data["state"]),
            suggested_at=float(data["suggested_at"]),
            last_activity=float(data["last_activity"]),
            done=list(data.get("done", [])),
            completed_at=data.get("completed_at"),
        )


def task_start_command(task: Task) -> str | None:
    """The command whose probability says ``task`` is starting: its trigger command, or its
    first command step when the trigger names none."""
    return task.trigger.command or next((s.ref for s in task.steps if s.kind == "command"), None)


def task_start_probability(task: Task, predictions: Sequence[Prediction]) -> float:
    """The model's probability that ``task`` starts next (see ``task_start_command``)."""
    first = task_start_command(task)
    return next((p.probability for p in predictions if p.command == first), 0.0)


class TaskPanels:
    """One person's task panels within one session (plus the history that limits offers)."""

    def __init__(
        self,
        *,
        registry: Registry,
        user_id: str,
        session_id: str | None = None,
        clock: Callable[[], float] = time.time,
        dismissals: Mapping[str, int] | None = None,
    ) -> None:
        self.registry = registry
        self.user_id = user_id
        self.session_id = session_id
        self.clock = clock
        self.dismissals: dict[str, int] = dict(dismissals or {})
        self.panels: dict[str, Panel] = {}
        self.offers: dict[str, list[float]] = {}  # task id -> times it was suggested
        self.ended_at: dict[str, float] = {}  # task id -> when its last panel ended

    # ------------------------------------------------------------------ offering

    def threshold(self, task: Task) -> float | None:
        """The probability a trigger needs now; dismissals raise it (negative feedback)."""
        if task.trigger.probability is None:
            return None
        raised = task.trigger.probability + THRESHOLD_STEP * self.dismissals.get(task.id, 0)
        return min(1.0, raised)

    def why_not(self, task_id: str) -> str | None:
        """Why ``task_id`` cannot be offered now (``None`` if it can)."""
        task = self.registry.task(task_id)
        now = self.clock()
        panel = self.panels.get(task_id)
        if panel is not None and panel.state not in TERMINAL:
            return f"a panel for it is already {panel.state.value}"
        if self.dismissals.get(task_id, 0) >= task.suppress_after_dismissals:
            return f"dismissed {self.dismissals[task_id]} times"
        ended = self.ended_at.get(task_id)
        if ended is not None and now - ended < task.cooldown_s:
            return f"cooling down for {task.cooldown_s - (now - ended):.0f} more seconds"
        today = int(now // DAY)
        offered_today = sum(1 for t in self.offers.get(task_id, []) if int(t // DAY) == today)
        if offered_today >= task.max_per_day:
            return f"already offered {offered_today} times today (cap {task.max_per_day})"
        return None

    def consider(
        self,
        *,
        command: str | None = None,
        predictions: Sequence[Prediction] = (),
    ) -> list[Event]:
        """After ``command`` ran (or with fresh ``predictions``), suggest every task whose
        trigger fires and that is allowed now. Returns the events to record."""
        events: list[Event] = []
        for task in self.registry.tasks:
            fired = command is not None and command == task.trigger.command
            threshold = self.threshold(task)
            if not fired and threshold is not None and predictions:
                fired = task_start_probability(task, predictions) >= threshold
            if fired and self.why_not(task.id) is None:
                events.extend(self.suggest(task.id))
        return events

    def suggest(self, task_id: str) -> list[Event]:
        """Offer a panel now, regardless of triggers (limits still apply)."""
        reason = self.why_not(task_id)
        if reason is not None:
            raise PanelTransitionError(task_id, self.state(task_id), "suggest", reason)
        now = self.clock()
        self.panels[task_id] = Panel(task_id, PanelState.SUGGESTED, now, now)
        self.offers.setdefault(task_id, []).append(now)
        return [self._event(task_id, EventKind.PANEL_SUGGESTED)]

    # ------------------------------------------------------------------ transitions

    def open(self, task_id: str) -> list[Event]:
        panel = self._require(task_id, "open", {PanelState.SUGGESTED})
        panel.state = PanelState.OPEN
        panel.last_activity = self.clock()
        return [self._event(task_id, EventKind.PANEL_OPENED)]

    def interact(self, task_id: str) -> list[Event]:
        """The person is using the panel: it starts (or stays) in progress, idle timer reset."""
        panel = self._require(task_id, "interact with", set(ACTIVE))
        if panel.state is PanelState.OPEN:
            panel.state = PanelState.IN_PROGRESS
        panel.last_activity = self.clock()
        return []

    def observe(self, command: str) -> list[Event]:
        """A command ran somewhere: advance every active panel it belongs to."""
        events: list[Event] = []
        now = self.clock()
        for panel in self.panels.values():
            if panel.state not in ACTIVE:
                continue
            task = self.registry.task(panel.task_id)
            is_step = any(s.ref == command for s in task.steps) or command in task.completion
            if not is_step:
                continue
            panel.last_activity = now
            if panel.state is PanelState.OPEN:
                panel.state = PanelState.IN_PROGRESS
            if command in task.completion and command not in panel.done:
                panel.done.append(command)
            if all(c in panel.done for c in task.completion):
                events.extend(self._complete(panel))
        return events

    def _complete(self, panel: Panel) -> list[Event]:
        now = self.clock()
        event = self._event(panel.task_id, EventKind.PANEL_COMPLETED)
        if panel.state is PanelState.PINNED:
            panel.done = []  # a pinned panel stays, ready for the next round
            return [event]
        panel.state = PanelState.COMPLETED
        panel.completed_at = now
        self.ended_at[panel.task_id] = now
        return [event]

    def pin(self, task_id: str) -> list[Event]:
        panel = self._require(task_id, "pin", {PanelState.OPEN, PanelState.IN_PROGRESS})
        panel.state = PanelState.PINNED
        panel.last_activity = self.clock()
        return []

    def unpin(self, task_id: str) -> list[Event]:
        panel = self._require(task_id, "unpin", {PanelState.PINNED})
        panel.state = PanelState.IN_PROGRESS if panel.done else PanelState.OPEN
        panel.last_activity = self.clock()
        return []

    def close(self, task_id: str) -> list[Event]:
        """Esc or the close button: hidden, but re-openable for the rest of the session."""
        panel = self._require(task_id, "close", set(ACTIVE) | {PanelState.COMPLETED})
        if panel.state is PanelState.COMPLETED:
            panel.state = PanelState.DISSOLVED
            return []
        panel.state = PanelState.CLOSED
        self.ended_at[task_id] = self.clock()
        return []

    escape = close

    def reopen(self, task_id: str) -> list[Event]:
        panel = self._require(task_id, "reopen", {PanelState.CLOSED})
        panel.state = PanelState.IN_PROGRESS if panel.done else PanelState.OPEN
        panel.last_activity = self.clock()
        return [self._event(task_id, EventKind.PANEL_OPENED)]

    def dismiss(self, task_id: str) -> list[Event]:
        """ "Not now": ends the panel and counts against the trigger."""
        allowed = {PanelState.SUGGESTED, PanelState.OPEN, PanelState.CLOSED}
        panel = self._require(task_id, "dismiss", allowed)
        panel.state = PanelState.DISMISSED
        self.ended_at[task_id] = self.clock()
        self.dismissals[task_id] = self.dismissals.get(task_id, 0) + 1
        return [self._event(task_id, EventKind.PANEL_DISMISSED)]

    def dissolve(self, task_id: str) -> list[Event]:
        panel = self._require(task_id, "dissolve", {PanelState.COMPLETED})
        panel.state = PanelState.DISSOLVED
        return []

    def tick(self, *, interacting: bool | Iterable[str] = False) -> list[Event]:
        """Advance time: idle panels expire, completed ones dissolve. ``interacting`` (all
        panels, or the ids being used) counts as activity, so nothing closes under a hand."""
        now = self.clock()
        events: list[Event] = []
        if isinstance(interacting, bool):
            busy = set(self.panels) if interacting else set()
        else:
            busy = set(interacting)
        for panel in self.panels.values():
            if panel.task_id in busy and panel.state in ACTIVE | {PanelState.SUGGESTED}:
                panel.last_activity = now
                continue
            task = self.registry.task(panel.task_id)
            idle = now - panel.last_activity
            if panel.state in {PanelState.SUGGESTED, PanelState.OPEN, PanelState.IN_PROGRESS}:
                if idle >= task.idle_timeout_s:
                    panel.state = PanelState.EXPIRED
                    self.ended_at[panel.task_id] = now
                    events.append(self._event(panel.task_id, EventKind.PANEL_EXPIRED))
            elif (
                panel.state is PanelState.COMPLETED
                and panel.completed_at is not None
                and now - panel.completed_at >= DISSOLVE_AFTER_S
            ):
                panel.state = PanelState.DISSOLVED
        return events

    # ------------------------------------------------------------------ helpers

    def state(self, task_id: str) -> PanelState | None:
        panel = self.panels.get(task_id)
        return panel.state if panel is not None else None

    def visible(self) -> list[Panel]:
        """Panels to draw now (suggestions included), in the order they were offered."""
        shown = ACTIVE | {PanelState.SUGGESTED, PanelState.COMPLETED}
        return sorted((p for p in self.panels.values() if p.state in shown), key=_offered)

    def _require(self, task_id: str, action: str, allowed: set[PanelState]) -> Panel:
        self.registry.task(task_id)  # unknown task -> UnknownTask naming it
        panel = self.panels.get(task_id)
        if panel is None:
            raise PanelTransitionError(task_id, None, action)
        if panel.state not in allowed:
            raise PanelTransitionError(task_id, panel.state, action)
        return panel

    def _event(self, task_id: str, kind: EventKind) -> Event:
        return Event(
            user_id=self.user_id,
            command=task_id,
            timestamp=self.clock(),
            context=Context(session_id=self.session_id, task_id=task_id),
            kind=kind,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "session_id": self.session_id,
            "dismissals": dict(self.dismissals),
            "panels": [p.to_dict() for p in self.panels.values()],
            "offers": {k: list(v) for k, v in self.offers.items()},
            "ended_at": dict(self.ended_at),
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        registry: Registry,
        clock: Callable[[], float] = time.time,
    ) -> TaskPanels:
        panels = cls(
            registry=registry,
            user_id=str(data["user_id"]),
            session_id=data.get("session_id"),
            clock=clock,
            dismissals=data.get("dismissals", {}),
        )
        for raw in data.get("panels", []):
            panel = Panel.from_dict(raw)
            panels.panels[panel.task_id] = panel
        panels.offers = {k: [float(t) for t in v] for k, v in data.get("offers", {}).items()}
        panels.ended_at = {k: float(v) for k, v in data.get("ended_at", {}).items()}
        return panels


def _offered(panel: Panel) -> float:
    return panel.suggested_at
