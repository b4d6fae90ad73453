"""The engine as a host uses it: one object that records, predicts, lays out and explains.

The Reflex widgets, the host app and the HTTP API all call this one facade, so a rule such as
"an opted-out person's events are never stored" or "erasure also empties the model" is
written once. The database is the source of truth (events, profiles, previous layouts,
registry versions); the predictor and the task panels are in-memory working state rebuilt
from it: on start-up the stored log is replayed in time order through the same
predict-then-learn path that live traffic takes, which also fills the live metrics honestly.

Thread-safe: Reflex runs event handlers concurrently, so every mutation holds one lock.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from personalization import model_store, registry_store
from personalization import profile as controls
from personalization.db import make_engine
from personalization.insights import FLUSH_EVERY_S, load_found, save_found, usage_series
from personalization.layout import Layout, decide_layout
from personalization.live_metrics import LiveMetrics
from personalization.palette import palette_entries
from personalization.panel_sessions import PanelSessions
from personalization.predict import DEFAULT_SCORER, default_predictor
from personalization.predict.learned import Scorer
from personalization.predict.population import PopulationModel
from personalization.profile import Level, UserProfile
from personalization.profile_cache import ProfileCache
from personalization.recording import accepted_event, merge, refusals
from personalization.registry import ApplyOn, Registry, example_registry
from personalization.service_tables import load_resets, save_reset
from personalization.shown_layouts import ShownLayouts
from personalization.store import AppendResult, EventStore
from personalization.training import PopulationTrainer
from personalization.types import Context, Event, EventKind, Prediction
from personalization.views import PaletteEntry, PanelView

DEFAULT_CONTROL_PERCENT = 10
MIN_EVENTS_FOR_SCORER = 20_000


def _new_id() -> str:
    return uuid.uuid4().hex


class Personalizer:
    """Records usage, predicts, decides layouts and task panels, and obeys user controls."""

    def __init__(
        self,
        *,
        url: str | None = None,
        registry: Registry | None = None,
        clock: Callable[[], float] = time.time,
        control_percent: int | None = None,
        warm_up: bool = True,
    ) -> None:
        self.engine = make_engine(url)
        self.store = EventStore(engine=self.engine)
        self.clock = clock
        if control_percent is None:
            control_percent = int(
                os.environ.get("ADAPTIVE_CONTROL_PERCENT", str(DEFAULT_CONTROL_PERCENT))
            )
        if not 0 <= control_percent <= 100:
            raise ValueError(f"control_percent must be within 0..100, got {control_percent}")
        self.control_percent = control_percent
        self._lock = threading.RLock()
        with Session(self.engine) as session:
            saved = registry_store.latest(session=session)
            if saved is None or (registry is not None and _content(registry) != _content(saved)):
                registry_store.save(session=session, registry=registry or example_registry())
                saved = registry_store.latest(session=session)
        assert saved is not None
        self._registry = saved
        self.metrics = LiveMetrics()
        self._events_seen: dict[str, int] = defaultdict(int)
        # Write-through caches: the database stays the truth, requests skip the reads.
        self._profiles = ProfileCache(engine=self.engine)
        self._layouts = ShownLayouts(engine=self.engine)
        self._panel_sessions = PanelSessions(
            registry=saved,
            clock=clock,
            profile=self.profile,
            save_profile=self._profiles.save,
            predict=lambda user_id: self._predictor.rank(user_id, None, k=10),
            append=self.store.append,
            count=self._count_panel_event,
        )
        self._found_flushed = 0.0
        self._predictor = default_predictor(commands=saved.command_meta())
        self._scorer: Scorer | None = self._saved_scorer()
        self._training_events = 0
        self.trainer = PopulationTrainer(
            load_sequences=self._training_sequences,
            commands=saved.command_meta(),
            on_swap=self._swap_population,
        )
        if warm_up:
            self.rebuild()

    # ------------------------------------------------------------------ registry

    @property
    def registry(self) -> Registry:
        return self._registry

    def save_registry(self, registry: Registry | Mapping[str, Any] | str, *, note: str = "") -> int:
        """Validate and store a new registry version; end users get it on their next layout
        update. Raises ``RegistryError`` listing every bad field."""
        if isinstance(registry, str):
            registry = Registry.from_json(registry)
        elif not isinstance(registry, Registry):
            registry = Registry.from_dict(registry)
        with self._lock, Session(self.engine) as session:
            version = registry_store.save(session=session, registry=registry, note=note)
            self._registry = registry_store.get(session=session, version=version)
            self._predictor = default_predictor(commands=self._registry.command_meta())
            self.trainer.commands = tuple(self._registry.command_meta())
            self._panel_sessions.reset(self._registry)
        self.rebuild()
        return version

    def registry_history(self) -> list[registry_store.RegistryVersionInfo]:
        with Session(self.engine) as session:
            return registry_store.history(session=session)

    # ------------------------------------------------------------------ learning state

    def rebuild(self) -> None:
        """Replay the stored log in time order: population prior, per-user models, metrics."""
        with self._lock:
            self._predictor = default_predictor(commands=self._registry.command_meta())
            self.metrics = LiveMetrics()
            self._events_seen = defaultdict(int)
            self._profiles.clear_usage()
            by_user: dict[str, list[Event]] = defaultdict(list)
            for event in self._learnable_events(others=self._count_panel_event):
                by_user[event.user_id].append(event)
                self._learn(event)
            if by_user:
                population = PopulationModel().fit(by_user.values())
                self._predictor.set_population(population, self._scorer)
            with Session(self.engine) as session:
                self.metrics.found.update(load_found(session=session))
            self._found_flushed = self.clock()

    # ------------------------------------------------------------------ population training

    def retrain_population(self) -> Future[Any]:
        """Rebuild the population prior and its scorer in the background from everyone's
        stored events; requests go on meanwhile and see the new model in one swap."""
        return self.trainer.retrain_now()

    def training_status(self) -> dict[str, Any]:
        error = self.trainer.last_error
        return {
            "running": self.trainer.running,
            "progress": self.trainer.progress,
            "runs": self.trainer.runs,
            "finished_at": self.trainer.finished_at,
            "error": None if error is None else f"{type(error).__name__}: {error}",
        }

    def _training_sequences(self) -> list[list[Event]]:
        by_user: dict[str, list[Event]] = defaultdict(list)
        for event in self._learnable_events():
            by_user[event.user_id].append(event)
        self._training_events = sum(len(v) for v in by_user.values())
        return list(by_user.values())

    def _swap_population(self, population: PopulationModel, scorer: Scorer) -> None:
        """Take the new counts always; take the new scorer only when it learned from enough
        events: a logistic scorer fitted to a few hundred events is confidently wrong
        (0.99 on a guess), while the shipped one was trained on 250,000 real events."""
        if self._training_events < MIN_EVENTS_FOR_SCORER:
            scorer = self._scorer or DEFAULT_SCORER
        with self._lock:
            self._scorer = scorer
            self._predictor.set_population(population, scorer)
        with Session(self.engine) as session:
            model_store.save_population(session=session, population=population, scorer=scorer)

    def _saved_scorer(self) -> Scorer | None:
        """The last trained scorer, if one was stored and passes its integrity check."""
        with Session(self.engine) as session:
            try:
                saved = model_store.load_population(session=session)
            except model_store.ModelFormatError as exc:
                print(f"warning: ignoring stored population model: {exc}", file=sys.stderr)
                return None
        return saved[1] if saved is not None else None

    def _learn(self, event: Event) -> None:
        """Score the prediction made before this event, then learn it (progressive)."""
        user = event.user_id
        seen = self._events_seen[user]
        predictions = self._predictor.rank(user, event.context, k=10)
        self.metrics.prediction(predictions, event.command, events_before=seen)
        self._predictor.partial_fit(event)
        self._events_seen[user] = seen + 1
        self._profiles.record_use(event)

    def _count_panel_event(self, event: Event) -> None:
        if event.kind.value.startswith("panel_"):
            self.metrics.panel_event(event.kind.value)

    def _learnable_events(
        self, *, others: Callable[[Event], None] | None = None
    ) -> Iterator[Event]:
        """The stored invocations the model may learn from, in time order. A person's reset
        keeps older events in their history (to export or delete) but out of learning; events
        of other kinds go to ``others`` in the same pass, so the log is read once."""
        with Session(self.engine) as session:
            resets = load_resets(session=session)
        for event in self.store.iter_events():
            if event.kind is not EventKind.INVOKE:
                if others is not None:
                    others(event)
            elif (event.timestamp or 0.0) >= resets.get(event.user_id, float("-inf")):
                yield event

    # ------------------------------------------------------------------ recording

    def record(self, user_id: str, events: Sequence[Mapping[str, Any]]) -> AppendResult:
        """Store a batch for ``user_id`` and learn from what was accepted.

        An event naming another user, or any event of an opted-out person, is rejected
        without being stored; the rest of the batch goes on as usual."""
        batch = [{**dict(e), "user_id": e.get("user_id", user_id)} for e in events]
        refused = refusals(batch, user_id=user_id, recording=self.profile(user_id).recording)
        own = [i for i in range(len(batch)) if i not in refused]
        with self._lock:
            stored = self.store.append([batch[i] for i in own]) if own else None
            if stored is not None:
                for pos, code in enumerate(stored.codes):
                    if code == "accepted":
                        self._after_store(user_id, batch[own[pos]])
        return merge(batch, own=own, refused=refused, stored=stored)

    def record_command(
        self,
        user_id: str,
        command: str,
        *,
        kind: EventKind | str = EventKind.INVOKE,
        client_event_id: str | None = None,
        **context: str | None,
    ) -> AppendResult:
        """One event; ``context`` takes region, component, route, device, session_id,
        task_id."""
        event: dict[str, Any] = {
            "client_event_id": client_event_id or _new_id(),
            "user_id": user_id,
            "command": command,
            "kind": str(kind),
            "client_time": self.clock(),
        }
        event.update({k: v for k, v in context.items() if v is not None})
        return self.record(user_id, [event])

    def _after_store(self, user_id: str, raw: Mapping[str, Any]) -> None:
        event = accepted_event(user_id, raw, now=self.clock())
        ctx = event.context
        if event.kind is EventKind.INVOKE:
            if ctx.region is not None:
                self._check_visible(user_id, ctx.region, event.command)
            self._learn(event)
            self._panel_sessions.advance(user_id, ctx.session_id or "default", event.command)
        else:
            self._count_panel_event(event)

    def _check_visible(self, user_id: str, region: str, command: str) -> None:
        shown = self._layouts.previous(user_id, region)
        if shown is not None:
            self.metrics.visible_check(
                control=self.in_control_group(user_id), found=command in shown.visible
            )
            if self.clock() - self._found_flushed >= FLUSH_EVERY_S:
                self.flush_metrics()

    def flush_metrics(self) -> None:
        """Persist the found-in-slots counters (also called on shutdown by hosts)."""
        with self._lock, Session(self.engine) as session:
            save_found(session=session, found=self.metrics.found)
            self._found_flushed = self.clock()

    # ------------------------------------------------------------------ decisions

    def predictions(
        self, user_id: str, *, k: int = 10, context: Context | None = None
    ) -> list[Prediction]:
        with self._lock:
            return self._predictor.rank(user_id, context, k=k)

    def layout(
        self,
        user_id: str,
        region_id: str,
        *,
        interacting: bool = False,
        commit: bool = True,
        moment: ApplyOn | str = ApplyOn.PAGE_LOAD,
    ) -> Layout:
        """The region as this person should see it now. ``commit`` stores it as the
        previous layout that the next decision starts from (a preview passes False)."""
        region = self._registry.region(region_id)  # KeyError-like error names the region
        prof = self.profile(user_id)
        if self.in_control_group(user_id):
            prof = replace(prof, level=Level.OFF)
        with self._lock:
            previous = self._layouts.previous(user_id, region.id)
            # Nothing known about this person yet (new, erased or reset): the designer's
            # layout, exactly. The population prior starts helping from their first command.
            predictions = (
                self._predictor.rank(
                    user_id, Context(region=region.id), k=len(self._registry.commands)
                )
                if self._events_seen.get(user_id)
                else []
            )
            counter = previous.update_counter + 1 if previous is not None else 0
            decided = decide_layout(
                registry=self._registry,
                region_id=region.id,
                predictions=predictions,
                profile=prof,
                previous=previous,
                interacting=interacting,
                update_counter=counter,
                moment=ApplyOn(moment),
                now=self.clock(),
            )
            if commit and decided is not previous:
                self._layouts.remember(user_id, decided, previous=previous)
                self.metrics.layout_update(region.id, decided.moves)
        return decided

    def palette(self, user_id: str, query: str = "", *, limit: int = 50) -> list[PaletteEntry]:
        """Every command (hidden ones included) matching ``query``, most likely first. A
        command that no region shows says why (hidden by you, unused, or no room)."""
        commands = self._registry.commands
        predictions = self.predictions(user_id, k=max(len(commands), 1))
        return palette_entries(
            registry=self._registry,
            predictions=predictions,
            hidden=self._layouts.hidden_everywhere(user_id, [r.id for r in self._registry.regions]),
            query=query,
            limit=limit,
        )

    # ------------------------------------------------------------------ user controls

    def profile(self, user_id: str) -> UserProfile:
        """The person's choices (stored) joined with their usage statistics (from the log)."""
        return self._profiles.get(user_id)

    def _control(self, user_id: str, kind: EventKind, *, region: str, command: str) -> UserProfile:
        self._registry.region(region)
        change = {
            EventKind.PIN: controls.pin,
            EventKind.UNPIN: controls.unpin,
            EventKind.HIDE: controls.hide,
            EventKind.UNHIDE: controls.unhide,
        }[kind]
        policy = self._registry.region(region).policy
        extra = (
            {"protected": (*policy.pinned, *policy.never_hide)} if kind is EventKind.HIDE else {}
        )
        with self._lock:
            prof = change(self.profile(user_id), region=region, command=command, **extra)
            self._profiles.save(prof)
        if prof.recording:
            self.store.append(
                [
                    {
                        "client_event_id": _new_id(),
                        "user_id": user_id,
                        "command": command,
                        "kind": str(kind),
                        "region": region,
                        "client_time": self.clock(),
                    }
                ]
            )
        return prof

    def pin(self, user_id: str, *, region: str, command: str) -> UserProfile:
        return self._control(user_id, EventKind.PIN, region=region, command=command)

    def unpin(self, user_id: str, *, region: str, command: str) -> UserProfile:
        return self._control(user_id, EventKind.UNPIN, region=region, command=command)

    def hide(self, user_id: str, *, region: str, command: str) -> UserProfile:
        return self._control(user_id, EventKind.HIDE, region=region, command=command)

    def unhide(self, user_id: str, *, region: str, command: str) -> UserProfile:
        return self._control(user_id, EventKind.UNHIDE, region=region, command=command)

    def set_level(self, user_id: str, level: Level | str) -> UserProfile:
        with self._lock:
            return self._profiles.save(controls.set_level(self.profile(user_id), level))

    def set_recording(self, user_id: str, enabled: bool) -> UserProfile:
        with self._lock:
            return self._profiles.save(controls.set_recording(self.profile(user_id), enabled))

    def set_retention(self, user_id: str, days: int) -> UserProfile:
        if not isinstance(days, int) or not 1 <= days <= 3650:
            raise ValueError(f"retention days must be an integer within 1..3650, got {days!r}")
        with self._lock:
            prof = self._profiles.save(replace(self.profile(user_id), retention_days=days))
        self.expire_old_events(user_id)
        return prof

    def reset(self, user_id: str) -> UserProfile:
        """Forget the learned ranking, pins, hides and previous layouts; keep the history."""
        with self._lock:
            prof = self._profiles.save(controls.reset(self.profile(user_id)))
            with Session(self.engine) as session:
                save_reset(session=session, user_id=user_id, at=self.clock())
            self._layouts.delete_stored(user_id)
            self._forget_in_memory(user_id)
        return prof

    def in_control_group(self, user_id: str) -> bool:
        """A stable ``control_percent``% of users get the designer layout (no adaptation),
        so the benefit of adapting can be measured against them."""
        digest = hashlib.sha256(f"control:{user_id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") % 100 < self.control_percent

    # ------------------------------------------------------------------ privacy

    def export_user(self, user_id: str) -> dict[str, Any]:
        data = self.store.export_user(user_id)
        data["profile"] = self.profile(user_id).to_dict()
        data["predictions"] = [
            {"command": p.command, "probability": p.probability, "reason": p.reason}
            for p in self.predictions(user_id, k=10)
        ]
        return data

    def erase_user(self, user_id: str) -> dict[str, int]:
        """Events, profile, layouts and everything the model learned: afterwards this person
        gets the designer default layout."""
        with self._lock:
            deleted = self.store.erase_user(user_id)
            self._forget_in_memory(user_id)
            self._profiles.forget(user_id)
            # The prior counts everyone's sequences in aggregate: recount it now without this
            # person (cheap counting), then retrain the scorer in the background.
            population = PopulationModel().fit(self._training_sequences())
            self._predictor.set_population(population, self._scorer)
        self.retrain_population()
        return deleted

    def expire_old_events(self, user_id: str | None = None) -> int:
        """Apply each person's retention period; learned state is rebuilt without them."""
        users = [user_id] if user_id is not None else self.store.users()
        removed = 0
        now = datetime.fromtimestamp(self.clock(), UTC)
        for uid in users:
            days = self.profile(uid).retention_days
            removed += self.store.expire(now - timedelta(days=days), user_id=uid)
        if removed:
            self.rebuild()
        return removed

    def _forget_in_memory(self, user_id: str) -> None:
        self._predictor.forget(user_id)
        self._events_seen.pop(user_id, None)
        self._profiles.forget_usage(user_id)
        self._layouts.forget(user_id)
        self._panel_sessions.forget(user_id)

    # ------------------------------------------------------------------ task panels

    def panels(self, user_id: str, *, session_id: str = "default") -> list[PanelView]:
        with self._lock:
            return self._panel_sessions.views(user_id, session_id)

    def panel_action(
        self, user_id: str, task_id: str, action: str, *, session_id: str = "default"
    ) -> list[PanelView]:
        with self._lock:
            return self._panel_sessions.act(user_id, task_id, action, session_id)

    def tick(self, user_id: str, *, session_id: str = "default") -> list[PanelView]:
        """Apply idle timeouts and dissolve finished panels (call every few seconds)."""
        with self._lock:
            return self._panel_sessions.tick(user_id, session_id)

    # ------------------------------------------------------------------ insights

    def live_metrics(self) -> dict[str, Any]:
        with self._lock:
            data = self.metrics.to_dict()
        data["control_percent"] = self.control_percent
        return data

    def usage_series(self, *, days: int = 30) -> list[dict[str, Any]]:
        """Invocations per command per day (UTC), for the usage plot."""
        return usage_series(engine=self.engine, since=self.clock() - days * 86400.0)


