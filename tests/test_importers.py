"""Importing real log files (CSV, JSON Lines, gzip, MSNBC) into a real SQLite store."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from personalization.evaluation.datasets import msnbc
from personalization.evaluation.importers import (
    LogFormatError,
    import_log,
    import_msnbc,
    main,
    source_name,
)
from personalization.store.event_store import EventStore

CSV_LOG = """user_id,timestamp,command,route,device,notes
alice,1700000000,open,/home,desktop,my private note
bob,,save,,,
alice,2024-01-01T00:00:00Z,rm -rf /,,,
alice,,export
bob,,undo,/x,,"a note
over two lines"
carol,soon,open,,,
alice,,close,,,,extra-field
"""


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    with EventStore(f"sqlite:///{tmp_path / 'store.db'}") as s:
        yield s


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def test_csv_keeps_good_lines_and_names_bad_ones(store: EventStore, tmp_path: Path) -> None:
    report = import_log(store, write(tmp_path / "events.csv", CSV_LOG), progress=False)
    assert report.format == "csv"
    assert (report.events, report.accepted, report.rejected) == (7, 4, 3)
    assert [(e.line, e.field) for e in report.errors] == [
        (4, "command"),
        (8, "client_time"),
        (9, "(line)"),
    ]
    assert report.ignored_columns == ["notes"]
    assert [e.command for e in store.history("bob")] == ["save", "undo"]
    assert store.count("carol") == 0


def test_free_text_columns_are_never_stored(store: EventStore, tmp_path: Path) -> None:
    import_log(store, write(tmp_path / "events.csv", CSV_LOG), progress=False)
    dumped = json.dumps([store.export_user(u) for u in ("alice", "bob")])
    assert "private note" not in dumped and "two lines" not in dumped


def test_empty_timestamps_keep_file_order(store: EventStore, tmp_path: Path) -> None:
    lines = ["user_id,timestamp,command"] + [f"dana,,cmd{i}" for i in range(30)]
    import_log(
        store, write(tmp_path / "order.csv", "\n".join(lines) + "\n"), batch=7, progress=False
    )
    assert [e.command for e in store.history("dana")] == [f"cmd{i}" for i in range(30)]
    assert [e.command for e in store.iter_events(user_id="dana")] == [f"cmd{i}" for i in range(30)]


def test_reimport_stores_nothing_twice_and_picks_up_appended_lines(
    store: EventStore, tmp_path: Path
) -> None:
    path = write(tmp_path / "grow.csv", "user_id,timestamp,command\neve,,a\neve,,b\n")
    assert import_log(store, path, progress=False).accepted == 2
    again = import_log(store, path, progress=False)
    assert (again.accepted, again.duplicates) == (0, 2)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("eve,,c\n")
    grown = import_log(store, path, progress=False)
    assert (grown.accepted, grown.duplicates) == (1, 2)
    assert [e.command for e in store.history("eve")] == ["a", "b", "c"]


def test_jsonl_lines_are_parsed_and_bad_lines_reported(store: EventStore, tmp_path: Path) -> None:
    content = "\n".join(
        [
            json.dumps({"user_id": "a", "command": "open", "timestamp": 1_700_000_000}),
            json.dumps({"user_id": 42, "command": "save", "kind": "pin"}),
            "{not json",
            "[1, 2]",
            "",
            json.dumps({"user_id": "a", "command": "x", "args": "secret"}),
            json.dumps({"user_id": "a", "command": "y", "client_event_id": "own-id"}),
        ]
    )
    report = import_log(store, write(tmp_path / "log.jsonl", content + "\n"), progress=False)
    assert report.format == "jsonl"
    assert (report.accepted, report.rejected) == (4, 2)
    assert [(e.line, e.field) for e in report.errors] == [(3, "(line)"), (4, "(line)")]
    assert report.ignored_columns == ["args"]
    assert store.history("42")[0].kind.value == "pin"
    assert [e.client_event_id for e in store.history("a")] == [
        "log.jsonl:1",
        "log.jsonl:6",
        "own-id",
    ]


def test_gzip_and_sniffed_formats(store: EventStore, tmp_path: Path) -> None:
    gz = tmp_path / "events.csv.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write("user_id,command\nfay,open\nfay,save\n")
    assert import_log(store, gz, progress=False).accepted == 2
    bare = write(tmp_path / "export", '{"user_id": "gus", "command": "open"}\n')
    report = import_log(store, bare, progress=False)
    assert (report.format, report.accepted) == ("jsonl", 1)


def test_spreadsheet_bom_and_oversized_fields(store: EventStore, tmp_path: Path) -> None:
    huge = "x" * 200_000  # beyond the csv module's field limit
    content = f'user_id,command,notes\nhal,open,\nhal,save,"{huge}"\nhal,close,\n'
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"\xef\xbb\xbf" + content.encode("utf-8"))
    report = import_log(store, path, progress=False)
    assert [(e.line, e.field) for e in report.errors] == [(3, "(line)")]
    assert "field" in report.errors[0].reason
    assert [e.command for e in store.history("hal")] == ["open", "close"]


def test_missing_required_column_is_a_clear_error(store: EventStore, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "user,timestamp,cmd\nx,,y\n")
    with pytest.raises(LogFormatError, match="user_id, command"):
        import_log(store, path, progress=False)
    assert store.count() == 0


def test_source_names_fit_the_id_charset() -> None:
    assert source_name(Path("/logs/my events (2024).csv.gz")) == "my_events__2024_.csv"
    assert len(source_name(Path("x" * 200 + ".csv"))) == 40


def test_cli_prints_the_report_and_shows_progress_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "cli.csv", CSV_LOG)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main([str(path), "--db", url, "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert (report["accepted"], report["rejected"]) == (4, 3)
    assert "%" in err  # the tqdm bar
    assert main([str(tmp_path / "missing.csv"), "--db", url]) == 2
    assert "missing.csv" in capsys.readouterr().err


def test_msnbc_slice_imports_every_click_once(store: EventStore) -> None:
    expected = sum(len(events) for _, events in msnbc(limit_users=300))
    report = import_msnbc(store, limit=300, batch=250, progress=False)
    assert (report.events, report.accepted, report.rejected) == (expected, expected, 0)
    assert store.count() == expected and len(store.users()) == 300
    first_user, first_events = next(msnbc(limit_users=1))
    assert [e.command for e in store.history(first_user)] == [e.command for e in first_events]
    again = import_msnbc(store, limit=300, progress=False)
    assert (again.accepted, again.duplicates) == (0, expected)


def test_a_learning_import_checkpoints_everyone_and_answers_like_a_store_only_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI learns by default: the same per-line answers as storing only, and each
    imported person has a model checkpoint, so their first prediction does not replay
    their whole history. ``--no-learn`` stores only."""
    from sqlalchemy import func, select

    from personalization.engine.personalizer import Personalizer
    from personalization.store.models import UserModelState

    path = write(tmp_path / "both.csv", CSV_LOG)
    learned, raw = f"sqlite:///{tmp_path / 'l.db'}", f"sqlite:///{tmp_path / 'r.db'}"
    assert main([str(path), "--db", learned, "--json", "--no-progress"]) == 0
    with_learning = json.loads(capsys.readouterr().out)
    assert main([str(path), "--db", raw, "--json", "--no-progress", "--no-learn"]) == 0
    store_only = json.loads(capsys.readouterr().out)
    for key in ("accepted", "duplicates", "rejected", "errors"):
        assert with_learning[key] == store_only[key]
    for url, expected in ((learned, True), (raw, False)):
        eng = Personalizer(url=url, control_percent=0)
        with eng.engine.connect() as conn:
            users = conn.execute(select(func.count()).select_from(UserModelState)).scalar()
        assert (users == len(eng.store.users())) is expected, url
        eng.close()
    a, b = Personalizer(url=learned), Personalizer(url=raw)
    for user in a.store.users():
        assert a.predictions(user) == b.predictions(user)  # the log rebuilds the same model
    a.close()
    b.close()
