"""Readers for real usage logs: our CSV / JSON Lines format, Schonlau's Unix data and MSNBC.

Evaluation and import must work on any real log, not only the bundled ones, so everything
funnels into the same ``Event`` stream. The third-party datasets are read in place from
``shared/datasets`` beside the project (never copied in); ``ADAPTIVE_DATASETS_DIR``
points elsewhere.

Log format (CSV with a header, or one JSON object per line): ``user_id,timestamp,command``
plus optional ``route,device,session_id,task_id,region,component``. ``timestamp`` is
seconds since the epoch or an ISO-8601 string; left empty, the file order is the time order.
"""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from personalization.errors import LogFormatError
from personalization.evaluation.log_reader import REQUIRED_COLUMNS, LogReader, log_format, open_log
from personalization.types import CONTEXT_FIELDS, EMPTY_CONTEXT, Context, Event

MSNBC_CATEGORIES = (
    "frontpage",
    "news",
    "tech",
    "local",
    "opinion",
    "on-air",
    "misc",
    "weather",
    "msn-news",
    "health",
    "living",
    "business",
    "msn-sports",
    "sports",
    "summary",
    "bbs",
    "travel",
)
SCHONLAU_USERS = tuple(f"User{i}" for i in range(1, 51))
SCHONLAU_CLEAN_PREFIX = 5000
MSNBC_HEADER_LINES = 7


def datasets_dir() -> Path:
    """Where the shared datasets live: beside the project root, or ``ADAPTIVE_DATASETS_DIR``."""
    override = os.environ.get("ADAPTIVE_DATASETS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "datasets"


def _parse_timestamp(raw: object, *, where: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise LogFormatError(f"{where}: field 'timestamp' must be a number or ISO-8601 text")
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise LogFormatError(
            f"{where}: field 'timestamp' is {text!r}, not seconds since the epoch or ISO-8601"
        ) from None


def _record_to_event(record: dict[str, object], *, where: str) -> Event:
    values: dict[str, str] = {}
    for name in REQUIRED_COLUMNS:
        raw = record.get(name)
        text = "" if raw is None else str(raw).strip()
        if not text:
            raise LogFormatError(f"{where}: field {name!r} is missing or empty")
        values[name] = text
    ctx_values = {}
    for name in CONTEXT_FIELDS:
        raw = record.get(name)
        text = "" if raw is None else str(raw).strip()
        ctx_values[name] = text or None
    context = Context(**ctx_values) if any(ctx_values.values()) else EMPTY_CONTEXT
    return Event(
        user_id=values["user_id"],
        command=values["command"],
        timestamp=_parse_timestamp(record.get("timestamp"), where=where),
        context=context,
    )


def _events(path: Path) -> Iterator[Event]:
    raw, text = open_log(path)
    with raw, text:
        for line, record, err in LogReader(text, log_format(path, text), name=str(path)):
            where = f"{path}:{line}"
            if err is not None:
                raise LogFormatError(f"{where}: {err.reason}")
            assert record is not None
            yield _record_to_event(record, where=where)


def iter_log(path: str | Path) -> Iterator[Event]:
    """Events of a CSV or JSON Lines log (optionally ``.gz``; see ``log_reader``), in file
    order. Raises ``LogFormatError`` naming the line at the first bad line: a measurement
    over a log with holes would not be the measurement it claims to be."""
    return _events(Path(path))


def group_by_user(events: Iterable[Event]) -> dict[str, list[Event]]:
    """Each user's events in time order. A stable sort keeps file order for equal or missing
    timestamps, so logs without clocks replay exactly as written."""
    grouped: dict[str, list[Event]] = {}
    for ev in events:
        grouped.setdefault(ev.user_id, []).append(ev)
    for user, evs in grouped.items():
        if any(ev.timestamp is not None for ev in evs):
            grouped[user] = sorted(
                evs, key=lambda e: float("-inf") if e.timestamp is None else e.timestamp
            )
    return grouped


def schonlau(
    root: str | Path | None = None, users: Iterable[str] | int | None = None
) -> Iterator[tuple[str, list[Event]]]:
    """The clean first 5,000 commands of each Schonlau user (lines after that may be a
    masquerader's). ``users`` is a list of names like ``"User7"`` or a count from User1."""
    base = Path(root) if root is not None else datasets_dir() / "schonlau"
    if users is None:
        names: Iterable[str] = SCHONLAU_USERS
    elif isinstance(users, int):
        names = SCHONLAU_USERS[:users]
    else:
        names = users
    for name in names:
        path = base / name
        if not path.is_file():
            raise FileNotFoundError(f"Schonlau user file not found: {path}")
        events: list[Event] = []
        with path.open(encoding="latin-1") as fh:
            for line in fh:
                command = line.strip()
                if command:
                    events.append(Event(user_id=name, command=command))
                if len(events) >= SCHONLAU_CLEAN_PREFIX:
                    break
        yield name, events


def msnbc(
    path: str | Path | None = None, limit_users: int | None = None
) -> Iterator[tuple[str, list[Event]]]:
    """MSNBC visitors in file order (``msnbc-<n>``, n from 1), one event per page-category
    click; category ids 1..17 become names like ``frontpage``."""
    source = Path(path) if path is not None else datasets_dir() / "msnbc" / "msnbc990928.seq.gz"
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="ascii") as fh:
        for _ in range(MSNBC_HEADER_LINES):
            next(fh, None)
        visitor = 0
        for number, line in enumerate(fh, start=MSNBC_HEADER_LINES + 1):
            if limit_users is not None and visitor >= limit_users:
                return
            tokens = line.split()
            if not tokens:
                continue
            visitor += 1
            user = f"msnbc-{visitor}"
            events = []
            for token in tokens:
                try:
                    command = MSNBC_CATEGORIES[int(token) - 1]
                    if int(token) < 1:
                        raise IndexError
                except (ValueError, IndexError):
                    raise LogFormatError(
                        f"{source}:{number}: category {token!r} is not an id in 1..17"
                    ) from None
                events.append(Event(user_id=user, command=command))
            yield user, events


def write_csv(path: str | Path, events: Iterable[Event]) -> int:
    """Write events in our CSV format (used to export slices for evaluation); returns rows."""
    count = 0
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(("user_id", "timestamp", "command", *CONTEXT_FIELDS))
        for ev in events:
            ts = "" if ev.timestamp is None else repr(ev.timestamp)
            ctx = [getattr(ev.context, name) or "" for name in CONTEXT_FIELDS]
            writer.writerow((ev.user_id, ts, ev.command, *ctx))
            count += 1
    return count
