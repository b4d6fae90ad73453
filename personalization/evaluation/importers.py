"""Loading existing usage logs (CSV, JSON Lines, MSNBC) into an ``EventStore``.

Real logs are large and a little dirty, so the importer streams them in batches (memory
stays flat however big the file), keeps every good line when some are bad, and reports
each bad line by number and field. Every event gets a deterministic ``client_event_id``
(``<source>:<line>`` unless the file has its own), so importing the same file twice, or
resuming an interrupted import, stores nothing twice, and appending lines to a log and
importing it again adds just the new lines.

Lines are read by ``log_reader.LogReader``, as evaluation's ``datasets.iter_log`` reads them:
the importer reports a bad line and goes on where evaluation stops at it.

CLI: ``python -m personalization.importers PATH [--db URL]`` (``--msnbc`` for MSNBC).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from personalization.evaluation.datasets import LogFormatError, datasets_dir, msnbc
from personalization.evaluation.log_reader import (
    REQUIRED_COLUMNS,
    LineError,
    LogReader,
    log_format,
    open_log,
)
from personalization.store.event_store import AppendResult, EventStore
from personalization.types import CONTEXT_FIELDS

__all__ = [
    "ImportReport",
    "LineError",
    "LogFormatError",
    "import_log",
    "import_msnbc",
    "main",
    "source_name",
]

OPTIONAL_COLUMNS = ("client_event_id", "kind", *CONTEXT_FIELDS)
KNOWN_COLUMNS = frozenset((*REQUIRED_COLUMNS, "timestamp", *OPTIONAL_COLUMNS))
MAX_ERROR_DETAILS = 1000
_ID_FIELDS = frozenset(("user_id", "command", *OPTIONAL_COLUMNS))


@dataclass(slots=True)
class ImportReport:
    """What an import did. ``errors`` holds the first ``MAX_ERROR_DETAILS`` bad lines;
    ``rejected`` counts them all."""

    source: str
    format: str
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[LineError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        lines = [
            f"{self.source} ({self.format}): {self.events} events read, {self.accepted} stored, "
            f"{self.duplicates} already present, {self.rejected} rejected "
            f"in {self.seconds:.1f} s"
        ]
        if self.ignored_columns:
            lines.append(f"ignored columns (never stored): {', '.join(self.ignored_columns)}")
        for err in self.errors[:20]:
            lines.append(f"  line {err.line}: {err.field}: {err.reason}")
        if self.rejected > 20:
            lines.append(f"  ... and {self.rejected - 20} more bad lines")
        return "\n".join(lines)


def source_name(path: Path) -> str:
    """The id prefix for a file: its name (``events.csv``; a ``.gz`` suffix is dropped so
    compressing a log does not change its ids), squeezed into the id charset and short
    enough that ``<source>:<line>`` fits the 64-character id."""
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[-40:] or "log"


def _clean(name: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if name in _ID_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # numeric user ids in JSON logs
    return value


def _to_event(record: dict[str, Any], *, source: str, line: int) -> dict[str, Any]:
    event: dict[str, Any] = {}
    for name, value in record.items():
        if name not in KNOWN_COLUMNS:
            continue
        value = _clean(name, value)
        if value is None:
            continue  # empty timestamp: no clock, so file order is the time order
        event["client_time" if name == "timestamp" else name] = value
    event.setdefault("client_event_id", f"{source}:{line}")
    return event


def _bar(progress: bool, total: int | None, unit: str) -> tqdm:
    return tqdm(
        total=total,
        unit=unit,
        unit_scale=True,
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )


Sink = Callable[[list[dict[str, Any]]], AppendResult]
"""Where batches go: ``EventStore.append`` (store only), or ``Personalizer.ingest``
(store, then update each touched person's model once per batch)."""


class _Batcher:
    """Collects events, appends them in batches and folds the results into the report."""

    def __init__(self, store: EventStore | Sink, report: ImportReport, batch: int) -> None:
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.append: Sink = store.append if isinstance(store, EventStore) else store
        self.report, self.batch = report, batch
        self.events: list[dict[str, Any]] = []
        self.lines: list[int] = []

    def error(self, err: LineError) -> None:
        self.report.rejected += 1
        if len(self.report.errors) < MAX_ERROR_DETAILS:
            self.report.errors.append(err)

    def add(self, line: int, event: dict[str, Any]) -> bool:
        """Queue one event; True when a batch was written."""
        self.events.append(event)
        self.lines.append(line)
        if len(self.events) >= self.batch:
            self.flush()
            return True
        return False

    def flush(self) -> None:
        if not self.events:
            return
        result = self.append(self.events)
        self.report.events += len(self.events)
        self.report.accepted += result.accepted
        self.report.duplicates += result.duplicates
        for rej in result.rejections:
            self.error(LineError(self.lines[rej.index], rej.field, rej.reason))
        self.events, self.lines = [], []


def import_log(
    store: EventStore | Sink,
    path: str | Path,
    *,
    batch: int = 5000,
    progress: bool = True,
    source: str | None = None,
) -> ImportReport:
    """Import a CSV or JSON Lines log (optionally ``.gz``) with columns ``user_id``,
    ``command``, optional ``timestamp`` (epoch seconds or ISO-8601; empty means file order)
    and optional context columns. Unknown columns are ignored and listed in the report:
    they may hold free text, which the store never keeps.

    ``source`` overrides the id prefix (default: the file name); give two different files
    with the same name distinct sources, or their lines collide and count as duplicates.
    """
    path = Path(path)
    started = time.perf_counter()
    prefix = source if source is not None else source_name(path)
    # Undecodable bytes become U+FFFD, which the id charset rejects: the line is reported,
    # the rest of the file still imports.
    raw, text = open_log(path, errors="replace")
    with raw, text:
        fmt = log_format(path, text)
        report = ImportReport(source=str(path), format=fmt)
        batcher = _Batcher(store, report, batch)
        reader = LogReader(text, fmt, name=str(path))
        size = path.stat().st_size
        with _bar(progress, size, "B") as bar:
            done = 0
            for line, record, err in reader:
                if err is not None:
                    report.events += 1
                    batcher.error(err)
                elif record is not None and batcher.add(
                    line, _to_event(record, source=prefix, line=line)
                ):
                    pos = raw.tell()
                    bar.update(pos - done)
                    done = pos
            batcher.flush()
            bar.update(size - done)
        report.ignored_columns = sorted(reader.columns - KNOWN_COLUMNS)
    report.errors.sort(key=lambda e: e.line)
    report.seconds = time.perf_counter() - started
    return report


MSNBC_VISITORS = 989_818


def import_msnbc(
    store: EventStore | Sink,
    path: str | Path | None = None,
    limit: int | None = None,
    *,
    batch: int = 5000,
    progress: bool = True,
) -> ImportReport:
    """Import the MSNBC click log (visitor ``msnbc-<n>``, one event per page-category
    click, ``client_event_id`` ``msnbc:<position>``); ``limit`` caps the visitors."""
    source = Path(path) if path is not None else datasets_dir() / "msnbc" / "msnbc990928.seq.gz"
    started = time.perf_counter()
    report = ImportReport(source=str(source), format="msnbc")
    batcher = _Batcher(store, report, batch)
    total = MSNBC_VISITORS if limit is None else min(limit, MSNBC_VISITORS)
    with _bar(progress, total, "visitor") as bar:
        for visitor, (user, events) in enumerate(msnbc(source, limit_users=limit), start=1):
            for pos, ev in enumerate(events):
                batcher.add(
                    visitor,
                    {"client_event_id": f"msnbc:{pos}", "user_id": user, "command": ev.command},
                )
            if visitor % 1000 == 0:
                bar.update(1000)
        batcher.flush()
        bar.update(total - bar.n)
    report.seconds = time.perf_counter() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m personalization.importers",
        description="Import a usage log (CSV / JSON Lines, optionally .gz) into the event store.",
    )
    parser.add_argument("path", nargs="?", help="log file; with --msnbc, the .seq(.gz) file")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: ADAPTIVE_DB_URL)")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--source", default=None, help="id prefix (default: the file name)")
    parser.add_argument("--msnbc", action="store_true", help="import the MSNBC click log")
    parser.add_argument("--limit", type=int, default=None, help="MSNBC: at most this many")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--no-learn",
        action="store_true",
        help="only store the events (faster); people's models are then built from the log "
        "the first time each is used",
    )
    args = parser.parse_args(argv)
    if not args.msnbc and not args.path:
        parser.error("PATH is required (or use --msnbc)")
    if args.no_learn:
        store: Any = EventStore(args.db)
        sink: EventStore | Sink = store
    else:
        from personalization.engine.personalizer import (
            Personalizer,  # the store alone needs no engine
        )

        store = Personalizer(url=args.db)
        sink = store.ingest
    try:
        if args.msnbc:
            report = import_msnbc(
                sink, args.path, args.limit, batch=args.batch, progress=not args.no_progress
            )
        else:
            report = import_log(
                sink,
                args.path,
                batch=args.batch,
                progress=not args.no_progress,
                source=args.source,
            )
    except (LogFormatError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
