"""Task panels per person and browser session, as the engine facade serves them.

``panels.TaskPanels`` is the state machine of one session; this keeps one per
``(user, session)``, tracks which steps of each open task the person has already done, turns
the machine's events into stored usage events (dismissals also count as feedback in the
profile) and renders what should be on screen as ``PanelView``s.

It reaches the rest of the engine only through the callables it is given, so the facade can
swap its predictor or reset its metrics without telling it. Not thread-safe on its own: the
facade calls it while holding its lock.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from personalization import profile as controls
from personalization.panels import TaskPanels
from personalization.profile import UserProfile
from personalization.registry import Registry
from personalization.types import Event, EventKind, Prediction
from personalization.views import PanelView, StepView

ACTIONS = frozenset({"open", "close", "dismiss", "pin", "unpin", "reopen", "interact", "dissolve"})

Key = tuple[str, str]  # (user id, session id)


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
    ) -> None:
        self.registry = registry
        self._clock = clock
        self._profile = profile
        self._save_profile = save_profile
        self._predict = predict
        self._append = append
        self._count = count
        self._panels: dict[Key, TaskPanels] = {}
        self._steps_seen: dict[Key, dict[str, set[str]]] = {}

    def reset(self, registry: Registry) -> None:
        """A new registry version: open panels may name tasks that no longer exist."""
        self.registry = registry
        self._panels.clear()
        self._steps_seen.clear()

    def forget(self, user_id: str) -> None:
        """Drop every session of ``user_id`` (erasure, reset)."""
        for key in [k for k in self._panels if k[0] == user_id]:
            del self._panels[key]
            self._steps_seen.pop(key, None)

    def advance(self, user_id: str, session_id: str, command: str) -> None:
        """The person ran ``command``: tick off steps, close finished tasks, offer new ones."""
        panels = self._panels_for(user_id, session_id)
        steps = self._steps_seen.setdefault((user_id, session_id), defaultdict(set))
        for panel in panels.visible():
            task = self.registry.task(panel.task_id)
            if any(s.ref == command for s in task.steps):
                steps[panel.task_id].add(command)
        events = panels.observe(command)
        offered = panels.consider(command=command, predictions=self._predict(user_id))
        for event in offered:
            task = self.registry.task(event.context.task_id or "")
            steps[task.id] = {command} if any(s.ref == command for s in task.steps) else set()
            if task.trigger.command == command:  # the person started the task: show it now
                offered = [*offered, *panels.open(task.id)]
        events += offered
        self._store(user_id, session_id, events)

    def views(self, user_id: str, session_id: str) -> list[PanelView]:
        panels = self._panels_for(user_id, session_id)
        seen = self._steps_seen.get((user_id, session_id), {})
        registry = self.registry
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

    def act(self, user_id: str, task_id: str, action: str, session_id: str) -> list[PanelView]:
        """Apply a person's ``action`` on a panel; raises ``ValueError`` for an unknown action
        and the registry's error for an unknown task."""
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {sorted(ACTIONS)}, got {action!r}")
        self.registry.task(task_id)
        events = getattr(self._panels_for(user_id, session_id), action)(task_id)
        self._store(user_id, session_id, events)
        return self.views(user_id, session_id)

    def tick(self, user_id: str, session_id: str) -> list[PanelView]:
        """Apply idle timeouts and dissolve finished panels."""
        self._store(user_id, session_id, self._panels_for(user_id, session_id).tick())
        return self.views(user_id, session_id)

    def _panels_for(self, user_id: str, session_id: str) -> TaskPanels:
        key = (user_id, session_id)
        panels = self._panels.get(key)
        if panels is None:
            panels = TaskPanels(
                registry=self.registry,
                user_id=user_id,
                session_id=session_id,
                clock=self._clock,
                dismissals=self._profile(user_id).dismissals,
            )
            self._panels[key] = panels
        return panels

    def _store(self, user_id: str, session_id: str, events: Sequence[Event]) -> None:
        """Count and store the machine's events; a dismissal is also feedback that makes
        the task less likely to be offered again."""
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
