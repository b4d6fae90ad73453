"""The evaluation command on small real files: known answers and the --json schema."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from personalization.evaluation.datasets import write_csv
from personalization.evaluation.evaluate import LEARNED, evaluate, load_dataset, main
from personalization.predict import BASELINES
from personalization.types import Context, Event

KEYS = {"hit@1", "hit@3", "hit@5", "mrr@10", "rank_us_p50", "rank_us_p99", "brier", "ece"}


def _tiny_csv(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.csv"
    path.write_text(
        "user_id,timestamp,command\n"
        + "".join(f"{u},,{c}\n" for u in ("u1", "u2") for c in ["a", "b", "a", "b"])
    )
    return path


def test_known_answer_on_a_tiny_log(tmp_path: Path, capsys) -> None:
    out = tmp_path / "result.json"
    code = main(
        ["--dataset", str(_tiny_csv(tmp_path)), "--json", str(out), "--workers", "1",
         "--methods", "most_frequent", "markov", "--quiet"]
    )  # fmt: skip
    assert code == 0
    data = json.loads(out.read_text())
    assert data["predictions"] == 6  # 2 users x (4 events - the first)
    # most frequent, per user: after "a" -> [a] misses b; after "a b" -> [b, a] (tie goes to
    # the latest) so a is 2nd; after "a b a" -> [a, b] so b is 2nd
    mf = data["methods"]["most_frequent"]
    assert mf["hit@1"] == 0.0
    assert mf["hit@3"] == pytest.approx(4 / 6)
    assert mf["mrr@10"] == pytest.approx((0 + 0.5 + 0.5) * 2 / 6)
    # markov: b has no successor yet at event 3 (falls back to frequency: a 2nd),
    # then a -> b was seen once, so b is 1st at event 4
    mk = data["methods"]["markov"]
    assert mk["hit@1"] == pytest.approx(2 / 6)
    assert mk["mrr@10"] == pytest.approx((0 + 0.5 + 1) * 2 / 6)
    assert "most_frequent" in capsys.readouterr().out


def _synthetic_log(tmp_path: Path, users: int = 8, length: int = 120) -> Path:
    rng = random.Random(7)
    routines = [["open", "edit", "save"], ["search", "open", "read"], ["mail", "reply"]]
    events = []
    for u in range(users):
        for i in range(length):
            routine = routines[(u + i // 9) % len(routines)]
            cmd = routine[i % len(routine)] if rng.random() > 0.15 else f"rare{rng.randrange(6)}"
            events.append(Event(f"user{u}", cmd, float(i), Context(route=f"/{routine[0]}")))
    path = tmp_path / "synthetic.csv"
    write_csv(path, events)
    return path


def test_json_schema_has_every_method(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    path = _synthetic_log(tmp_path, users=6, length=80)
    args = ["--dataset", str(path), "--json", str(out), "--workers", "1", "--folds", "3"]
    assert main([*args, "--quiet"]) == 0
    data = json.loads(out.read_text())
    assert {"dataset", "predictions", "model", "methods"} <= set(data)
    assert data["dataset"] == str(path) and data["model"] == LEARNED
    assert isinstance(data["predictions"], int) and data["predictions"] == 6 * 79
    assert set(data["methods"]) == {*BASELINES, LEARNED}
    for row in data["methods"].values():
        assert set(row) >= KEYS
        assert all(isinstance(row[k], float) for k in KEYS)
        assert 0.0 <= row["hit@1"] <= row["hit@3"] <= row["hit@5"] <= 1.0
        assert row["rank_us_p50"] <= row["rank_us_p99"]
    learned = data["methods"][LEARNED]
    assert learned["hit@5"] >= data["methods"]["most_frequent"]["hit@5"]


def test_parallel_workers_give_the_same_accuracy(tmp_path: Path) -> None:
    data = load_dataset(str(_synthetic_log(tmp_path, users=6, length=60)))
    methods = ["frecency", "context_blend", LEARNED]
    n1, serial = evaluate(data, folds=3, workers=1, methods=methods, progress=False)
    n2, parallel = evaluate(data, folds=3, workers=2, methods=methods, progress=False)
    assert n1 == n2 == 6 * 59
    for name in methods:
        assert serial[name].ranks.hits_at == parallel[name].ranks.hits_at


def test_users_limit_and_bad_arguments(tmp_path: Path) -> None:
    path = _synthetic_log(tmp_path, users=5, length=30)
    assert len(load_dataset(str(path), users=3)) == 3
    with pytest.raises(SystemExit, match="not schonlau, msnbc or an existing log file"):
        load_dataset(str(tmp_path / "missing.csv"))
    with pytest.raises(ValueError, match="unknown method"):
        evaluate(load_dataset(str(path)), methods=["oracle"], progress=False)


def test_schonlau_slice_learned_beats_frequency(tmp_path: Path) -> None:
    data = [(u, evs[:600]) for u, evs in load_dataset("schonlau", users=4)]
    n, results = evaluate(
        data, folds=2, workers=1, methods=["most_frequent", LEARNED], progress=False
    )
    assert n == 4 * 599
    assert results[LEARNED].ranks.hit(1) > results["most_frequent"].ranks.hit(1)


def test_bad_log_line_is_reported_not_raised(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("user_id,timestamp,command\nu,1,ls\nu,soon,cd\n")
    assert main(["--dataset", str(path), "--quiet"]) == 2
    assert "bad.csv:3: field 'timestamp'" in capsys.readouterr().err


def test_single_user_log_still_evaluates_every_method(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("user_id,timestamp,command\n" + "".join(f"me,,c{i % 3}\n" for i in range(30)))
    n, results = evaluate(load_dataset(str(path)), workers=1, progress=False)
    assert n == 29 and set(results) == {*BASELINES, LEARNED}
    # a strict cycle: once seen, the sequence models get it right
    assert results[LEARNED].ranks.hit(1) > 0.8
