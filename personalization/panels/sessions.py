"""Task panels per person and browser session, as the engine facade serves them.

``panels.TaskPanels`` is the state machine of one session; this keeps one per
``(user, session)``, tracks which steps of each open task the person has already done, turns
the machine's events into stored usage events (dismissals also count as feedback in the
profile) and renders what should be on screen as ``PanelView``s.

Nothing about a session lives in this object: every call loads the session's record from a
``PanelStore`` under that store's per-session lock, applies the change and saves the record
back, so any backend worker (sharing a ``RedisPanelStore``) can serve any request of a
session and concurrent requests of one session cannot overwrite each other.

It reaches the rest of the engine only through the callables it is given, so the facade can
swap its predictor or reset its metrics without telling it. Those callables run outside the
session lock (a slow event store must not hold a session up); serialising the profile update
a dismissal makes is the facade's job, as it is for every other profile change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from personalization import profile as controls
from personalization.engine.views import PanelView, StepView
from personalization.panels.machine import TaskPanels, task_start_probability
from personalization.panels.store import MemoryPanelStore, PanelStore
from personalization.profile import UserProfile
from personalization.registry import Registry
from personalization.types import Event, EventKind, Prediction

ACTIONS = frozenset({"open", "close", "dismiss", "pin", "unpin", "reopen", "interact", "dissolve"})


@dataclass(slots=True)
class _Session:
    """One session's state while a call works on it."""

    panels: TaskPanels
    steps: dict[str, set[str]]  # task id -> step refs the person already ran