def _content(registry: Registry) -> str:
    return registry_store.checksum(registry)


_instance: Personalizer | None = None
_instance_pid = 0
_instance_lock = threading.Lock()


def get_personalizer() -> Personalizer:
    """The process-wide engine (URL from ``ADAPTIVE_DB_URL``), created on first use.

    Fork-aware: Reflex builds pages in a supervisor process and forks the backend workers,
    so an engine made before the fork arrives in the worker without its training thread
    (a retrain submitted there would never run) and with the parent's database connections.
    A worker therefore gets its own engine on first use."""
    global _instance, _instance_pid
    with _instance_lock:
        if _instance is not None and _instance_pid != os.getpid():
            _instance.engine.dispose(close=False)  # the parent's connections stay the parent's
            _instance = None
        if _instance is None:
            _instance = Personalizer()
            _instance_pid = os.getpid()
            interval = float(os.environ.get("ADAPTIVE_RETRAIN_INTERVAL_S", "3600"))
            if interval > 0:
                _instance.trainer.start_schedule(interval)
        return _instance


def set_personalizer(personalizer: Personalizer | None) -> None:
    """Replace the process-wide engine (tests, or an embedding app with its own registry)."""
    global _instance, _instance_pid
    with _instance_lock:
        _instance = personalizer
        _instance_pid = os.getpid()
