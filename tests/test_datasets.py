"""The log readers on real files: our CSV/JSONL format, Schonlau and MSNBC."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from personalization.evaluation.datasets import (
    LogFormatError,
    datasets_dir,
    group_by_user,
    iter_log,
    msnbc,
    schonlau,
    write_csv,
)
from personalization.types import Context, Event


def test_csv_with_context_and_iso_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "user_id,timestamp,command,route,device\n"
        "alice,2024-01-01T10:00:05Z,save,/docs,desktop\n"
        "bob,,open,,\n"
        "alice,1704103200,open,/docs,\n"
    )
    events = list(iter_log(path))
    assert [e.command for e in events] == ["save", "open", "open"]
    assert events[0].context == Context(route="/docs", device="desktop")
    assert events[0].timestamp == pytest.approx(1704103205.0)
    assert events[1].timestamp is None and events[1].context == Context()
    grouped = group_by_user(events)
    assert [e.command for e in grouped["alice"]] == ["open", "save"]  # sorted by time
    assert [e.command for e in grouped["bob"]] == ["open"]


def test_empty_timestamps_keep_file_order(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp,command\nu,,b\nu,,a\nu,,c\n")
    assert [e.command for e in group_by_user(iter_log(path))["u"]] == ["b", "a", "c"]


def test_jsonl_reads_the_same_fields(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    rows = [{"user_id": "u", "timestamp": 5, "command": "x", "route": "/a"}, {}]
    path.write_text(json.dumps(rows[0]) + "\n\n")
    [event] = list(iter_log(path))
    assert event == Event(user_id="u", command="x", timestamp=5.0, context=Context(route="/a"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("user_id,timestamp,command\nu,1,ok\nu,yesterday,save\n", r"log.csv:3: field 'timestamp'"),
        ("user_id,timestamp,command\nu,1,ok\n,2,save\n", r"log.csv:3: field 'user_id'"),
        ("user_id,timestamp,command\nu,1,\n", r"log.csv:2: field 'command'"),
        ("user_id,timestamp\nu,1\n", r"log.csv:1: header lacks column\(s\) command"),
        ("user_id,timestamp,command\nu,1,a,extra\n", r"log.csv:2: more fields"),
    ],
)
def test_bad_csv_lines_name_line_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(body)
    with pytest.raises(LogFormatError, match=message):
        list(iter_log(path))


def test_bad_jsonl_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"user_id": "u", "command": "a"}\n{"user_id": "u", \n')
    with pytest.raises(LogFormatError, match=r"log.jsonl:2: not valid JSON"):
        list(iter_log(path))


def test_write_csv_round_trips(tmp_path: Path) -> None:
    events = [
        Event("u1", "open", 10.5, Context(route="/x", task_id="t")),
        Event("u2", "save", None),
    ]
    path = tmp_path / "out.csv"
    assert write_csv(path, events) == 2
    assert list(iter_log(path)) == events


def test_schonlau_first_users_have_5000_clean_commands() -> None:
    users = list(schonlau(users=2))
    assert [u for u, _ in users] == ["User1", "User2"]
    first = (datasets_dir() / "schonlau" / "User1").read_text().split()
    assert [e.command for e in users[0][1]] == first[:5000]
    assert all(e.user_id == "User2" for e in users[1][1])


def test_schonlau_named_users_and_override_root(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "schonlau").mkdir()
    (tmp_path / "schonlau" / "UserX").write_text("ls\ncd\n\nls\n")
    monkeypatch.setenv("ADAPTIVE_DATASETS_DIR", str(tmp_path))
    [(name, events)] = list(schonlau(users=["UserX"]))
    assert name == "UserX" and [e.command for e in events] == ["ls", "cd", "ls"]
    with pytest.raises(FileNotFoundError, match="User1"):
        list(schonlau(users=1))


def test_msnbc_reads_categories_after_the_header() -> None:
    visitors = list(msnbc(limit_users=3))
    assert [v for v, _ in visitors] == ["msnbc-1", "msnbc-2", "msnbc-3"]
    assert [e.command for e in visitors[0][1]] == ["frontpage", "frontpage"]
    assert [e.command for e in visitors[1][1]] == ["news"]
    assert [e.command for e in visitors[2][1]][:3] == ["tech", "news", "news"]


def test_msnbc_rejects_unknown_category(tmp_path: Path) -> None:
    path = tmp_path / "bad.seq.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("h\n" * 7 + "1 2\n3 18\n")
    with pytest.raises(LogFormatError, match=r"bad.seq.gz:9: category '18'"):
        list(msnbc(path))
