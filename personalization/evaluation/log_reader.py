"""The one reader of our log files (CSV or JSON Lines, optionally gzipped), line by line.

Import and evaluation read the same files, so they must agree on what a line is: which
columns a header has, where a record starts, what makes a line unreadable. Both read
through ``LogReader``; they differ only in what they do with a bad line (the importer
reports it and goes on, evaluation stops at it) and with a good record (a row for the
store, an ``Event`` for a replay).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from personalization.errors import LogFormatError

REQUIRED_COLUMNS = ("user_id", "command")


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    field: str
    reason: str


Parsed = tuple[int, dict[str, Any] | None, LineError | None]
"""(line number, the record or ``None``, what was wrong or ``None``) for one line."""


def open_log(path: Path, *, errors: str = "strict") -> tuple[IO[bytes], IO[str]]:
    """The file and its text (``.gz`` decompressed). ``errors="replace"`` turns bytes that
    are not UTF-8 into U+FFFD, for a caller that rejects such lines rather than the file.
    ``utf-8-sig`` drops the byte-order mark spreadsheet exports put before "user_id"."""
    raw = path.open("rb")
    binary: IO[bytes] = gzip.GzipFile(fileobj=raw) if path.suffix.lower() == ".gz" else raw
    return raw, io.TextIOWrapper(binary, encoding="utf-8-sig", errors=errors, newline="")


def log_format(path: Path, text: IO[str]) -> str:
    """``jsonl`` or ``csv``: by the suffix under any ``.gz``, else by the first character."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if last in (".csv", ".txt"):
        return "csv"
    head = text.read(4096)
    text.seek(0)
    return "jsonl" if head.lstrip().startswith("{") else "csv"


class LogReader:
    """Iterates a log's lines as ``Parsed``. A CSV header lacking a required column raises
    ``LogFormatError`` (nothing in the file can be read); any other bad line is yielded as
    a ``LineError``. ``columns`` is every column name seen so far (CSV: the header, with
    names stripped and lower-cased; JSON Lines: the keys of every object)."""

    def __init__(self, text: IO[str], fmt: str, *, name: str) -> None:
        self.text, self.format, self.name = text, fmt, name
        self.columns: set[str] = set()

    def __iter__(self) -> Iterator[Parsed]:
        return self._csv() if self.format == "csv" else self._jsonl()

    def _csv(self) -> Iterator[Parsed]:
        reader = csv.reader(self.text)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            return
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise LogFormatError(
                f"{self.name}:1: header lacks column(s) {', '.join(missing)} "
                f"(found: {', '.join(header) or 'nothing'})"
            )
        self.columns.update(header)
        line = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a field over the size limit: skip the line, go on
                start, line = line + 1, reader.line_num
                yield start, None, LineError(start, "(line)", f"unreadable CSV: {exc}")
                continue
            start, line = line + 1, reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):  # shorter rows just leave trailing columns empty
                reason = f"more fields ({len(row)}) than the header has columns ({len(header)})"
                yield start, None, LineError(start, "(line)", reason)
                continue
            yield start, dict(zip(header, row, strict=False)), None

    def _jsonl(self) -> Iterator[Parsed]:
        for number, raw in enumerate(self.text, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield number, None, LineError(number, "(line)", f"not valid JSON: {exc.msg}")
                continue
            if not isinstance(record, dict):
                yield number, None, LineError(number, "(line)", "expected one JSON object per line")
                continue
            self.columns.update(record)
            yield number, record, None
