"""The engine as a host uses it: one object that records, predicts, lays out and explains.

The Reflex widgets, the host app and the HTTP API all call this one facade, so a rule such as
"an opted-out person's events are never stored" or "erasure also empties the model" is
written once.

Stateless over shared, durable state, so any number of workers (processes, machines) can
serve anyone: the event log, profiles, previous layouts, registry versions, population
artifacts, per-user model checkpoints and metric counters live in the database; task-panel
sessions in Redis when one is configured. Start-up reads the newest registry and population
artifact and nothing else. A person's model is loaded on demand into a bounded cache, and
every use replays the person's events that the cached copy lacks (by arrival sequence), so a
prediction reflects every acknowledged event, whichever worker stored it. See
``docs/architecture.md``.

Thread-safe: Reflex runs event handlers concurrently, so learning holds one lock per process.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from personalization import profile as controls
from personalization.engine import retention
from personalization.engine.insights import usage_series
from personalization.engine.live_metrics import LiveMetrics, readout
from personalization.engine.palette import palette_entries
from personalization.engine.recording import merge, refusals
from personalization.engine.shown_layouts import ShownLayouts
from personalization.engine.state_cache import StateCache
from personalization.engine.views import PaletteEntry, PanelView
from personalization.layout.decide import Layout, decide_layout
from personalization.panels.machine import task_start_command
from personalization.panels.sessions import PanelSessions
from personalization.panels.store import panel_store_from_env
from personalization.predict import DEFAULT_SCORER, default_predictor
from personalization.predict.learned import Scorer
from personalization.predict.population import PopulationModel
from personalization.predict.progressive import score_then_learn
from personalization.predict.training import PopulationTrainer
from personalization.profile import Level, UserProfile
from personalization.registry import ApplyOn, Registry
from personalization.store import counters, leases, user_records
from personalization.store import models as model_store
from personalization.store import profiles as profile_store
from personalization.store import registries as registry_store
from personalization.store.db import make_engine
from personalization.store.event_store import AppendResult, EventStore, Written
from personalization.store.user_records import UserRecord
from personalization.types import Context, Event, EventKind, Prediction

DEFAULT_CONTROL_PERCENT = 10
MIN_EVENTS_FOR_SCORER = 20_000
SYNC_INTERVAL_S = float(os.environ.get("ADAPTIVE_SYNC_INTERVAL_S", "1.0"))
METRICS_FLUSH_S = float(os.environ.get("ADAPTIVE_METRICS_FLUSH_S", "2.0"))
CHECKPOINT_EVERY = int(os.environ.get("ADAPTIVE_CHECKPOINT_EVERY", "32"))
METRICS_SAMPLE = float(os.environ.get("ADAPTIVE_METRICS_SAMPLE", "0.1"))
"""Share of events the live metrics score (a prediction costs what serving one costs, and
ingest would pay it for every event: at 25% it was a fifth of bulk ingest). Chosen by a hash
of the person and event id, so the sample is the same whichever worker stores an event, and
unbiased; at 10%, 10,000 events a day give hit@1 within about +-3 points (95%). 1 scores
all."""


def _sampled(user_id: str, client_event_id: str, rate: float) -> bool:
    if rate >= 1.0:
        return True
    digest = zlib.crc32(f"{user_id}\x00{client_event_id}".encode())
    return digest < rate * 2**32


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
        cache_users: int | None = None,
        panel_store: Any | None = None,
        metrics_sample: float | None = None,
        redis_url: str | None = None,
    ) -> None:
        """``url``: the database (default ``ADAPTIVE_DB_URL``); ``redis_url``: Redis for
        what several workers share but need not keep (default ``ADAPTIVE_REDIS_URL``;
        none: one process)."""
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
        self.metrics_sample = METRICS_SAMPLE if metrics_sample is None else metrics_sample
        if not 0.0 < self.metrics_sample <= 1.0:
            raise ValueError(f"metrics_sample must be in (0, 1], got {self.metrics_sample}")
        self.worker = leases.worker_id()
        self._lock = threading.RLock()
        self._registry = self._initial_registry(registry)
        self._offer_commands = _offer_commands(self._registry)
        self.metrics = LiveMetrics()
        self._flushed_at = time.monotonic()
        self._synced_at = time.monotonic()
        self._cache = StateCache(cache_users)
        self._layouts = ShownLayouts(engine=self.engine)
        self._panel_sessions = PanelSessions(
            registry=self._registry,
            clock=clock,
            profile=self._choices,
            save_profile=self._save_choices,
            predict=self._rank_cached,
            append=self.store.append,
            count=self._count_panel_event,
            store=panel_store if panel_store is not None else panel_store_from_env(redis_url),
        )
        self._predictor = default_predictor(commands=self._registry.command_meta())
        self._artifact: model_store.Artifact | None = None
        self._scorer: Scorer | None = None
        self._load_artifact()
        self.trainer = PopulationTrainer(
            store=self.store,
            commands=self._registry.command_meta(),
            on_trained=self._publish_trained,
        )
        self._jobs: threading.Thread | None = None
        self._stop_jobs = threading.Event()

    def _initial_registry(self, registry: Registry | None) -> Registry:
        """The newest stored registry. One given in code is stored only when its content was
        never stored before: a worker started from older code must not write its registry
        back over a designer's newer version.

        With none given and none stored, an empty registry held in memory and never
        written: the engine must not put a declaration of its own into a host's database.
        It then records events but has no regions or panels (asking for one is an
        unknown-region error) until a registry is saved, which ``sync`` picks up."""
        with Session(self.engine) as session:
            saved = registry_store.latest(session=session)
            if registry is not None and (
                saved is None
                or not registry_store.has_checksum(
                    session=session, digest=registry_store.checksum(registry)
                )
            ):
                registry_store.save(session=session, registry=registry)
                saved = registry_store.latest(session=session)
        return saved if saved is not None else Registry(name="", commands=(), regions=())

    # ------------------------------------------------------------------ registry

    @property
    def registry(self) -> Registry:
        return self._registry

    def save_registry(self, registry: Registry | Mapping[str, Any] | str, *, note: str = "") -> int:
        """Validate and store a new registry version; end users get it on their next layout
        update (other workers within ``SYNC_INTERVAL_S``). Raises ``RegistryError`` listing
        every bad field. Reads no events: people's models do not depend on the registry."""
        if isinstance(registry, str):
            registry = Registry.from_json(registry)
        elif not isinstance(registry, Registry):
            registry = Registry.from_dict(registry)
        with Session(self.engine) as session:
            version = registry_store.save(session=session, registry=registry, note=note)
            new = registry_store.get(session=session, version=version)
        with self._lock:
            self._use_registry(new)
        return version

    def _use_registry(self, registry: Registry) -> None:
        self._registry = registry
        self._offer_commands = _offer_commands(registry)
        commands = registry.command_meta()
        population = self._artifact.population if self._artifact is not None else None
        self._predictor = default_predictor(
            commands=commands, population=population, scorer=self._scorer
        )
        self.trainer.commands = tuple(commands)
        self._panel_sessions.reset(registry)

    def registry_history(self) -> list[registry_store.RegistryVersionInfo]:
        with Session(self.engine) as session:
            return registry_store.history(session=session)

    def sync(self, *, force: bool = False) -> None:
        """Follow what other workers published: a newer registry version or population
        artifact. Two cheap look-ups, at most every ``SYNC_INTERVAL_S``."""
        now = time.monotonic()
        if not force and now - self._synced_at < SYNC_INTERVAL_S:
            return
        self._synced_at = now
        with Session(self.engine) as session:
            registry_version = registry_store.latest_version(session=session)
            artifact_version = model_store.latest_version(session=session)
            new_registry = (
                registry_store.get(session=session, version=registry_version)
                if registry_version != self._registry.version
                else None
            )
        with self._lock:
            if new_registry is not None:
                self._use_registry(new_registry)
            current = self._artifact.version if self._artifact is not None else 0
            if artifact_version != current:
                self._load_artifact()

    # ------------------------------------------------------------------ population artifact

    def _load_artifact(self) -> None:
        """Serve the newest published population version (its scorer too, once it learned
        from enough events; the shipped scorer until then)."""
        with Session(self.engine) as session:
            try:
                artifact = model_store.load_population(session=session)
            except model_store.ModelFormatError as exc:
                print(f"warning: ignoring stored population model: {exc}", file=sys.stderr)
                artifact = None
        with self._lock:
            self._artifact = artifact
            if artifact is None:
                self._scorer = None
                self._predictor.set_population(None, None)
                return
            self._scorer = artifact.scorer
            self._predictor.set_population(artifact.population, artifact.scorer)

    @property
    def population_version(self) -> int:
        """The population artifact this worker serves (0: none published yet)."""
        return self._artifact.version if self._artifact is not None else 0

    def retrain_population(self) -> Future[Any]:
        """Rebuild the population prior and its scorer in the background from everyone's
        stored events (streamed); requests go on meanwhile and see the new model in one
        swap. Publishing makes every other worker switch to it too."""
        return self.trainer.retrain_now()

    def training_status(self) -> dict[str, Any]:
        error = self.trainer.last_error
        return {
            "running": self.trainer.running,
            "progress": self.trainer.progress,
            "runs": self.trainer.runs,
            "finished_at": self.trainer.finished_at,
            "error": None if error is None else f"{type(error).__name__}: {error}",
            "version": self.population_version,
        }

    def _publish_trained(
        self,
        population: PopulationModel,
        scorer: Scorer,
        *,
        through_seq: int,
        erasure_mark: int,
        events: int,
    ) -> bool:
        """Publish a finished training run, unless a person was erased while it read the log
        (their events may be in it): then it is dropped and the next run starts over.

        A scorer trained on few events is replaced by the current one: a logistic scorer
        fitted to a few hundred events is confidently wrong (0.99 on a guess), while the
        shipped one was fitted to the replays of 10 Schonlau users and 3,000 MSNBC visitors
        (see ``DEFAULT_SCORER`` in ``predict/learned.py``)."""
        if events < MIN_EVENTS_FOR_SCORER:
            scorer = self._scorer or DEFAULT_SCORER
        with self.engine.connect() as conn:
            if int(counters.value(conn, counters.ERASURES)) != erasure_mark:
                return False
        with Session(self.engine) as session:
            version = model_store.publish_population(
                session=session,
                population=population,
                scorer=scorer,
                through_seq=through_seq,
                erasure_mark=erasure_mark,
                events=events,
            )
        if version is None:
            return False
        self._load_artifact()
        return True

    # ------------------------------------------------------------------ people's models

    def _records(
        self,
        profiles: Mapping[str, UserProfile],
        *,
        score: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
        own: Callable[[str, list[Event]], None] | None = None,
        conn: Connection | None = None,
        written: Written | None = None,
    ) -> dict[str, UserRecord]:
        """Each person's record brought up to date with the log: from the cache or their
        checkpoint, then the events after it replayed in arrival order. Events whose
        ``(user, client_event_id)`` is in ``score`` (this call stored them) are scored for
        the live metrics before being learned and handed to ``own``; others' events are
        learned silently, so a metric counts each event once whichever worker learns it.
        ``written`` (an SQLite append's own events) spares reading them back: the log is
        read only up to the id below them. Call with the lock held."""
        records: dict[str, UserRecord] = {}
        missing: list[str] = []
        for user, prof in profiles.items():
            cached = self._cache.get(user)
            if cached is not None and cached.epoch == prof.model_epoch:
                records[user] = cached
            else:
                missing.append(user)
        with contextlib.ExitStack() as stack:
            if conn is None:
                conn = stack.enter_context(self.engine.connect())
            stored = user_records.fetch(conn, missing)
            for user in missing:
                prof = profiles[user]
                record = None
                row = stored.get(user)
                if row is not None and row[0] == prof.model_epoch:
                    try:
                        record = user_records.load_record(row[2], user_id=user)
                        record.stored_seq = record.seq
                    except model_store.ModelFormatError as exc:
                        print(f"warning: rebuilding {user}'s model: {exc}", file=sys.stderr)
                if record is None:
                    record = UserRecord(user_id=user, epoch=prof.model_epoch)
                records[user] = record
            after = {
                user: (r.seq if r.seq > 0 else profiles[user].reset_seq + 1)
                for user, r in records.items()
            }
            tails = self._tails(conn, after, written)
            stale = [
                user
                for user, r in records.items()
                if r.seq > 0 and (not tails[user] or tails[user][0][0] != r.seq)
            ]
            if stale:  # the last event a copy learned is gone (erased, expired): rebuild
                for user in stale:
                    records[user] = UserRecord(user_id=user, epoch=profiles[user].model_epoch)
                fresh = self.store.tails(conn, {u: profiles[u].reset_seq + 1 for u in stale})
                tails.update(fresh)
        handed: list[tuple[str, list[Event]]] = []
        for user, record in records.items():
            rows = tails[user]
            if rows and rows[0][0] == record.seq:
                rows = rows[1:]
            if rows:
                mine = self._replay(record, rows, score=score)
                if mine:
                    handed.append((user, mine))
            self._cache.put(record)
        if own is not None:  # after every record is cached: ``own`` predicts from them
            for user, events in handed:
                own(user, events)
        return records

    def _tails(
        self, conn: Connection, after: dict[str, int], written: Written | None
    ) -> dict[str, list[tuple[int, str, Event]]]:
        if written is None:
            return self.store.tails(conn, after)
        # A record that already holds events past the batch (another thread or worker
        # wrote and served them first) reads its tail whole, as usual.
        ahead = {u: s for u, s in after.items() if s > written.before + 1}
        tails = self.store.tails(conn, ahead) if ahead else {}
        below = {u: s for u, s in after.items() if u not in ahead}
        if below:
            tails.update(self.store.tails(conn, below, upto=written.before))
            for user in below:
                tails[user].extend(written.events.get(user, ()))
        return tails

    def _replay(
        self,
        record: UserRecord,
        rows: Sequence[tuple[int, str, Event]],
        *,
        score: set[tuple[str, str]] | frozenset[tuple[str, str]],
    ) -> list[Event]:
        """Learn ``rows`` with the evaluation's score-then-learn loop (the live metrics score
        this call's own sampled invocations before learning them); return the events among
        them that this call stored."""
        predictor = self._predictor
        state = record.state
        user = record.user_id
        rate = self.metrics_sample
        mine_events: list[Event] = []

        def score_row(row: tuple[int, str, Event]) -> None:
            _seq, cid, event = row
            mine = (user, cid) in score
            if event.kind is EventKind.INVOKE and mine and _sampled(user, cid, rate):
                predictions = predictor.rank_state(state, event.context, 10)
                self.metrics.prediction(predictions, event.command, events_before=state.clock)

        def learn_row(row: tuple[int, str, Event]) -> None:
            seq, cid, event = row
            mine = (user, cid) in score
            if event.kind is EventKind.INVOKE:
                state.learn(event.command, event.context)
                record.usage.record(event.command, event.timestamp or 0.0)
            elif mine:
                self._count_panel_event(event)
            record.seq = seq
            record.pending += 1
            if mine:
                mine_events.append(event)

        score_then_learn(rows, score=score_row, learn=learn_row, first=0)
        return mine_events

    def _checkpoint(self, records: Iterable[UserRecord], *, every: int) -> None:
        """Store records that learned ``every`` events or more since their last store. The
        log stays the truth, so a record not stored yet only costs its tail on a reload:
        checkpoints are a speed-up, written when they save more than they cost."""
        due = [r for r in records if r.seq != r.stored_seq and r.pending >= every]
        if not due:
            return
        with self.engine.connect() as conn, user_records.relaxed_durability(conn):
            user_records.store(conn, due, now=self.clock())
            conn.commit()
        for r in due:
            r.stored_seq, r.pending = r.seq, 0

    def _current(self, user_id: str, prof: UserProfile | None = None) -> UserRecord:
        with self._lock:
            with self.engine.connect() as conn:  # one connection for the whole look-up
                if prof is None:
                    prof = profile_store.read_profile(conn, user_id)
                record = self._records({user_id: prof}, conn=conn)[user_id]
            self._checkpoint([record], every=CHECKPOINT_EVERY)
        return record

    def _rank_cached(self, user_id: str) -> list[Prediction]:
        """Predictions for task offers, from the record the current call just brought up to
        date; none when no task's probability trigger can fire for this person (a full
        ranking per person per batch was a fifth of bulk ingest, for nothing)."""
        record = self._cache.get(user_id)
        state = record.state if record else None
        if not self._predictor.may_rank(state, self._offer_commands):
            return []
        return self._predictor.rank_state(state, None, 10)

    def _count_panel_event(self, event: Event) -> None:
        if event.kind.value.startswith("panel_"):
            self.metrics.panel_event(event.kind.value)

    # ------------------------------------------------------------------ recording

    def record(self, user_id: str, events: Sequence[Mapping[str, Any]]) -> AppendResult:
        """Store a batch for ``user_id`` and learn from what was accepted.

        An event naming another user, or any event of an opted-out person, is rejected
        without being stored; the rest of the batch goes on as usual."""
        return self.record_many({user_id: events})[user_id]

    def record_many(
        self,
        batches: Mapping[str, Sequence[Mapping[str, Any]]],
        *,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> dict[str, AppendResult]:
        """``record`` for many people at once (bulk ingest): one append, one read of their
        profiles and logs, one learning pass per person per batch, and one checkpoint write
        for the people who learned ``checkpoint_every`` events since their last one."""
        self.sync()
        profiles = self._choices_many(list(batches))
        plans = []
        to_store: list[dict[str, Any]] = []
        for user, events in batches.items():
            batch = [{**dict(e), "user_id": e.get("user_id", user)} for e in events]
            refused = refusals(batch, user_id=user, recording=profiles[user].recording)
            own = [i for i in range(len(batch)) if i not in refused]
            plans.append((user, batch, own, refused, len(to_store)))
            to_store.extend(batch[i] for i in own)
        stored, written = self.store.append_learning(to_store) if to_store else (None, None)
        results: dict[str, AppendResult] = {}
        accepted: dict[tuple[str, str], Mapping[str, Any]] = {}
        for user, batch, own, refused, offset in plans:
            part = None
            if stored is not None and own:
                part = _slice(stored, offset, len(own))
                for pos, code in enumerate(part.codes):
                    if code == "accepted":
                        raw = batch[own[pos]]
                        accepted[(user, raw["client_event_id"])] = raw
            results[user] = merge(batch, own=own, refused=refused, stored=part)
        touched = {user for user, _cid in accepted}
        learners = {u: profiles[u] for u, *_ in plans if u in touched}
        if learners:
            with self._lock:
                records = self._records(
                    learners, score=set(accepted), own=self._after_own, written=written
                )
                self._checkpoint(records.values(), every=checkpoint_every)
        self._maybe_flush()
        return results

    def ingest(
        self, events: Sequence[Mapping[str, Any]], *, checkpoint_every: int = 1
    ) -> AppendResult:
        """A mixed batch of many people's events (an importer's, a server's), answered in
        input order: ``record_many`` with each person's events grouped, and every touched
        person's model checkpointed once per batch by default, so people imported in bulk
        get their first prediction from a checkpoint rather than from their whole history.
        Events without a usable ``user_id`` go to the store alone, which rejects them with
        the field and reason."""
        groups: dict[str, list[int]] = {}
        loose: list[int] = []
        for i, event in enumerate(events):
            user = event.get("user_id") if isinstance(event, Mapping) else None
            (groups.setdefault(user, []) if isinstance(user, str) and user else loose).append(i)
        answers = self.record_many(
            {u: [events[i] for i in idx] for u, idx in groups.items()},
            checkpoint_every=checkpoint_every,
        )
        codes: list[Any] = ["rejected"] * len(events)
        ids: list[str | None] = [None] * len(events)
        rejections = []
        parts = [(idx, answers[u]) for u, idx in groups.items()]
        if loose:
            parts.append((loose, self.store.append([events[i] for i in loose])))
        for idx, part in parts:
            for pos, index in enumerate(idx):
                codes[index], ids[index] = part.codes[pos], part.client_event_ids[pos]
            rejections += [replace(r, index=idx[r.index]) for r in part.rejections]
        rejections.sort(key=lambda r: r.index)
        return AppendResult(codes=codes, client_event_ids=ids, rejections=rejections)

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

    def _after_own(self, user_id: str, events: list[Event]) -> None:
        """What only the worker that stored the events does: the found-in-slots check and
        the task panels of the sessions they came from (one load and save per session, and
        offers by prediction after its last command, once the model has learned them)."""
        shown: dict[str, Layout | None] = {}
        sessions: dict[str, list[str]] = {}
        control = self.in_control_group(user_id)
        for event in events:
            if event.kind is not EventKind.INVOKE:
                continue
            ctx = event.context
            if ctx.region is not None:
                if ctx.region not in shown:
                    shown[ctx.region] = self._layouts.previous(user_id, ctx.region)
                layout = shown[ctx.region]
                if layout is not None:
                    self.metrics.visible_check(
                        control=control, found=event.command in layout.visible
                    )
            sessions.setdefault(ctx.session_id or "default", []).append(event.command)
        for session_id, commands in sessions.items():
            self._panel_sessions.advance_many(user_id, session_id, commands)

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._flushed_at >= METRICS_FLUSH_S:
            self.flush_metrics()

    def flush_metrics(self) -> None:
        """Add this worker's pending metric increments to the shared counters (hosts also
        call it on shutdown)."""
        with self._lock:
            deltas = self.metrics.take()
            self._flushed_at = time.monotonic()
        if not deltas:
            return
        try:
            with self.engine.begin() as conn:
                counters.add(conn, deltas)
        except Exception:
            with self._lock:
                self.metrics.restore(deltas)
            raise

    # ------------------------------------------------------------------ decisions

    def predictions(
        self, user_id: str, *, k: int = 10, context: Context | None = None
    ) -> list[Prediction]:
        self.sync()
        record = self._current(user_id)
        return self._predictor.rank_state(record.state, context, k)

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
        self.sync()
        region = self._registry.region(region_id)  # KeyError-like error names the region
        choices = self._choices(user_id)
        record = self._current(user_id, choices)
        prof = _with_usage(choices, record)  # the record itself is needed below
        if self.in_control_group(user_id):
            prof = replace(prof, level=Level.OFF)
        previous = self._layouts.previous(user_id, region.id)
        # Nothing known about this person yet (new, erased or reset): the designer's
        # layout, exactly. The population prior starts helping from their first command.
        predictions = (
            self._predictor.rank_state(
                record.state, Context(region=region.id), len(self._registry.commands)
            )
            if record.events
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
            with self._lock:
                self.metrics.layout_update(region.id, decided.moves)
        return decided

    def default_layout(self, region_id: str) -> Layout:
        """The designer's layout of a region, for when nobody is signed in: there is no
        person to read usage or choices for, and nothing is stored."""
        self.sync()
        return decide_layout(
            registry=self._registry,
            region_id=region_id,
            predictions=(),
            profile=UserProfile(user_id="", level=Level.OFF),
        )

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

    def _choices(self, user_id: str) -> UserProfile:
        """What the person chose, read from the database on every call: an opt-out or a
        reset made through any worker holds everywhere at once."""
        with self.engine.connect() as conn:
            return profile_store.read_profile(conn, user_id)

    def _choices_many(self, user_ids: list[str]) -> dict[str, UserProfile]:
        with self.engine.connect() as conn:
            return profile_store.read_profiles(conn, user_ids)

    def _save_choices(self, prof: UserProfile) -> UserProfile:
        with Session(self.engine) as session:
            profile_store.save_profile(session=session, profile=_without_usage(prof))
        return prof

    def profile(self, user_id: str) -> UserProfile:
        """The person's choices (stored) joined with their usage statistics (learned)."""
        return self._joined(self._choices(user_id))

    def _joined(self, choices: UserProfile) -> UserProfile:
        """``choices`` (just read or just saved, so not read again) with the usage learned."""
        return _with_usage(choices, self._current(choices.user_id, choices))

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
        prof = change(self._choices(user_id), region=region, command=command, **extra)
        self._save_choices(prof)
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
        return self._joined(prof)

    def pin(self, user_id: str, *, region: str, command: str) -> UserProfile:
        return self._control(user_id, EventKind.PIN, region=region, command=command)

    def unpin(self, user_id: str, *, region: str, command: str) -> UserProfile:
        return self._control(user_id, EventKind.UNPIN, region=region, command=command)

    def hide(self, user_id: str, *, region: str, command: str) -> UserProfile:
        return self._control(user_id, EventKind.HIDE, region=region, command=command)

    def unhide(self, user_id: str, *, region: str, command: str) -> UserProfile:
        return self._control(user_id, EventKind.UNHIDE, region=region, command=command)

    def set_level(self, user_id: str, level: Level | str) -> UserProfile:
        return self._joined(self._save_choices(controls.set_level(self._choices(user_id), level)))

    def set_recording(self, user_id: str, enabled: bool) -> UserProfile:
        prof = controls.set_recording(self._choices(user_id), enabled)
        return self._joined(self._save_choices(prof))

    def set_retention(self, user_id: str, days: int) -> UserProfile:
        if not isinstance(days, int) or not 1 <= days <= 3650:
            raise ValueError(f"retention days must be an integer within 1..3650, got {days!r}")
        self._save_choices(replace(self._choices(user_id), retention_days=days))
        self.expire_old_events(user_id)
        return self.profile(user_id)

    def reset(self, user_id: str) -> UserProfile:
        """Forget the learned ranking, pins, hides and previous layouts; keep the history.
        A new learning epoch starts after the person's newest event: no event is read."""
        with self._lock:
            prof = controls.reset(self._choices(user_id))
            prof = replace(
                prof, model_epoch=_new_id()[:16], reset_seq=self.store.max_seq(user_id=user_id)
            )
            self._save_choices(prof)
            with self.engine.begin() as conn:
                user_records.remove(conn, user_id)
            self._layouts.delete_stored(user_id)
            self._cache.pop(user_id)
            self._panel_sessions.forget(user_id)
        return self._joined(prof)

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
        gets the designer default layout. Reads only this person's events (to subtract
        them from the population counts), never anyone else's."""
        with self._lock:
            events = self.store.user_events_with_seq(user_id)
            deleted = self.store.erase_user(user_id)
            self._cache.pop(user_id)
            self._panel_sessions.forget(user_id)
        # counted after the delete: a training run that read the log meanwhile sees the
        # counter move and is dropped (see ``_publish_trained``)
        with self.engine.begin() as conn:
            counters.add(conn, {counters.ERASURES: 1.0})
            mark = int(counters.value(conn, counters.ERASURES))
        self._subtract_from_population(events, mark)
        return deleted

    def _subtract_from_population(self, events: list[tuple[int, Event]], mark: int) -> None:
        """Publish a population version without this person's share: retried on the newest
        version until it lands or the newest was trained after the erasure."""
        for _attempt in range(20):
            with Session(self.engine) as session:
                artifact = model_store.load_population(session=session)
                if artifact is None or artifact.erasure_mark >= mark:
                    break
                counted = [ev for seq, ev in events if seq <= artifact.through_seq]
                if not counted:
                    break
                population = artifact.population.subtract_user(counted)
                population.users_ = max(0, population.users_)
                version = model_store.publish_population(
                    session=session,
                    population=population,
                    scorer=artifact.scorer,
                    through_seq=artifact.through_seq,
                    erasure_mark=artifact.erasure_mark,
                    events=max(0, artifact.events - len(counted)),
                    base_version=artifact.version,
                )
            if version is not None:
                break
        self._load_artifact()

    def expire_old_events(self, user_id: str | None = None) -> int:
        """Apply retention periods (one person's, or everyone's: the scheduled job). Only
        expired rows are touched; each affected person starts a new learning epoch, so
        their model is rebuilt from what remains the next time it is used."""
        now = self.clock()
        if user_id is not None:
            days = self._choices(user_id).retention_days
            affected = retention.expire_user(self.engine, user_id, days=days, now=now)
        else:
            affected = retention.expire_all(self.engine, now=now)
        removed = sum(affected.values())
        for uid in affected:
            with self._lock:
                self._save_choices(replace(self._choices(uid), model_epoch=_new_id()[:16]))
                with self.engine.begin() as conn:
                    user_records.remove(conn, uid)
                self._cache.pop(uid)
        return removed

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

    def recent_users(self, limit: int = 50) -> list[str]:
        """People whose models changed most recently (an indexed read of at most ``limit``
        rows: a designer's preview list must not grow with the number of users)."""
        table = model_store.UserModelState.__table__  # type: ignore[attr-defined]
        stmt = (
            select(table.c.user_id)
            .where(table.c.model_name == user_records.MODEL_NAME)
            .order_by(table.c.updated_at.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def live_metrics(self) -> dict[str, Any]:
        """Every worker's counters summed (this one's pending increments flushed first)."""
        self.flush_metrics()
        with self.engine.connect() as conn:
            totals = counters.read(conn, prefix="metrics.")
        data = readout(totals)
        data["control_percent"] = self.control_percent
        return data

    def usage_series(self, *, days: int = 30) -> list[dict[str, Any]]:
        """Invocations per command per day (UTC), for the usage plot."""
        return usage_series(engine=self.engine, since=self.clock() - days * 86400.0)

    # ------------------------------------------------------------------ cluster jobs

    def start_jobs(self, *, retrain_every_s: float, retention_every_s: float = 3600.0) -> None:
        """Run the cluster's periodic jobs from this worker when it holds their lease:
        retraining and retention each run once per period across all workers."""
        if self._jobs is not None and self._jobs.is_alive():
            raise RuntimeError("jobs are already running")
        self._stop_jobs.clear()
        periods = {"retrain": retrain_every_s, "retention": retention_every_s}

        def loop() -> None:
            while not self._stop_jobs.is_set():
                for job, period in periods.items():
                    if period > 0 and leases.acquire(self.engine, job, self.worker, period):
                        try:
                            if job == "retrain":
                                self.retrain_population().result()
                            else:
                                self.expire_old_events()
                        except Exception as exc:  # noqa: BLE001 - a job must not kill the loop
                            print(f"warning: {job} job failed: {exc!r}", file=sys.stderr)
                self._stop_jobs.wait(min(p for p in periods.values() if p > 0) / 4)

        self._jobs = threading.Thread(target=loop, name="engine-jobs", daemon=True)
        self._jobs.start()

    def stop_jobs(self) -> None:
        self._stop_jobs.set()
        if self._jobs is not None:
            self._jobs.join(timeout=30)
            self._jobs = None

    def close(self) -> None:
        """Flush metrics, stop jobs and the trainer, release connections."""
        self.stop_jobs()
        if self.metrics.pending:
            self.flush_metrics()
        self.trainer.stop(wait=False)
        self.engine.dispose()


def _offer_commands(registry: Registry) -> set[str]:
    """The commands whose predicted probability can offer a task panel (fixed per registry
    version, so not recomputed for every person of every batch)."""
    return {
        command
        for task in registry.tasks
        if task.trigger.probability is not None
        and (command := task_start_command(task)) is not None
    }


def _slice(result: AppendResult, start: int, n: int) -> AppendResult:
    """The part of a combined append's answer that belongs to one person's events."""
    rejections = [
        replace(r, index=r.index - start) for r in result.rejections if start <= r.index < start + n
    ]
    return AppendResult(
        codes=result.codes[start : start + n],
        client_event_ids=result.client_event_ids[start : start + n],
        rejections=rejections,
    )


def _with_usage(choices: UserProfile, record: UserRecord) -> UserProfile:
    usage = record.usage
    return replace(
        choices,
        counts=dict(usage.counts),
        last_used=dict(usage.last_used),
        last_command=usage.last_command,
        first_seen=usage.first_seen,
    )


def _without_usage(prof: UserProfile) -> UserProfile:
    """Usage is learned from the log, never stored in the profile row."""
    return replace(prof, counts={}, last_used={}, last_command=None, first_seen=None)


_instance: Personalizer | None = None
_instance_pid = 0
_instance_lock = threading.Lock()


def get_personalizer() -> Personalizer:
    """The process-wide engine (URL from ``ADAPTIVE_DB_URL``), created on first use.

    Fork-aware: Reflex builds pages in a supervisor process and forks the backend workers,
    so an engine made before the fork arrives in the worker without its job threads and
    with the parent's database connections. A worker therefore gets its own engine on first
    use. Every worker runs the job loop; the leases make each job run once per cluster."""
    global _instance, _instance_pid
    with _instance_lock:
        if _instance is not None and _instance_pid != os.getpid():
            _instance.engine.dispose(close=False)  # the parent's connections stay the parent's
            _instance = None
        if _instance is None:
            _instance = Personalizer()
            _instance_pid = os.getpid()
            interval = float(os.environ.get("ADAPTIVE_RETRAIN_INTERVAL_S", "3600"))
            keep = float(os.environ.get("ADAPTIVE_RETENTION_INTERVAL_S", "3600"))
            if interval > 0 or keep > 0:
                _instance.start_jobs(retrain_every_s=interval, retention_every_s=keep)
            atexit.register(_flush_at_exit, _instance)
        return _instance


def _flush_at_exit(engine: Personalizer) -> None:
    """A worker that stops cleanly adds its last metric increments before it goes."""
    if engine.metrics.pending:
        with contextlib.suppress(Exception):  # the database may already be gone
            engine.flush_metrics()


def set_personalizer(personalizer: Personalizer | None) -> None:
    """Replace the process-wide engine (tests, or an embedding app with its own registry)."""
    global _instance, _instance_pid
    with _instance_lock:
        _instance = personalizer
        _instance_pid = os.getpid()