class PanelSessions:
    """Every live session's task panels, and the steps seen in each open task."""

    def __init__(
        self,
        *,
        registry: Registry,
        clock: Callable[[], float],
        profile: Callable[[str], UserProfile],
        save_profile: Callable[[UserProfile], UserProfile],
        predict: Callable[[str], list[Prediction]],
        append: Callable[[list[dict[str, Any]]], object],
        count: Callable[[Event], None],
        store: PanelStore | None = None,
    ) -> None:
        self.registry = registry
        self._clock = clock
        self._profile = profile
        self._save_profile = save_profile
        self._predict = predict
        self._append = append
        self._count = count
        self.store: PanelStore = store if store is not None else MemoryPanelStore()

    def reset(self, registry: Registry) -> None:
        """A new registry version. Stored sessions are not cleared (with Redis that would be
        every person's); panels naming tasks the new version lacks are dropped as each
        session is next loaded."""
        self.registry = registry

    def forget(self, user_id: str) -> None:
        """Drop every session of ``user_id`` (erasure, reset)."""
        self.store.delete_user(user_id)

    def advance(
        self, user_id: str, session_id: str, command: str, *, offer_by_prediction: bool = True
    ) -> None:
        """The person ran ``command``: tick off steps, close finished tasks, offer new ones.
        ``offer_by_prediction=False`` skips offers driven by the model's probability."""
        self.advance_many(user_id, session_id, [command], offer_by_prediction=offer_by_prediction)

    def advance_many(
        self,
        user_id: str,
        session_id: str,
        commands: Sequence[str],
        *,
        offer_by_prediction: bool = True,
    ) -> None:
        """``advance`` for each of ``commands`` in order, loading and saving the session
        once. Offers by prediction are considered after the last command only: earlier
        predictions are outdated by the commands that follow them in the same batch."""
        if not commands:
            return
        registry = self.registry
        by_probability = offer_by_prediction and any(
            t.trigger.probability is not None for t in registry.tasks
        )
        predictions = self._predict(user_id) if by_probability else []
        if not self._may_matter(user_id, session_id, commands, predictions):
            return
        events: list[Event] = []
        with self._session(user_id, session_id) as session:
            panels, steps = session.panels, session.steps
            registry = panels.registry
            for i, command in enumerate(commands):
                for panel in panels.visible():
                    task = registry.task(panel.task_id)
                    if any(s.ref == command for s in task.steps):
                        steps.setdefault(panel.task_id, set()).add(command)
                events += panels.observe(command)
                offered = panels.consider(
                    command=command, predictions=predictions if i == len(commands) - 1 else ()
                )
                for event in offered:
                    task = registry.task(event.context.task_id or "")
                    steps[task.id] = (
                        {command} if any(s.ref == command for s in task.steps) else set()
                    )
                    if task.trigger.command == command:  # the person started it: show it now
                        offered = [*offered, *panels.open(task.id)]
                events += offered
        self._store(user_id, session_id, events)

    def _may_matter(
        self,
        user_id: str,
        session_id: str,
        commands: Sequence[str],
        predictions: Sequence[Prediction],
    ) -> bool:
        """Whether ``commands`` can change this session at all: most commands of a session
        with no panel trigger nothing, and are answered without loading anything else.
        The base threshold is a lower bound (dismissals only raise it), so this never
        skips an offer the full check would make."""
        for task in self.registry.tasks:
            if task.trigger.command in commands:
                return True
            base = task.trigger.probability
            if base is not None and task_start_probability(task, predictions) >= base:
                return True
        return self.store.load(user_id, session_id) is not None

    def views(self, user_id: str, session_id: str) -> list[PanelView]:
        with self._session(user_id, session_id) as session:
            return self._views(session)

    def act(self, user_id: str, task_id: str, action: str, session_id: str) -> list[PanelView]:
        """Apply a person's ``action`` on a panel; raises ``ValueError`` for an unknown action
        and the registry's error for an unknown task."""
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {sorted(ACTIONS)}, got {action!r}")
        self.registry.task(task_id)
        with self._session(user_id, session_id) as session:
            events = getattr(session.panels, action)(task_id)
            views = self._views(session)
        self._store(user_id, session_id, events)
        return views

    def tick(self, user_id: str, session_id: str) -> list[PanelView]:
        """Apply idle timeouts and dissolve finished panels."""
        with self._session(user_id, session_id) as session:
            events = session.panels.tick()
            views = self._views(session)
        self._store(user_id, session_id, events)
        return views

    @contextmanager
    def _session(self, user_id: str, session_id: str) -> Iterator[_Session]:
        """Load, let the caller change, save only if changed; all under the session's lock,
        so another worker's change to the same session is never lost. Nothing is saved when
        the caller raises (a refused transition leaves the record as it was)."""
        registry = self.registry  # one version for the whole call, even if reset meanwhile
        with self.store.locked(user_id, session_id):
            record = self.store.load(user_id, session_id)
            if record is None:
                panels = TaskPanels(
                    registry=registry,
                    user_id=user_id,
                    session_id=session_id,
                    clock=self._clock,
                    dismissals=self._profile(user_id).dismissals,
                )
                session = _Session(panels, {})
                before = _record(session)
            else:
                before = record
                session = _load(_known_tasks(record, registry), registry, self._clock)
            yield session
            after = _record(session)
            if after != before:
                self.store.save(user_id, session_id, after)

    def _views(self, session: _Session) -> list[PanelView]:
        panels, seen = session.panels, session.steps
        registry = panels.registry
        views = []
        for panel in panels.visible():
            task = registry.task(panel.task_id)
            done = seen.get(panel.task_id, set()) | set(panel.done)
            steps = tuple(
                StepView(
                    ref=s.ref,
                    kind=s.kind,
                    label=s.label or registry.label(s.ref),
                    done=s.ref in done,
                )
                for s in task.steps
            )
            finished = sum(s.done for s in steps)
            trigger = task.trigger.command
            views.append(
                PanelView(
                    task_id=task.id,
                    title=task.title,
                    state=panel.state.value,
                    steps=steps,
                    progress=finished / len(steps) if steps else 1.0,
                    pinned=panel.state.value == "pinned",
                    reason=(
                        f"Opened because you ran {registry.label(trigger)}."
                        if trigger
                        else "Opened because this task looks likely to start now."
                    ),
                )
            )
        return views

    def _store(self, user_id: str, session_id: str, events: Sequence[Event]) -> None:
        """Count and store the machine's events; a dismissal is also feedback that makes
        the task less likely to be offered again."""
        if not events:
            return
        prof = self._profile(user_id)
        rows = []
        for event in events:
            self._count(event)
            if event.kind is EventKind.PANEL_DISMISSED and event.context.task_id:
                prof = controls.record_dismissal(prof, task_id=event.context.task_id)
            rows.append(
                {
                    "client_event_id": uuid.uuid4().hex,
                    "user_id": user_id,
                    "command": event.command,
                    "kind": str(event.kind),
                    "task_id": event.context.task_id,
                    "session_id": session_id,
                    "client_time": event.timestamp or self._clock(),
                }
            )
        if any(e.kind is EventKind.PANEL_DISMISSED for e in events):
            self._save_profile(prof)
        if rows and prof.recording:
            self._append(rows)


def _record(session: _Session) -> dict[str, Any]:
    """The JSON-able record of a session (steps as sorted lists, so equal states compare
    equal and a call that changed nothing writes nothing)."""
    steps = {task_id: sorted(refs) for task_id, refs in session.steps.items()}
    return {"panels": session.panels.to_dict(), "steps": steps}


def _load(record: dict[str, Any], registry: Registry, clock: Callable[[], float]) -> _Session:
    panels = TaskPanels.from_dict(record["panels"], registry=registry, clock=clock)
    return _Session(panels, {task_id: set(refs) for task_id, refs in record["steps"].items()})


def _known_tasks(record: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """``record`` without what names tasks the registry no longer has: the state machine
    looks every panel's task up and would fail on each later call of that session. The
    person's dismissal counts stay (they are feedback, and harmless)."""
    known = {task.id for task in registry.tasks}
    data = record["panels"]
    panels = {
        **data,
        "panels": [p for p in data.get("panels", []) if p["task_id"] in known],
        "offers": {k: v for k, v in data.get("offers", {}).items() if k in known},
        "ended_at": {k: v for k, v in data.get("ended_at", {}).items() if k in known},
    }
    steps = {k: v for k, v in record["steps"].items() if k in known}
    return {"panels": panels, "steps": steps}
